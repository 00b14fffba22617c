package dev.scalpel.engine.train;

import dev.scalpel.engine.model.ComputeDevice;
import dev.scalpel.engine.model.Tensors;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.SplittableRandom;
import java.util.function.Predicate;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * APOLLO (Zhu et al., "APOLLO: SGD-like Memory, AdamW-level Performance", arXiv 2412.05270): AdamW's per-element
 * learning-rate scaling coarsened to one factor per channel (or per tensor for APOLLO-Mini), with the factors estimated
 * from Adam moments kept in a small random subspace. The update keeps AdamW's size while the state of a matrix falls
 * from AdamW's 2·k·c numbers to 2·r·c + r·k + 1 (notation below).
 *
 * <p>For a trainable matrix W [rows, cols] with gradient G, let k = min(rows, cols) be the dimension that is projected
 * away and c = max(rows, cols) the channels that keep their own scaling factor. Work on the oriented gradient
 * Gₒ [k, c] (G itself when rows ≤ cols, Gᵀ otherwise). At step t:
 * <ol>
 *   <li>P [r, k] with entries N(0, 1/r), drawn from (seed, parameter index, refresh count) and redrawn every T steps.
 *       Like the paper (and its reference code), the moments are kept across redraws.</li>
 *   <li>R = P·Gₒ [r, c]; Adam moments of R: M ← β₁M + (1−β₁)R, V ← β₂V + (1−β₂)R², and
 *       R̃ = M̂ / (√V̂ + ε) with the bias-corrected M̂ = M/(1−β₁ᵗ), V̂ = V/(1−β₂ᵗ).</li>
 *   <li>Channel-wise s_j = ‖R̃[:, j]‖ / ‖R[:, j]‖ (0 where ‖R[:, j]‖ = 0); APOLLO-Mini: one s = ‖R̃‖ / ‖R‖.</li>
 *   <li>G̃ = α · Gₒ · diag(s), the full-rank update direction. α = √(k/r) by default: a column of R̃ has r entries of
 *       magnitude about 1, so ‖R̃[:, j]‖ ≈ √r, whereas AdamW's direction for the same channel has k such entries, norm
 *       ≈ √k; since the projection preserves norms on average (‖R[:, j]‖ ≈ ‖Gₒ[:, j]‖), multiplying by √(k/r) gives
 *       the channel AdamW's update size. The same ratio holds for the tensor-wise s.</li>
 *   <li>Norm-growth limiter: if ‖G̃ₜ‖ &gt; γ·‖G̃ₜ₋₁‖ then G̃ₜ ← G̃ₜ · γ‖G̃ₜ₋₁‖ / ‖G̃ₜ‖ (‖G̃ₜ₋₁‖ is the norm after
 *       limiting, kept per matrix; nothing is limited while it is 0, as on a matrix's first update).</li>
 *   <li>W ← W·(1 − lr·λ) − lr·G̃ (decay only where {@link Trainable#decay()}).</li>
 * </ol>
 * Tensors of rank 3 and more are treated as matrices [size(0), rest]. Vectors and scalars (norm weights, biases, scalar
 * prefactors) get a plain AdamW update with the same β₁, β₂, ε and λ, and so do matrices the caller does not want
 * projected ({@link #inDecoderBlock}, the paper's choice: the embeddings and the LM head). Tensors without a gradient,
 * or with lrScale 0, are skipped (their moments do not move). The projection P is stored (not regenerated every step), so it counts in
 * {@link #stateBytes()}. Because P comes from a seeded Java RNG and is then copied to the parameter's device, the same
 * seed gives the same projections on every device.
 */
public final class Apollo implements Optimizer {

    /**
     * Learning-rate-independent hyper-parameters.
     *
     * @param rank            r, the projected rank; clipped per matrix to min(rows, cols)
     * @param refreshPeriod   T: the projection is redrawn at steps 1, T+1, 2T+1, …
     * @param scale           α; empty means √(k/r) per matrix, k = min(rows, cols) being the projected dimension
     * @param normGrowthLimit γ ≥ 1; {@link Double#POSITIVE_INFINITY} turns the limiter off
     * @param weightDecay     decoupled weight decay λ
     * @param seed            seeds every projection (with the parameter's index in the trainables list and the
     *                        refresh count)
     * @param tensorWise      tensor-wise scaling (one s per matrix, APOLLO-Mini's) instead of channel-wise; see
     *                        {@link #mini()}
     */
    public record Options(int rank, int refreshPeriod, OptionalDouble scale, double normGrowthLimit, double beta1,
                          double beta2, double eps, double weightDecay, long seed, boolean tensorWise) {
        public Options {
            require(rank >= 1, "rank must be at least 1, got " + rank);
            require(refreshPeriod >= 1, "refreshPeriod must be at least 1 step, got " + refreshPeriod);
            require(scale.isEmpty() || scale.getAsDouble() > 0, "scale must be positive, got " + scale);
            require(normGrowthLimit >= 1, "normGrowthLimit must be ≥ 1 (or +∞ to turn it off), got " + normGrowthLimit);
            require(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1, "betas must lie in [0, 1), got " + beta1 + ", " + beta2);
            require(eps > 0, "eps must be positive, got " + eps);
            require(weightDecay >= 0, "weightDecay must be ≥ 0, got " + weightDecay);
        }

        /** APOLLO as in the paper: rank 256, T = 200, α = √(k/r), γ = 1.01, β 0.9/0.999, ε 1e-8, no decay, seed 0. */
        public static Options defaults() {
            return new Options(256, 200, OptionalDouble.empty(), 1.01, 0.9, 0.999, 1e-8, 0.0, 0L, false);
        }

        /** APOLLO-Mini: the defaults with rank 1 and tensor-wise scaling. */
        public static Options mini() {
            return new Options(1, 200, OptionalDouble.empty(), 1.01, 0.9, 0.999, 1e-8, 0.0, 0L, true);
        }

        /** A copy with rank {@code r}. */
        public Options withRank(int r) {
            return new Options(r, refreshPeriod, scale, normGrowthLimit, beta1, beta2, eps, weightDecay, seed, tensorWise);
        }

        /** A copy that redraws projections every {@code t} steps. */
        public Options withRefreshPeriod(int t) {
            return new Options(rank, t, scale, normGrowthLimit, beta1, beta2, eps, weightDecay, seed, tensorWise);
        }

        /** A copy with norm-growth limit γ ({@link Double#POSITIVE_INFINITY}: no limiter). */
        public Options withNormGrowthLimit(double gamma) {
            return new Options(rank, refreshPeriod, scale, gamma, beta1, beta2, eps, weightDecay, seed, tensorWise);
        }

        /** A copy whose projections come from seed {@code s}. */
        public Options withSeed(long s) {
            return new Options(rank, refreshPeriod, scale, normGrowthLimit, beta1, beta2, eps, weightDecay, s, tensorWise);
        }

        private static void require(boolean ok, String message) {
            if (!ok) {
                throw new IllegalArgumentException("Apollo.Options: " + message);
            }
        }
    }

    private final List<Trainable> trainables;
    private final List<ParameterState> states;
    private final Options options;
    private final List<String> notes = new ArrayList<>();
    private long step;

    /**
     * How one matrix is optimised: projected rank r and channel-wise or tensor-wise scaling. A matrix so thin that its
     * projected state (2·r·c + r·k + 1 numbers) would not be smaller than AdamW's (2·k·c) — as for every head slice and
     * LoRA factor, where r is clipped to k — gets APOLLO-Mini's rank-1 tensor-wise scaling instead ({@code fellBack}).
     */
    public record MatrixPlan(int rank, boolean tensorWise, boolean fellBack, long k, long channels) {}

    /** The plan for a trainable of {@code shape} (rank ≥ 2) under {@code options}. */
    public static MatrixPlan plan(long[] shape, Options options) {
        long k = projectedDimension(shape);
        long c = java.util.Arrays.stream(shape).reduce(1, (a, b) -> a * b) / k;
        int rank = (int) Math.min(options.rank(), k);
        if (!options.tensorWise() && 2L * rank * c + (long) rank * k + 1 >= 2L * k * c) {
            return new MatrixPlan(1, true, true, k, c);
        }
        return new MatrixPlan(rank, options.tensorWise(), false, k, c);
    }

    /**
     * Allocates the state: for each matrix its zero moments and its first projection (refresh 0), for each vector or
     * scalar its zero AdamW moments. A trainable's position in the list is its index in the projection seeds.
     */
    public Apollo(List<Trainable> trainables, Options options) {
        this(trainables, options, t -> true);
    }

    /**
     * The paper's choice of what to project: matrices inside a decoder block (attention, MLP, LoRA factors and head
     * slices of them); the token embeddings and the LM head, which belong to no layer, keep AdamW moments.
     */
    public static boolean inDecoderBlock(Trainable t) {
        return dev.scalpel.engine.components.ModuleNames.layerOf(t.name()).isPresent();
    }

    /** As {@link #Apollo(List, Options)}, projecting only the matrices {@code projected} accepts (the rest: AdamW moments). */
    public Apollo(List<Trainable> trainables, Options options, Predicate<Trainable> projected) {
        this.options = options;
        this.trainables = List.copyOf(trainables);
        List<ParameterState> made = new ArrayList<>();
        for (int i = 0; i < this.trainables.size(); i++) {
            Tensor value = this.trainables.get(i).value();
            if (value.dim() >= 2 && projected.test(this.trainables.get(i))) {
                MatrixPlan plan = plan(Tensors.shape(value), options);
                if (plan.fellBack()) {
                    int r = (int) Math.min(options.rank(), plan.k());
                    notes.add(String.format(java.util.Locale.ROOT, "%s %s: rank-%d projected state would be %,d numbers, AdamW's %,d; "
                            + "it uses APOLLO-Mini's rank-1 tensor-wise scaling instead", this.trainables.get(i).name(),
                            java.util.Arrays.toString(Tensors.shape(value)), r, 2L * r * plan.channels() + (long) r * plan.k() + 1,
                            2L * plan.k() * plan.channels()));
                }
                made.add(new ProjectedMatrix(i, value, plan));
            } else {
                made.add(new DenseMoments(value));
            }
        }
        this.states = List.copyOf(made);
    }

    /** Bytes AdamW would keep for the same trainables (two moments of each tensor's shape), for comparisons. */
    public static long adamwStateBytes(List<Trainable> trainables) {
        long n = 0;
        for (Trainable t : trainables) {
            n += 2 * t.value().numel() * t.value().element_size();
        }
        return n;
    }

    @Override
    public List<Trainable> trainables() {
        return trainables;
    }

    @Override
    public long step() {
        return step;
    }

    @Override
    public void step(double baseLr) {
        step++;
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            for (int i = 0; i < trainables.size(); i++) {
                Trainable t = trainables.get(i);
                Tensor grad = t.value().grad();
                if (grad == null || grad.isNull() || !grad.defined() || t.lrScale() == 0) {
                    continue;
                }
                double lr = baseLr * t.lrScale();
                Tensor direction = states.get(i).direction(grad);                              // like W
                if (t.elementLrScale() == null) {
                    if (t.decay() && options.weightDecay() > 0) {
                        t.value().mul_(new Scalar(1 - lr * options.weightDecay()));
                    }
                    t.value().add_(direction, new Scalar(-lr));
                } else {
                    // per element: W ← W − lr·s ⊙ (λW + G̃), the same update with the rate lr·s of each element
                    Tensor update = t.decay() && options.weightDecay() > 0
                            ? direction.add(t.value(), new Scalar(options.weightDecay())) : direction;
                    t.value().sub_(update.mul(t.elementLrScale()).mul_(new Scalar(lr)));
                }
            }
        }
    }

    /** One line per matrix too thin to project (see {@link MatrixPlan}); empty when every matrix projects. */
    @Override
    public List<String> notes() {
        return List.copyOf(notes);
    }

    /**
     * Bytes of state: per matrix M and V [r, c], the stored projection P [r, k] and the previous update norm (one
     * number); per vector or scalar its two AdamW moments.
     */
    @Override
    public long stateBytes() {
        return states.stream().mapToLong(ParameterState::bytes).sum();
    }

    /**
     * {@code m.NAME}, {@code v.NAME} (projected or dense moments) and, per projected matrix, {@code norm.NAME} (the
     * limiter's last norm). The projections are not saved: they are redrawn from (seed, index, refresh) on resume.
     */
    @Override
    public Map<String, Tensor> state() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (int i = 0; i < trainables.size(); i++) {
            states.get(i).collect(trainables.get(i).name(), out);
        }
        return out;
    }

    @Override
    public void resumeAt(long step) {
        this.step = step;
        states.forEach(ParameterState::forgetProjection);
    }

    /** The projection P [r, k] now used for the trainable called {@code name}; null for vectors and scalars. */
    Tensor projection(String name) {
        for (int i = 0; i < trainables.size(); i++) {
            if (trainables.get(i).name().equals(name) && states.get(i) instanceof ProjectedMatrix m) {
                return m.projection;
            }
        }
        return null;
    }

    @Override
    public void close() {
        states.forEach(ParameterState::release);
    }

    /** m ← β₁m + (1−β₁)x;  v ← β₂v + (1−β₂)x², in place (m, v, x of one shape). */
    private void accumulate(Tensor m, Tensor v, Tensor x) {
        m.mul_(new Scalar(options.beta1())).add_(x, new Scalar(1 - options.beta1()));
        v.mul_(new Scalar(options.beta2())).addcmul_(x, x, new Scalar(1 - options.beta2()));
    }

    /** The bias-corrected Adam direction m̂ / (√v̂ + ε) at the current step, shaped like m. */
    private Tensor adamDirection(Tensor m, Tensor v) {
        double bias1 = 1 - Math.pow(options.beta1(), step);
        double bias2 = 1 - Math.pow(options.beta2(), step);
        Tensor denom = v.div(new Scalar(bias2)).sqrt().add_(new Scalar(options.eps())); // like v
        return m.div(new Scalar(bias1)).div_(denom);                                    // like m
    }

    /** The optimizer state of one trainable: turns its gradient into an update direction. */
    private interface ParameterState {
        /** The direction G̃ (shaped like the parameter) for this step; the caller applies W ← W − lr·G̃. */
        Tensor direction(Tensor grad);

        /** Puts the tensors a checkpoint saves into {@code out}, named after the trainable {@code name}. */
        void collect(String name, Map<String, Tensor> out);

        /** After a restore: the projection for the next step is redrawn (the step count changed under it). */
        default void forgetProjection() {}

        long bytes();

        void release();
    }

    /** A vector or scalar: plain AdamW moments of the parameter's own shape. */
    private final class DenseMoments implements ParameterState {
        private final Tensor m;
        private final Tensor v;

        DenseMoments(Tensor value) {
            m = torch.zeros_like(value);
            v = torch.zeros_like(value);
            m.retainReference();
            v.retainReference();
        }

        @Override
        public Tensor direction(Tensor grad) {
            accumulate(m, v, grad);
            return adamDirection(m, v); // like the parameter
        }

        @Override
        public void collect(String name, Map<String, Tensor> out) {
            out.put("m." + name, m);
            out.put("v." + name, v);
        }

        @Override
        public long bytes() {
            return (m.numel() + v.numel()) * m.element_size();
        }

        @Override
        public void release() {
            m.releaseReference();
            v.releaseReference();
        }
    }

    /** A matrix: random projection P, projected moments M, V and the previous update norm for the limiter. */
    private final class ProjectedMatrix implements ParameterState {
        private final int index;
        private final long[] shape;
        private final boolean transposed;  // rows > cols: the columns are projected, channels are rows
        private final long k;              // min(rows, cols): the projected dimension
        private final int rank;            // r = min(options.rank, k), or 1 for a matrix too thin to project
        private final boolean tensorWise;  // one scaling factor for the matrix (APOLLO-Mini, or a thin matrix)
        private final double alpha;
        private final Tensor m;             // [r, c]
        private final Tensor v;             // [r, c]
        private final Tensor previousNorm;  // [] ‖G̃ₜ₋₁‖ after limiting; 0 before the first update
        private Tensor projection;          // [r, k]
        private long refresh;

        ProjectedMatrix(int index, Tensor value, MatrixPlan plan) {
            this.index = index;
            this.shape = Tensors.shape(value);
            long rows = shape[0];
            long cols = value.numel() / rows;
            this.transposed = rows > cols;
            this.k = plan.k();
            long c = plan.channels();
            this.rank = plan.rank();
            this.tensorWise = plan.tensorWise();
            this.alpha = options.scale().orElse(Math.sqrt((double) k / rank));
            m = value.new_full(new long[] {rank, c}, new Scalar(0.0));
            v = value.new_full(new long[] {rank, c}, new Scalar(0.0));
            previousNorm = value.new_full(new long[] {}, new Scalar(0.0));
            m.retainReference();
            v.retainReference();
            previousNorm.retainReference();
            projection = draw(0, value);
        }

        @Override
        public Tensor direction(Tensor grad) {
            long wanted = (step - 1) / options.refreshPeriod();
            if (wanted != refresh) {
                projection.releaseReference();
                projection = draw(wanted, grad);
                refresh = wanted;
            }
            Tensor flat = grad.reshape(shape[0], -1);                     // [rows, cols]
            Tensor g = transposed ? flat.t() : flat;                       // [k, c]
            Tensor r = projection.mm(g);                                   // [r, c]
            accumulate(m, v, r);
            Tensor rTilde = adamDirection(m, v);                           // [r, c]
            Tensor update = g.mul(scaling(rTilde, r)).mul_(new Scalar(alpha)); // [k, c]
            limitGrowth(update);
            return (transposed ? update.t() : update).reshape(shape);      // like the parameter
        }

        @Override
        public void collect(String name, Map<String, Tensor> out) {
            out.put("m." + name, m);
            out.put("v." + name, v);
            out.put("norm." + name, previousNorm);
        }

        @Override
        public void forgetProjection() {
            refresh = -1;
        }

        /** Channel-wise s [1, c] (or tensor-wise s [] for APOLLO-Mini); 0 where the projected gradient is 0. */
        private Tensor scaling(Tensor rTilde, Tensor r) {
            Tensor num;
            Tensor den;
            if (tensorWise) {
                num = rTilde.norm();                                       // []
                den = r.norm();                                            // []
            } else {
                Scalar two = new Scalar(2.0);
                long[] rowsOfR = {0};
                num = torch.linalg_vector_norm(rTilde, two, rowsOfR, true, new ScalarTypeOptional()); // [1, c]
                den = torch.linalg_vector_norm(r, two, rowsOfR, true, new ScalarTypeOptional());      // [1, c]
            }
            return num.div(den).where(den.gt(new Scalar(0.0)), new Scalar(0.0)); // like num
        }

        /** Scales {@code update} [k, c] in place so its norm grows at most γ-fold, and remembers the norm. */
        private void limitGrowth(Tensor update) {
            double gamma = options.normGrowthLimit();
            if (Double.isInfinite(gamma)) {
                return;
            }
            Tensor norm = update.norm();                                   // []
            Tensor cap = previousNorm.mul(new Scalar(gamma));              // []
            Tensor limited = previousNorm.gt(new Scalar(0.0)).logical_and(norm.gt(cap)); // [] bool
            Tensor factor = cap.div(norm).where(limited, new Scalar(1.0)); // []
            update.mul_(factor);
            previousNorm.copy_(norm.mul(factor));
        }

        /** P [r, k], entries N(0, 1/r) from (seed, index, refresh), on {@code like}'s device and dtype; retained. */
        private Tensor draw(long refreshCount, Tensor like) {
            float[] values = projectionValues(options.seed(), index, refreshCount, rank, k);
            Tensor p = Tensors.floats(values, ComputeDevice.CPU).view(rank, k).to(like); // [r, k]
            p.retainReference();
            return p;
        }

        @Override
        public long bytes() {
            return (m.numel() + v.numel() + projection.numel() + previousNorm.numel()) * m.element_size();
        }

        @Override
        public void release() {
            m.releaseReference();
            v.releaseReference();
            previousNorm.releaseReference();
            projection.releaseReference();
        }
    }

    /**
     * The entries of the projection P [r, k] (row-major) of the trainable at {@code index} after {@code refresh} redraws:
     * N(0, 1/r) from a SplittableRandom seeded by (seed, index, refresh). Public so that an exported job can use the
     * very same projections.
     */
    public static float[] projectionValues(long seed, int index, long refresh, int rank, long k) {
        SplittableRandom random = new SplittableRandom(mix(mix(mix(seed) + index) + refresh));
        float[] values = new float[Math.toIntExact(rank * k)];
        double std = 1 / Math.sqrt(rank);
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) (random.nextGaussian() * std);
        }
        return values;
    }

    /** The shape a trainable is treated as: [rows, cols] = [size(0), rest]; k = min, the projected dimension. */
    public static long projectedDimension(long[] shape) {
        long rows = shape[0];
        long cols = java.util.Arrays.stream(shape).reduce(1, (a, b) -> a * b) / rows;
        return Math.min(rows, cols);
    }

    /** A 64-bit finaliser (Stafford's variant 13) so that nearby seeds, indices and refreshes give unrelated streams. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }
}
