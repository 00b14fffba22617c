package dev.scalpel.engine.bench;

import dev.scalpel.engine.model.CausalLM;
import dev.scalpel.engine.model.ComputeDevice;
import dev.scalpel.engine.model.ForwardContext;
import dev.scalpel.engine.model.ModelConfig;
import dev.scalpel.engine.model.Tensors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Measurements that `scalpel bench` reports: a matmul peak, forward throughput of a model, and resident memory over
 * many forward steps (a native-memory leak shows as steady growth).
 */
public final class ForwardBenchmark {
    private ForwardBenchmark() {}

    /** Result of a throughput run. */
    public record Throughput(double tokensPerSecond, double gflops, double secondsPerPass) {}

    /** Resident set size at the start and end of a run of forward steps, in MiB. */
    public record MemoryDrift(int steps, double startMib, double endMib) {
        public double growthMib() {
            return endMib - startMib;
        }
    }

    /** GFLOP/s of an n×n by n×n float32 matmul on {@code device} (2n³ flops each), best of {@code reps}. */
    public static double matmulGflops(int n, int reps, ComputeDevice device) {
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            Tensor a = torch.randn(new long[] {n, n}, Tensors.floatOptions(device));
            Tensor b = torch.randn(new long[] {n, n}, Tensors.floatOptions(device));
            a.matmul(b); // warm-up
            double best = Double.MAX_VALUE;
            for (int i = 0; i < reps; i++) {
                long t0 = System.nanoTime();
                a.matmul(b).sum().item_float(); // item() waits for asynchronous devices
                best = Math.min(best, (System.nanoTime() - t0) / 1e9);
            }
            return 2.0 * n * n * n / best / 1e9;
        }
    }

    /** Forward passes over random [batch, seq] ids: tokens/s and GFLOP/s (see {@link #forwardFlops}), median of reps. */
    public static Throughput forward(CausalLM model, int batch, int seq, int warmup, int reps) {
        long[][] ids = randomIds(model.config().vocabSize(), batch, seq, 7);
        double[] seconds = new double[reps];
        try (NoGradGuard g = new NoGradGuard()) {
            for (int i = -warmup; i < reps; i++) {
                try (PointerScope scope = new PointerScope()) {
                    Tensor input = Tensors.ids(ids, model.device());
                    long t0 = System.nanoTime();
                    model.forward(input, ForwardContext.plain()).sum().item_float();
                    if (i >= 0) {
                        seconds[i] = (System.nanoTime() - t0) / 1e9;
                    }
                }
            }
        }
        java.util.Arrays.sort(seconds);
        double median = seconds[reps / 2];
        return new Throughput(batch * (double) seq / median, forwardFlops(model.config(), batch, seq) / median / 1e9, median);
    }

    /**
     * Matmul flops of one forward pass: 2 × (projection, MLP and unembedding weights) per token, plus QKᵀ and
     * attention×V over the causal half: 2 · 2 · (S²/2) · H·D per sequence and layer.
     */
    public static double forwardFlops(ModelConfig c, int batch, int seq) {
        double d = c.hiddenSize();
        double perLayerWeights = d * c.qWidth() * 2 + d * c.kvWidth() * 2 + 3 * d * c.intermediateSize();
        double weights = c.numLayers() * perLayerWeights + d * c.vocabSize();
        double tokens = (double) batch * seq;
        double attention = c.numLayers() * batch * 2.0 * seq * (double) seq * c.qWidth();
        return 2 * weights * tokens + attention;
    }

    /** Runs {@code steps} forward passes of [batch, seq], each in its own PointerScope, and reads RSS around them. */
    public static MemoryDrift memoryDrift(CausalLM model, int steps, int batch, int seq) {
        long[][] ids = randomIds(model.config().vocabSize(), batch, seq, 11);
        double start = 0;
        int warmup = Math.max(1, steps / 10);
        try (NoGradGuard g = new NoGradGuard()) {
            for (int i = 0; i < warmup + steps; i++) {
                if (i == warmup) {
                    System.gc();
                    start = rssMib();
                }
                try (PointerScope scope = new PointerScope()) {
                    model.forward(Tensors.ids(ids, model.device()), ForwardContext.plain()).sum().item_float();
                }
            }
        }
        System.gc();
        return new MemoryDrift(steps, start, rssMib());
    }

    /** This process's resident set size in MiB (Linux /proc), or NaN elsewhere. */
    public static double rssMib() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
                }
            }
        } catch (IOException | NumberFormatException e) {
            return Double.NaN;
        }
        return Double.NaN;
    }

    /** [batch, seq] token ids drawn uniformly from the vocabulary with {@code seed}. */
    static long[][] randomIds(int vocab, int batch, int seq, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        long[][] ids = new long[batch][seq];
        for (long[] row : ids) {
            for (int j = 0; j < seq; j++) {
                row[j] = r.nextInt(vocab);
            }
        }
        return ids;
    }
}
