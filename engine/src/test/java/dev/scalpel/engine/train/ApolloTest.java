package dev.scalpel.engine.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.scalpel.engine.model.ComputeDevice;
import dev.scalpel.engine.model.Tensors;
import dev.scalpel.engine.train.Optimizer.Trainable;
import java.util.Arrays;
import java.util.List;
import java.util.OptionalDouble;
import java.util.SplittableRandom;
import java.util.function.Function;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;

class ApolloTest {
    private static final int ROWS = 64;
    private static final int COLS = 128;
    private static final int SAMPLES = 256;
    private static final double NO_LIMIT = Double.POSITIVE_INFINITY;

    /** A float32 CPU tensor of the given shape with entries N(0, std²) from {@code seed} (std 0 gives zeros). */
    private static Tensor gaussian(long seed, double std, long... shape) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] values = new float[Math.toIntExact(Arrays.stream(shape).reduce(1, (a, b) -> a * b))];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) (random.nextGaussian() * std);
        }
        return Tensors.floats(values, ComputeDevice.CPU).view(shape).clone();
    }

    /** A leaf tensor that requires grad. */
    private static Tensor trainable(Tensor t) {
        t.requires_grad_(true);
        return t;
    }

    /**
     * Least squares: W [64, 128] and b [64], both from 0, fit W·X + b ≈ Y for fixed X [128, 256] ~ N(0, 1) and
     * Y = W*·X + b* + noise, with W*, b* ~ N(0, 0.3²) and noise ~ N(0, 0.1²). The loss starts at 11.7 (mostly W's
     * part) and its floor, the noise left over by the 129 fitted inputs, is 0.00486.
     */
    private static final class LeastSquares {
        final Tensor x = gaussian(1, 1.0, COLS, SAMPLES);                     // [128, 256]
        final Tensor y;                                                        // [64, 256]
        final Tensor w = trainable(gaussian(0, 0.0, ROWS, COLS));             // [64, 128]
        final Tensor b = trainable(gaussian(0, 0.0, ROWS));                   // [64]

        LeastSquares() {
            Tensor wStar = gaussian(2, 0.3, ROWS, COLS);                      // [64, 128]
            Tensor bStar = gaussian(3, 0.3, ROWS, 1);                         // [64, 1]
            y = wStar.mm(x).add(bStar).add(gaussian(4, 0.1, ROWS, SAMPLES)); // [64, 256]
        }

        /** Mean squared error over all 64 × 256 outputs, []. */
        Tensor loss() {
            return w.mm(x).add(b.unsqueeze(1)).sub(y).square().mean();       // [64, 256] → []
        }

        double lossValue() {
            try (PointerScope scope = new PointerScope()) {
                return loss().item_double();
            }
        }

        List<Trainable> trainables() {
            return List.of(Trainable.of("w", w), Trainable.of("b", b));
        }

        /** {@code steps} full-batch steps at a constant rate. */
        void train(Function<List<Trainable>, Optimizer> make, double lr, int steps) {
            try (Optimizer optimizer = make.apply(trainables())) {
                for (int i = 0; i < steps; i++) {
                    try (PointerScope scope = new PointerScope()) {
                        Tensor loss = loss();
                        optimizer.zeroGrad();
                        loss.backward();
                        optimizer.step(lr);
                    }
                }
            }
        }
    }

    private static double finalLoss(Function<List<Trainable>, Optimizer> make, double lr, int steps) {
        LeastSquares problem = new LeastSquares();
        problem.train(make, lr, steps);
        return problem.lossValue();
    }

    /**
     * Learning rates, each the best of {3e-3, 1e-2, 3e-2, 1e-1} for its optimizer at 200 steps: AdamW 3e-2; APOLLO and
     * APOLLO-Mini 1e-2. APOLLO's step is the raw gradient direction scaled to AdamW's size, so like SGD its stable rate
     * is bounded by the curvature: at 3e-2 APOLLO rank 8 still oscillates (0.012 after 200 steps).
     */
    @Test
    void apolloAndMiniFitLeastSquaresAsWellAsAdamW() {
        int steps = 200;
        double initial = new LeastSquares().lossValue();
        double adamw = finalLoss(t -> new AdamW(t, new AdamW.Options(3e-2, 0.9, 0.999, 1e-8, 0)), 3e-2, steps);
        double rank8 = finalLoss(t -> new Apollo(t, Apollo.Options.defaults().withRank(8)), 1e-2, steps);
        double mini = finalLoss(t -> new Apollo(t, Apollo.Options.mini()), 1e-2, steps);
        assertEquals(11.73, initial, 0.01, "initial loss");
        assertTrue(adamw < 0.0055, "AdamW reaches the noise floor 0.00486: " + adamw);
        for (double apolloLoss : new double[] {rank8, mini}) {
            assertTrue(apolloLoss < 0.1 * initial, "loss falls by > 90 %: " + initial + " -> " + apolloLoss);
            assertTrue(apolloLoss < 1.5 * adamw, "within 1.5x of AdamW's " + adamw + ": " + apolloLoss);
        }
    }

    @Test
    void theScaleAlphaBringsUpdatesToAdamWsSize() {
        // With α = 1 instead of √(64/8) the same rate takes steps √8 times too small and ends far from the floor.
        var unscaled = new Apollo.Options(8, 200, OptionalDouble.of(1.0), 1.01, 0.9, 0.999, 1e-8, 0, 0, false);
        double withAlpha = finalLoss(t -> new Apollo(t, Apollo.Options.defaults().withRank(8)), 1e-2, 200);
        double withoutAlpha = finalLoss(t -> new Apollo(t, unscaled), 1e-2, 200);
        assertTrue(withoutAlpha > 4 * withAlpha, "α = 1: " + withoutAlpha + " vs α = √8: " + withAlpha);
    }

    @Test
    void stateIsAFractionOfAdamWsOnTheSameMatrix() {
        Tensor w = trainable(gaussian(7, 0.1, ROWS, COLS));
        List<Trainable> onlyW = List.of(Trainable.of("w", w));
        long adamw;
        try (AdamW reference = new AdamW(onlyW, AdamW.Options.defaults(1e-3))) {
            adamw = reference.stateBytes();
        }
        assertEquals(2L * ROWS * COLS * 4, adamw);
        assertEquals(adamw, Apollo.adamwStateBytes(onlyW));
        try (Apollo rank8 = new Apollo(onlyW, Apollo.Options.defaults().withRank(8));
             Apollo mini = new Apollo(onlyW, Apollo.Options.mini())) {
            // M, V [8, 128], P [8, 64], previous update norm [] in float32
            assertEquals((2L * 8 * COLS + 8L * ROWS + 1) * 4, rank8.stateBytes());
            // M, V [1, 128], P [1, 64], previous update norm []
            assertEquals((2L * COLS + ROWS + 1) * 4, mini.stateBytes());
            assertTrue(rank8.stateBytes() < 0.25 * adamw, rank8.stateBytes() + " vs " + adamw);
            assertTrue(mini.stateBytes() < 0.05 * adamw, mini.stateBytes() + " vs " + adamw);
        }
    }

    /**
     * Issue 16: a matrix too thin for a projection to save memory — a LoRA factor [4, 256], where rank 256 is clipped
     * to k = 4 — gets APOLLO-Mini's rank-1 tensor-wise scaling and says so, instead of keeping more state than AdamW.
     */
    @Test
    void aMatrixTooThinToProjectFallsBackToTensorWiseScalingAndSaysSo() {
        Tensor thin = trainable(gaussian(3, 0.1, 4, 256));
        Tensor wide = trainable(gaussian(4, 0.1, ROWS, COLS));
        List<Trainable> both = List.of(Trainable.of("lora_A", thin), Trainable.of("w", wide));
        try (Apollo apollo = new Apollo(both, Apollo.Options.defaults().withRank(8))) {
            // thin: M, V [1, 256], P [1, 4], norm; wide (projects at rank 8): M, V [8, 128], P [8, 64], norm
            assertEquals((2L * 256 + 4 + 1 + 2L * 8 * COLS + 8L * ROWS + 1) * 4, apollo.stateBytes());
            assertEquals(1, apollo.notes().size(), apollo.notes().toString());
            assertTrue(apollo.notes().get(0).startsWith("lora_A [4, 256]: rank-4 projected state would be 2,065 numbers, AdamW's 2,048; "
                    + "it uses APOLLO-Mini's rank-1 tensor-wise scaling instead"), apollo.notes().get(0));
        }
        assertEquals(new Apollo.MatrixPlan(1, true, true, 4, 256), Apollo.plan(new long[] {4, 256}, Apollo.Options.defaults()));
        assertEquals(new Apollo.MatrixPlan(8, false, false, 64, 128), Apollo.plan(new long[] {ROWS, COLS}, Apollo.Options.defaults().withRank(8)));
        assertEquals(new Apollo.MatrixPlan(2, false, false, 4, 256), Apollo.plan(new long[] {4, 256}, Apollo.Options.defaults().withRank(2)),
                "rank 2 of k = 4 does save: 2·2·256 + 2·4 + 1 < 2·4·256");
    }

    @Test
    void vectorsGetPlainAdamW() {
        LeastSquares viaApollo = new LeastSquares();
        LeastSquares viaAdamW = new LeastSquares();
        Apollo.Options options = Apollo.Options.defaults();
        var adamOptions = new AdamW.Options(1e-2, options.beta1(), options.beta2(), options.eps(), 0);
        // Only the bias is trained; W stays 0 in both.
        viaApollo.train(t -> new Apollo(List.of(t.get(1)), options), 1e-2, 20);
        viaAdamW.train(t -> new AdamW(List.of(t.get(1)), adamOptions), 1e-2, 20);
        float[] expected = Tensors.toFloats(viaAdamW.b);
        float[] actual = Tensors.toFloats(viaApollo.b);
        assertTrue(Math.abs(expected[0]) > 0.1, "the bias moved: " + expected[0]);
        assertArrayEquals(expected, actual, 1e-6f);
    }

    @Test
    void sameSeedGivesBitIdenticalWeightsAndAnotherSeedDoesNot() {
        float[][] weights = new float[3][];
        long[] seeds = {11, 11, 12};
        for (int run = 0; run < 3; run++) {
            LeastSquares problem = new LeastSquares();
            Apollo.Options options = Apollo.Options.defaults().withRank(8).withRefreshPeriod(10).withSeed(seeds[run]);
            problem.train(t -> new Apollo(t, options), 1e-2, 30);
            weights[run] = Tensors.toFloats(problem.w);
        }
        assertArrayEquals(weights[0], weights[1]);
        assertFalse(Arrays.equals(weights[0], weights[2]), "another seed, other projections, other weights");
    }

    @Test
    void projectionIsRedrawnEveryTSteps() {
        // A tall matrix [128, 64]: the 64 columns are projected, each of the 128 rows is a channel.
        Tensor w = trainable(gaussian(0, 0.0, 128, 64));
        Tensor target = gaussian(8, 1.0, 128, 64);
        try (Apollo apollo = new Apollo(List.of(Trainable.of("w", w)), Apollo.Options.defaults().withRank(4).withRefreshPeriod(5))) {
            float[][] seen = new float[12][];
            seen[0] = Tensors.toFloats(apollo.projection("w"));
            assertArrayEquals(new long[] {4, 64}, Tensors.shape(apollo.projection("w")));
            for (int step = 1; step <= 11; step++) {
                try (PointerScope scope = new PointerScope()) {
                    apollo.zeroGrad();
                    w.sub(target).square().sum().backward();
                    apollo.step(1e-2);
                    seen[step] = Tensors.toFloats(apollo.projection("w"));
                }
            }
            for (int step = 1; step <= 11; step++) {
                boolean redrawn = step == 6 || step == 11; // steps 1, 6, 11 start refreshes 0, 1, 2
                assertEquals(redrawn, !Arrays.equals(seen[step - 1], seen[step]), "projection changed at step " + step);
            }
        }
    }

    @Test
    void projectionEntriesAreGaussianWithVarianceOneOverRank() {
        Tensor w = trainable(gaussian(0, 0.0, 600, 512));
        try (Apollo apollo = new Apollo(List.of(Trainable.of("w", w)), Apollo.Options.defaults().withRank(16))) {
            float[] p = Tensors.toFloats(apollo.projection("w"));                  // [16, 512]
            assertEquals(16 * 512, p.length);
            double mean = 0;
            double meanSquare = 0;
            for (float v : p) {
                mean += v / (double) p.length;
                meanSquare += v * (double) v / p.length;
            }
            assertEquals(0.0, mean, 0.01);
            assertEquals(1.0 / 16, meanSquare, 0.05 / 16); // 8192 samples: the standard error is 1.6 %
            assertNull(apollo.projection("no such tensor"));
        }
    }

    /**
     * ‖G̃ₜ‖ for 100 steps on loss sum(W ⊙ C): gradient C, then 10·C at the last step, read from the weight change
     * ‖Wₜ₊₁ − Wₜ‖ / lr (no decay). The spike comes late because early on the bias-corrected V̂ reacts so strongly to
     * a big gradient that the update shrinks (at step 6 an unlimited 10× spike gives 0.70× the update); after 99
     * steady steps it gives M̂ ≈ 1.9·R against √V̂ ≈ 1.43·|R|, so the unlimited update grows by about 1.33.
     */
    private static double[] updateNorms(double gamma) {
        Tensor w = trainable(gaussian(0, 0.0, 16, 32));
        Tensor c = gaussian(9, 1.0, 16, 32);
        double lr = 1e-2;
        double[] norms = new double[100];
        try (Apollo apollo = new Apollo(List.of(Trainable.of("w", w)), Apollo.Options.defaults().withRank(4).withNormGrowthLimit(gamma))) {
            for (int step = 0; step < norms.length; step++) {
                try (PointerScope scope = new PointerScope()) {
                    float[] before = Tensors.toFloats(w);
                    apollo.zeroGrad();
                    w.mul(c.mul(new Scalar(step == norms.length - 1 ? 10.0 : 1.0))).sum().backward();
                    apollo.step(lr);
                    float[] after = Tensors.toFloats(w);
                    double sum = 0;
                    for (int i = 0; i < after.length; i++) {
                        sum += Math.pow((double) after[i] - before[i], 2);
                    }
                    norms[step] = Math.sqrt(sum) / lr;
                }
            }
        }
        return norms;
    }

    @Test
    void normGrowthLimiterCapsASuddenTenfoldGradient() {
        double[] limited = updateNorms(1.01);
        double[] free = updateNorms(NO_LIMIT);
        int spike = limited.length - 1;
        for (int step = 1; step < spike; step++) {
            // A constant gradient gives R̃ = sign(R): the update keeps its norm and the limiter stays out of the way.
            assertEquals(1.0, limited[step] / limited[step - 1], 1e-4, "steady ratio at step " + step);
            assertEquals(free[step], limited[step], 1e-4 * free[step]);
        }
        double freeGrowth = free[spike] / free[spike - 1];
        assertTrue(freeGrowth > 1.2, "unlimited, the 10x gradient grows the update: " + freeGrowth);
        assertEquals(1.01, limited[spike] / limited[spike - 1], 1e-4, "limited growth");
    }

    @Test
    void zeroLrScaleLeavesATensorBitIdentical() {
        LeastSquares problem = new LeastSquares();
        problem.w.requires_grad_(false);
        problem.w.add_(gaussian(10, 0.5, ROWS, COLS));
        problem.w.requires_grad_(true);
        float[] wBefore = Tensors.toFloats(problem.w);
        float[] bBefore = Tensors.toFloats(problem.b);
        problem.train(t -> new Apollo(List.of(new Trainable("w", problem.w, 0.0, true), Trainable.of("b", problem.b)),
                Apollo.Options.defaults().withRank(8)), 1e-2, 10);
        assertArrayEquals(wBefore, Tensors.toFloats(problem.w));
        assertFalse(Arrays.equals(bBefore, Tensors.toFloats(problem.b)), "the bias, at lrScale 1, trained");
    }

    @Test
    void optionsRejectImpossibleValues() {
        assertThrows(IllegalArgumentException.class, () -> Apollo.Options.defaults().withRank(0));
        assertThrows(IllegalArgumentException.class, () -> Apollo.Options.defaults().withRefreshPeriod(0));
        assertThrows(IllegalArgumentException.class, () -> Apollo.Options.defaults().withNormGrowthLimit(0.5));
    }
}
