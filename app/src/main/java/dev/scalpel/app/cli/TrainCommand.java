package dev.scalpel.app.cli;

import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.edit.Edit;
import dev.scalpel.engine.edit.EditsFile;
import dev.scalpel.engine.files.OutputGuard;
import dev.scalpel.engine.files.OutputKind;
import dev.scalpel.engine.model.LoadedModel;
import dev.scalpel.engine.model.ModelHash;
import dev.scalpel.engine.spec.TrainSpec;
import dev.scalpel.engine.train.Apollo;
import dev.scalpel.engine.train.FineTuner;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code scalpel train}: trains the edit a spec describes on a frozen base model and writes an edits file. */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Head-LoRA, module LoRA or an isolated head fine-tune (optionally with per-head learning rates), "
                + "learn/unlearn objectives with retain KL; writes an edits file (the base model is never written).")
final class TrainCommand implements Callable<Integer> {
    @Mixin
    ModelOptions modelOptions;

    @Mixin
    RuntimeOptions runtimeOptions;

    @Option(names = "--spec", required = true, paramLabel = "SPEC.json", description = "The training spec (see the README).")
    Path specFile;

    @Option(names = "--out", required = true, paramLabel = "EDITS.json", description = "Where to write the edits file (+ .safetensors beside it).")
    Path out;

    @Option(names = "--eval-every", paramLabel = "K",
            description = "Every K steps, print the per-language CE of the edited model on the --data texts (default: the model's eval/*.txt), first 2,048 tokens each.")
    Integer evalEvery;

    @Mixin
    DataOptions dataOptions;

    @Option(names = "--live-generate", paramLabel = "PROMPT",
            description = "While training, continue PROMPT greedily with the live weights every --live-every steps, on a thread "
                    + "of its own (training never waits for it), and print the step it used and the text.")
    String liveGenerate;

    @Option(names = "--live-every", paramLabel = "K", defaultValue = "10",
            description = "Steps between live generations (default: ${DEFAULT-VALUE}).")
    int liveEvery;

