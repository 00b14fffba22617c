package dev.scalpel.app.cli;

import dev.scalpel.app.ScalpelHome;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.scalpel.app.ui.HeatmapBenchmark;
import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.bench.ForwardBenchmark;
import dev.scalpel.engine.bench.JobBenchmark;
import dev.scalpel.engine.model.CausalLM;
import dev.scalpel.engine.model.ComputeDevice;
import dev.scalpel.engine.model.ModelLoader;
import dev.scalpel.engine.model.NativeRuntime;
import dev.scalpel.engine.model.RandomLlamaCheckpoint;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code scalpel bench}: forward throughput next to a matmul peak and, when Python with transformers is given, next to
 * HF transformers' forward on the same checkpoint in the same run (ratios, not absolute times, are the result).
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Forward tokens/s and GFLOP/s vs a matmul peak and vs HF transformers (same checkpoint, same run); RSS over many steps.")
final class BenchCommand implements Callable<Integer> {
    @Mixin
    RuntimeOptions runtimeOptions;

    @Option(names = "--model", paramLabel = "DIR",
            description = "Model to measure (default: a random 9.3M-parameter Llama: 6 layers, d 256, 8 heads, vocab 8192).")
    Path model;

    @Option(names = "--batch", defaultValue = "4", description = "Sequences per pass (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--seq", defaultValue = "256", description = "Tokens per sequence (default: ${DEFAULT-VALUE}).")
    int seq;

    @Option(names = "--reps", defaultValue = "7", description = "Timed passes; the median is reported (default: ${DEFAULT-VALUE}).")
    int reps;

    @Option(names = "--leak-steps", defaultValue = "1000",
            description = "Forward steps (1×32 tokens) over which RSS growth is measured; 0 skips (default: ${DEFAULT-VALUE}).")
    int leakSteps;

    @Option(names = "--python", paramLabel = "EXE",
            description = "Python with torch + transformers for the HF peer (default: .venv/bin/python if present; 'none' skips).")
    String python;

    @Option(names = "--heatmap", description = "Instead: the workbench heatmap's redraw time at --layers × --heads (default 80 × 64) "
            + "against a one-node-per-head scene graph, in the same run (needs a display; xvfb-run works).")
    boolean heatmap;

    @Option(names = "--layers", defaultValue = "80", description = "Heatmap rows for --heatmap (default: ${DEFAULT-VALUE}).")
    int layers;

    @Option(names = "--heads", defaultValue = "64", description = "Heatmap columns for --heatmap (default: ${DEFAULT-VALUE}).")
    int heads;

    @Option(names = "--jobs", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Also time the gradient importance map against one forward + backward of the same rows, and a "
                    + "head-group swap against reloading the checkpoint (default: on; --no-jobs skips them).")
    boolean jobs;

    @Option(names = "--json", description = "Machine-readable output.")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        if (heatmap) {
            print(heatmapResult(HeatmapBenchmark.run(layers, heads, Math.max(reps, 30))));
            return 0;
        }
        ComputeDevice device = runtimeOptions.computeDevice();
        Path dir = model != null ? model : RandomLlamaCheckpoint.benchmarkSize().write(Files.createTempDirectory("scalpel-bench"), 1);
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("model", dir.toString());
        r.put("threads", NativeRuntime.threads());
        r.put("device", device.toString());
        r.put("shape", batch + "x" + seq);
        r.put("matmul_2048_gflops", ForwardBenchmark.matmulGflops(2048, 5, device));
        try (CausalLM m = ModelLoader.load(dir, device)) {
            r.put("parameters", m.weights().parameterCount());
            var t = ForwardBenchmark.forward(m, batch, seq, 2, reps);
            r.put("forward_tokens_per_s", t.tokensPerSecond());
            r.put("forward_gflops", t.gflops());
            r.put("forward_fraction_of_matmul_peak", t.gflops() / (double) r.get("matmul_2048_gflops"));
            JsonNode peer = runPeer(dir);
            if (peer != null) {
                double hf = peer.path("tokens_per_s").asDouble();
                r.put("hf_forward_tokens_per_s", hf);
                r.put("scalpel_over_hf", t.tokensPerSecond() / hf);
                r.put("hf_versions", "torch " + peer.path("torch").asText() + ", transformers " + peer.path("transformers").asText());
            }
            if (jobs) {
                var map = JobBenchmark.gradientMap(m, batch, seq, reps);
                r.put("gradient_map_seconds", map.mapSeconds());
                r.put("forward_backward_seconds", map.forwardBackwardSeconds());
                r.put("gradient_map_over_forward_backward", map.ratio());
                var swap = JobBenchmark.groupSwap(m, dir, device, reps);
                r.put("group_swap_heads", swap.heads());
                r.put("group_swap_in_and_out_ms", swap.swapMs());
                r.put("reload_ms", swap.reloadMs());
                r.put("reload_over_group_swap", swap.reloadOverSwap());
            }
            if (leakSteps > 0) {
                var drift = ForwardBenchmark.memoryDrift(m, leakSteps, 1, 32);
                r.put("rss_steps", drift.steps());
                r.put("rss_start_mib", drift.startMib());
                r.put("rss_end_mib", drift.endMib());
                r.put("rss_growth_mib", drift.growthMib());
            }
        }
        print(r);
        return 0;
    }

    private static Map<String, Object> heatmapResult(HeatmapBenchmark.Result b) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("heatmap", b.layers() + "x" + b.heads());
        r.put("reps", b.reps());
        r.put("heatmap_redraw_median_ms", b.redrawMedianMs());
        r.put("heatmap_redraw_p95_ms", b.redrawP95Ms());
        r.put("heatmap_redraw_over_60hz_frame", b.redrawOverFrameBudget());
        r.put("snapshot_only_median_ms", b.snapshotOnlyMs());
        r.put("canvas_redraw_and_raster_median_ms", b.canvasMedianMs());
        r.put("canvas_redraw_and_raster_p95_ms", b.canvasP95Ms());
        r.put("node_grid_median_ms", b.nodeGridMedianMs());
        r.put("node_grid_p95_ms", b.nodeGridP95Ms());
        r.put("canvas_over_node_grid", b.canvasOverNodeGrid());
        return r;
    }

    /** Runs tools/bench/hf_forward.py with the same checkpoint and shape; null when no Python peer is available. */
    private JsonNode runPeer(Path dir) throws IOException {
        Path script = ScalpelHome.find(Path.of("tools", "bench", "hf_forward.py"));
        String exe = python;
        if (exe == null) {
            Path venv = ScalpelHome.find(Path.of(".venv", "bin", "python"));
            exe = venv != null ? venv.toString() : null;
        }
        if (exe == null || exe.equals("none") || script == null) {
            return null;
        }
        List<String> cmd = new ArrayList<>(List.of(exe, script.toString(), "--model", dir.toString(), "--batch",
                String.valueOf(batch), "--seq", String.valueOf(seq), "--threads", String.valueOf(NativeRuntime.threads()),
                "--reps", String.valueOf(reps)));
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        try {
            if (p.waitFor() != 0) {
                throw new ScalpelException("The HF peer (" + String.join(" ", cmd) + ") failed; check that " + exe
                        + " has torch and transformers, or pass --python none.");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
        String last = out.substring(out.lastIndexOf('\n') + 1);
        return new ObjectMapper().readTree(last);
    }

    private void print(Map<String, Object> r) {
        var out = spec.commandLine().getOut();
        if (json) {
            out.println(Json.write(r));
            return;
        }
        r.forEach((k, v) -> out.printf("%-34s %s%n", k, v instanceof Double d ? String.format("%.3f", d) : v));
    }
}
