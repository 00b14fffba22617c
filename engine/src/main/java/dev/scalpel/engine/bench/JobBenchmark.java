package dev.scalpel.engine.bench;

import dev.scalpel.engine.api.HeadId;
import dev.scalpel.engine.api.HeadSet;
import dev.scalpel.engine.api.ProgressListener;
import dev.scalpel.engine.edit.EditOverlay;
import dev.scalpel.engine.edit.TaskVectorEdit;
import dev.scalpel.engine.eval.TokenLoss;
import dev.scalpel.engine.groups.HeadGroup;
import dev.scalpel.engine.groups.HeadGroupRegistry;
import dev.scalpel.engine.importance.HeadImportance;
import dev.scalpel.engine.model.CausalLM;
import dev.scalpel.engine.model.ComputeDevice;
import dev.scalpel.engine.model.ForwardContext;
import dev.scalpel.engine.model.ModelLoader;
import dev.scalpel.engine.model.Tensors;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;

/**
 * Jobs of the workbench timed against the reference issue 14 names for them, in one process: the gradient importance
 * map against one forward + backward pass of the same rows with a gradient for every weight (what a training step
 * costs before its optimizer), and a head-group swap (in and out again) against reloading the checkpoint.
 */
public final class JobBenchmark {
    private JobBenchmark() {}

    /** Medians in seconds; {@link #ratio()} is the map's cost in units of one fwd+bwd. */
    public record GradientMapCost(double mapSeconds, double forwardBackwardSeconds) {
        public double ratio() {
            return mapSeconds / forwardBackwardSeconds;
        }
    }

    /** Medians in milliseconds of swapping {@code heads} heads in and out, and of loading the checkpoint again. */
    public record SwapCost(int heads, double swapMs, double reloadMs) {
        public double reloadOverSwap() {
            return reloadMs / swapMs;
        }
    }

    /**
     * The gradient map (HeadImportance, one batch of [batch, seq + 1] random ids: seq scored positions per row) against
     * a forward + backward of the mean next-token CE on the same rows through a full fine-tune's trainable deltas
     * ({@link TaskVectorEdit#fullFinetune}: a gradient for every weight, the base untouched); medians of {@code reps}
     * after one warm-up each.
     */
    public static GradientMapCost gradientMap(CausalLM model, int batch, int seq, int reps) {
        long[][] rows = ForwardBenchmark.randomIds(model.config().vocabSize(), batch, seq + 1, 13);
        long[] tokens = Arrays.stream(rows).flatMapToLong(Arrays::stream).toArray();
        var importance = new HeadImportance(model, new HeadImportance.Options(seq + 1, batch));
        double[] map = new double[reps];
        double[] step = new double[reps];
        try (TaskVectorEdit full = TaskVectorEdit.fullFinetune(model)) {
            EditOverlay overlay = new EditOverlay(List.of(full));
            full.setTraining(true);
            for (int i = -1; i < reps; i++) {
                long t0 = System.nanoTime();
                importance.compute(HeadImportance.Method.GRADIENT, "bench", tokens, null, "", "", ProgressListener.NONE);
                long t1 = System.nanoTime();
                forwardBackward(model, rows, overlay);
                long t2 = System.nanoTime();
                if (i >= 0) {
                    map[i] = (t1 - t0) / 1e9;
                    step[i] = (t2 - t1) / 1e9;
                }
            }
        }
        return new GradientMapCost(median(map), median(step));
    }

    private static void forwardBackward(CausalLM model, long[][] rows, EditOverlay overlay) {
        try (PointerScope scope = new PointerScope()) {
            int n = rows[0].length;
            Tensor ids = Tensors.ids(rows, model.device());                                        // [B, n]
            Tensor logits = model.forward(ids.narrow(1, 0, n - 1), ForwardContext.withOverlay(overlay)); // [B, n-1, V]
            TokenLoss.perToken(logits, ids.narrow(1, 1, n - 1)).mean().backward();
        }
    }

    /**
     * Swapping a head group of {@code heads} heads (the first heads of every layer, taken from the model itself) in and
     * out through {@link HeadGroupRegistry}, against {@link ModelLoader#load} of {@code dir}; medians of {@code reps}.
     */
    public static SwapCost groupSwap(CausalLM model, Path dir, ComputeDevice device, int reps) {
        int layers = model.config().numLayers();
        List<HeadId> chosen = new java.util.ArrayList<>();
        for (int l = 0; l < layers; l++) {
            chosen.add(new HeadId(l, 0));
        }
        HeadSet heads = HeadSet.of(chosen.toArray(HeadId[]::new));
        double[] swap = new double[reps];
        double[] reload = new double[reps];
        HeadGroup group = HeadGroup.extract(model, "", "bench", heads, Map.of());
        try (HeadGroupRegistry registry = new HeadGroupRegistry(model)) {
            for (int i = -1; i < reps; i++) {
                long t0 = System.nanoTime();
                registry.apply(group, HeadGroupRegistry.OnConflict.CANCEL);
                registry.swapOut(group.name());
                long t1 = System.nanoTime();
                try (CausalLM fresh = ModelLoader.load(dir, device)) {
                    long t2 = System.nanoTime();
                    if (i >= 0) {
                        swap[i] = (t1 - t0) / 1e6;
                        reload[i] = (t2 - t1) / 1e6;
                    }
                }
            }
        } finally {
            group.close();
        }
        return new SwapCost(chosen.size(), median(swap), median(reload));
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }
}