    @Option(names = "--json", description = "Machine-readable summary.")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        if (liveEvery < 1) {
            throw new ScalpelException("--live-every must be at least 1, got " + liveEvery + ".");
        }
        TrainSpec trainSpec = TrainSpec.read(specFile);
        Path specDir = specFile.toAbsolutePath().getParent();
        var print = spec.commandLine().getOut();
        Path dir = modelOptions.modelDir();
        OutputGuard.files(OutputKind.EDITS, List.of(dir), out);   // refuse a bad --out before training, not after
        try (LoadedModel m = LoadedModel.open(dir, runtimeOptions.computeDevice());
             Edit edit = trainSpec.newEdit(m.model(), ModelHash.of(dir), specDir)) {
            FineTuner.Spec ft = trainSpec.fineTunerSpec();
            var data = new FineTuner.Data(TrainSpec.textTokens(m.tokenizer(), specDir, trainSpec.target(), "target"),
                    trainSpec.general() != null ? TrainSpec.textTokens(m.tokenizer(), specDir, trainSpec.general(), "general") : null,
                    trainSpec.retain() != null ? TrainSpec.textTokens(m.tokenizer(), specDir, trainSpec.retain(), "retain") : null,
                    m.config().bosTokenId() != null ? m.config().bosTokenId() : 0, trainSpec.teacherHooks(m.model(), specDir));
            if (!json) {
                print.printf("%s%ntrainable parameters: %,d of %,d (%.4f %%)%n", edit.describe(), edit.parameterCount(),
                        m.model().weights().parameterCount(), 100.0 * edit.parameterCount() / m.model().weights().parameterCount());
            }
            AtomicBoolean interrupted = new AtomicBoolean();
            Thread hook = new Thread(() -> interrupted.set(true));
            Runtime.getRuntime().addShutdownHook(hook);
            long t0 = System.nanoTime();
            FineTuner tuner = new FineTuner(m.model(), edit, ft);
            if (evalEvery != null) {
                Map<String, long[]> watched = new LinkedHashMap<>();
                dataOptions.texts(dir).forEach((name, text) -> {
                    long[] ids = m.tokenizer().encode(text);
                    watched.put(name, java.util.Arrays.copyOf(ids, Math.min(ids.length, 2048)));
                });
                tuner.evaluateEvery(evalEvery, watched, losses -> {
                    StringBuilder line = new StringBuilder("  eval:");
                    losses.forEach((name, l) -> line.append(String.format(Locale.ROOT, " %s %.4f", name, l.ce())));
                    if (!json) {
                        print.println(line);
                    }
                });
            }
            FineTuner.Result result;
            double trainSeconds;
            List<LiveSampler.Sample> liveSamples = null;
            try (LiveSampler sampler = liveGenerate == null ? null
                    : new LiveSampler(m, tuner.live(), liveGenerate, liveEvery, json ? null : print)) {
                long trainStart = System.nanoTime();
                result = tuner.run(data, p -> {
                    if (!json && (p.step() == 1 || p.step() % 10 == 0 || p.step() == p.totalSteps())) {
                        synchronized (print) {
                            print.printf(Locale.ROOT, "step %4d/%d  loss %.4f  target tokens processed %,d%n", p.step(), p.totalSteps(),
                                    p.loss(), p.tokens());
                        }
                    }
                    if (sampler != null) {
                        sampler.stepped(p.step());
                    }
                }, interrupted::get);
                trainSeconds = (System.nanoTime() - trainStart) / 1e9;
                if (sampler != null) {
                    sampler.close();
                    liveSamples = sampler.samples();
                }
            }
            Runtime.getRuntime().removeShutdownHook(hook);
            tuner.live().close();
            boolean diverged = result.stop() == FineTuner.Stop.DIVERGED;   // never saved: not even its last good step
            if (!diverged) {
                EditsFile.write(out, ModelHash.of(dir), List.of(edit), List.of(dir));
            }
            Map<String, Object> summary = new LinkedHashMap<>();
            summary.put("edit", edit.describe());
            summary.put("trainable_parameters", edit.parameterCount());
            summary.put("steps", result.steps());
            summary.put("target_tokens", result.targetTokens());
            summary.put("target_tokens_processed", result.targetTokensProcessed());
            summary.put("last_loss", result.lastLoss());
            summary.put("optimizer", ft.optimizer());
            summary.put("optimizer_state_bytes", result.optimizerStateBytes());
            summary.put("adamw_state_bytes", Apollo.adamwStateBytes(edit.trainables()));
            summary.put("optimizer_notes", result.optimizerNotes());
            summary.put("seconds", (System.nanoTime() - t0) / 1e9);
            summary.put("train_seconds", trainSeconds);
            if (liveSamples != null) {
                summary.put("live_samples", liveSamples.stream().map(x -> Map.of("step", x.step(), "text", x.text())).toList());
            }
            summary.put("stopped", result.stopReason());
            summary.put("diverged", diverged);
            summary.put("edits_file", diverged ? null : out.toString());
            if (json) {
                print.println(Json.write(summary));
            } else {
                print.printf(Locale.ROOT, "optimizer %s state: %,d bytes (AdamW on the same parameters: %,d)%n", ft.optimizer(),
                        result.optimizerStateBytes(), Apollo.adamwStateBytes(edit.trainables()));
                result.optimizerNotes().forEach(note -> print.println("  " + note));
                print.printf(Locale.ROOT, "%s; %s%n", result.stopReason() == null ? "done" : "stopped: " + result.stopReason(),
                        diverged ? "nothing was written" : "wrote " + out);
            }
            if (diverged) {
                spec.commandLine().getErr().println("error: training diverged: " + result.stopReason()
                        + ". Lower the learning rate (\"lr\" in the spec) and train again.");
                return 1;
            }
        }
        return 0;
    }
}
