package dev.scalpel.engine.train;

import dev.scalpel.engine.api.LanguageLoss;
import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.api.TrainingProgress;
import dev.scalpel.engine.edit.Edit;
import dev.scalpel.engine.edit.EditOverlay;
import dev.scalpel.engine.edit.LiveEdit;
import dev.scalpel.engine.eval.CrossEntropyEvaluator;
import dev.scalpel.engine.eval.TokenLoss;
import dev.scalpel.engine.model.CausalLM;
import dev.scalpel.engine.model.ForwardContext;
import dev.scalpel.engine.model.Hooks;
import dev.scalpel.engine.model.KvCache;
import dev.scalpel.engine.model.Tensors;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Trains an {@link Edit} (LoRA, head-LoRA, a head fine-tune, prefactors) on a frozen model. The base weights never
 * change: the edit's contribution is added through an overlay. Objectives:
 * <ul>
 *   <li>{@code learn}: next-token CE on target rows;</li>
 *   <li>{@code unlearn}: relu(ln V − CE_target), raising the target loss up to a uniform guess (optimizer momentum
 *       can carry it somewhat past ln V);</li>
 *   <li>{@code unlearn-uniform}: CE of the uniform distribution against the model's next-token distribution on target
 *       positions, pulling those predictions towards a uniform guess (target CE → ln V, not beyond);</li>
 *   <li>plus {@code retainWeight} · KL(base ‖ edited) of the next-token distributions on retain text.</li>
 * </ul>
 * With general text, a fraction {@code generalRatio} (default 25 %) of all training rows is general text under plain
 * next-token CE, whatever the objective, and it is that fraction of the loss: each step's loss is
 * (t·L_target + g·L_general) / B for its t target and g general rows. Rows are dealt so that after s steps exactly
 * ⌊generalRatio·B·s⌋ of them were general, so the ratio holds for any batch size (B = 1: every fourth step is general).
 * The target text is cut to {@code tokenBudget} tokens: training sees exactly those target tokens (and no others),
 * as many times as the steps take. A cancel keeps the last completed step. Each step is checked before it counts: a
 * non-finite loss, gradient or updated value stops training with {@link Stop#DIVERGED} and the edit restored to the
 * values of the last good step (taken before the bad step's update, so they are finite). After a step a frozen copy of
 * the edit is published on {@link #live()} when a reader asked for one (and after the last step, a cancel or a
 * divergence), so generation and evaluation can follow the training from other threads without the trainer copying
 * anything for nobody; {@link #evaluateEvery} reports per-language losses while it runs.
 */
public final class FineTuner {
    /** What the edit is trained to do. */
    public enum Objective {
        LEARN, UNLEARN, UNLEARN_UNIFORM, MATCH_TEACHER;

        /** "learn", "unlearn", "unlearn-uniform" or "match-teacher" (the spec's JSON names). */
        @com.fasterxml.jackson.annotation.JsonCreator
        public static Objective parse(String name) {
            for (Objective o : values()) {
                if (o.jsonName().equals(name)) {
                    return o;
                }
            }
            throw new ScalpelException("Unknown objective '" + name + "'; use learn, unlearn, unlearn-uniform or match-teacher.");
        }

        /** The name in a spec file. */
        @com.fasterxml.jackson.annotation.JsonValue
        public String jsonName() {
            return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
        }
    }

    /**
     * @param tokenBudget target tokens available to training (the text is cut to this many)
     * @param optimizer   "adamw", "apollo" or "apollo-mini"
     * @param frozenContext the first this many input positions of each target row are context: run once without
     *                    gradient, their keys/values kept fixed in a KV cache, and not scored; only the continuation
     *                    is trained through (the gradient reaches the continuation's projections, not the context's
     *                    K/V). 0 = off.
     */
    public record Spec(Objective objective, double retainWeight, double generalRatio, int tokenBudget, int steps,
                       int batchSize, int context, double lr, String optimizer, long seed, int frozenContext,
                       Apollo.Options apollo) {
        /** With APOLLO's defaults for {@code optimizer} (when it is apollo or apollo-mini). */
        public Spec(Objective objective, double retainWeight, double generalRatio, int tokenBudget, int steps,
                    int batchSize, int context, double lr, String optimizer, long seed, int frozenContext) {
            this(objective, retainWeight, generalRatio, tokenBudget, steps, batchSize, context, lr, optimizer, seed, frozenContext,
                    null);
        }

        /** Without frozen context. */
        public Spec(Objective objective, double retainWeight, double generalRatio, int tokenBudget, int steps,
                    int batchSize, int context, double lr, String optimizer, long seed) {
            this(objective, retainWeight, generalRatio, tokenBudget, steps, batchSize, context, lr, optimizer, seed, 0);
        }

        public Spec {
            if (frozenContext < 0 || frozenContext >= context - 1) {
                throw new ScalpelException("frozen_context must be in [0, context − 1), got " + frozenContext + ".");
            }
            if (tokenBudget < 1) {
                throw new ScalpelException("The token budget must be at least 1 target token, got " + tokenBudget + ".");
            }
            if (steps < 1 || batchSize < 1 || context < 2) {
                throw new ScalpelException("steps and batch size must be ≥ 1 and the context ≥ 2.");
            }
            if (generalRatio < 0 || generalRatio >= 1) {
                throw new ScalpelException("The general-data ratio must be in [0, 1), got " + generalRatio + ".");
            }
        }
    }

    /** Token ids (no BOS) of the texts; general and retain may be null. */
    public record Data(long[] target, long[] general, long[] retain, int bos, Hooks teacher) {
        /** Without a teacher. */
        public Data(long[] target, long[] general, long[] retain, int bos) {
            this(target, general, retain, bos, null);
        }
    }

    /** Why training ended. */
    public enum Stop {
        /** Every step ran. */
        COMPLETED,
        /** Cancelled; the edit is as of the last completed step. */
        CANCELLED,
        /** A loss, gradient or updated value was NaN or ±Inf; the edit is restored to the last good step. */
        DIVERGED
    }

    /**
     * @param steps        steps completed and kept
     * @param targetTokens distinct target tokens training saw (≤ the budget)
     * @param stop         why it ended
     * @param stopReason   in words, null when all steps ran (e.g. "the loss became NaN at step 3; …")
     * @param optimizerStateBytes memory of the optimizer's state (compare {@link Apollo#adamwStateBytes})
     * @param optimizerNotes what the optimizer did differently from its settings (e.g. APOLLO on a matrix too thin to project)
     */
    public record Result(long steps, long targetTokens, long targetTokensProcessed, double lastLoss, Stop stop,
                         String stopReason, long optimizerStateBytes, List<String> optimizerNotes) {}

    private final CausalLM model;
    private final Edit edit;
    private final Spec spec;
    private final LiveEdit live = new LiveEdit();
    private LiveEval liveEval;
    /** Bytes of residual streams kept for target rows below the edit's lowest layer; 0 runs every layer every step. */
    private long frozenPrefixBytes = DEFAULT_FROZEN_PREFIX_BYTES;
    private FrozenPrefix prefix;   // during run(): the target rows' streams, or null

    /** Per-language CE of the edited model every {@code everySteps} steps, reported to {@code listener}. */
    private record LiveEval(int everySteps, Map<String, long[]> texts, Consumer<Map<String, LanguageLoss>> listener) {}

    /** Residual streams kept per run for the frozen prefix (256 MiB). */
    static final long DEFAULT_FROZEN_PREFIX_BYTES = 256L << 20;

    public FineTuner(CausalLM model, Edit edit, Spec spec) {
        this.model = model;
        this.edit = edit;
        this.spec = spec;
    }

    /**
     * Evaluates the edited model on {@code texts} (name → ids, no BOS) every {@code everySteps} optimizer steps, in
     * windows of the spec's context, and reports name → loss to {@code listener}.
     */
    public FineTuner evaluateEvery(int everySteps, Map<String, long[]> texts, Consumer<Map<String, LanguageLoss>> listener) {
        if (everySteps < 1) {
            throw new ScalpelException("Live evaluation needs an interval of at least 1 step, got " + everySteps + ".");
        }
        this.liveEval = new LiveEval(everySteps, java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(texts)), listener);
        return this;
    }

    /**
     * How many bytes of residual streams to keep for the target rows (the stream entering the edit's lowest layer, so
     * that later steps run only the layers from there; exact, since the layers below cannot change); 0 turns it off.
     */
    public FineTuner frozenPrefixBytes(long bytes) {
        this.frozenPrefixBytes = bytes;
        return this;
    }

    /**
     * The edit as of the last completed step, for generation and evaluation while training runs (train while
     * serving); readers {@link LiveEdit#acquire()} it per forward pass.
     */
    public LiveEdit live() {
        return live;
    }

    public Result run(Data data, Consumer<TrainingProgress> progress, BooleanSupplier cancelled) {
        if (data.target() == null || data.target().length == 0) {
            throw new ScalpelException("The target text has no tokens; give a text to train on.");
        }
        Batches batches = new Batches(data);
        long[] target = batches.target;
        int length = batches.length;
        int batch = spec.batchSize();
        EditOverlay overlay = new EditOverlay(List.of(edit));
        List<Optimizer.Trainable> trainables = edit.trainables();
        double lnV = Math.log(model.config().vocabSize());
        long processed = 0;
        double lastLoss = Double.NaN;
        edit.setTraining(true);
        long start = System.nanoTime();
        OptionalInt first = FrozenPrefix.firstLayer(edit);
        boolean prefixApplies = first.isPresent() && frozenPrefixBytes > 0 && spec.frozenContext() == 0
                && spec.objective() != Objective.MATCH_TEACHER;
        try (Optimizer optimizer = Optimizers.create(spec.optimizer(), trainables, spec.lr(), spec.seed(), spec.apollo());
             Snapshot lastGood = new Snapshot(trainables);
             FrozenPrefix frozen = prefixApplies ? new FrozenPrefix(model, first.getAsInt(), frozenPrefixBytes) : null) {
            prefix = frozen;
            for (int step = 1; step <= spec.steps(); step++) {
                if (cancelled.getAsBoolean()) {
                    publishLastState(step - 1);
                    return new Result(step - 1, target.length, processed, lastLoss, Stop.CANCELLED, "cancelled",
                            optimizer.stateBytes(), optimizer.notes());
                }
                double loss;
                int targetRows = batch - batches.generalRows(step);
                try (PointerScope scope = new PointerScope()) {
                    Tensor total = batches.loss(step, overlay, lnV);
                    loss = total.item_double();
                    String nonFinite = Double.isFinite(loss) ? null : "the loss became " + loss;
                    if (nonFinite == null) {
                        optimizer.zeroGrad();
                        total.backward();
                        nonFinite = firstNonFinite(trainables, true);
                    }
                    if (nonFinite == null) {
                        optimizer.step(spec.lr());
                        nonFinite = firstNonFinite(trainables, false);
                    }
                    if (nonFinite != null) {
                        lastGood.restore();
                        publishLastState(step - 1);
                        return new Result(step - 1, target.length, processed, lastLoss, Stop.DIVERGED, nonFinite + " at step "
                                + step + "; the edit was restored to step " + (step - 1) + ", its last finite values (lr "
                                + spec.lr() + ")", optimizer.stateBytes(), optimizer.notes());
                    }
                }
                lastGood.take();
                if (live.wanted() || step == spec.steps()) {   // a copy only for a reader who asked, and the final state
                    live.publish(edit.copy(), step);
                }
                processed += (long) targetRows * (length - 1 - contextPositions(length));
                if (liveEval != null && step % liveEval.everySteps() == 0) {
                    evaluateLive(data.bos());
                }
                lastLoss = loss;
                double seconds = (System.nanoTime() - start) / 1e9;
                progress.accept(new TrainingProgress(step, spec.steps(), processed, loss,
                        (double) step * spec.batchSize() * length / seconds, spec.lr()));
            }
            return new Result(spec.steps(), target.length, processed, lastLoss, Stop.COMPLETED, null, optimizer.stateBytes(), optimizer.notes());
        } finally {
            prefix = null;
            edit.setTraining(false);
        }
    }

    /**
     * The training loss at the edit's current values, without training: the mean over the batches of steps
     * 1 … {@code steps} (the batches {@link #run} would draw), through every layer. Lets a caller compare starting points.
     */
    public double objective(Data data, int steps) {
        Batches batches = new Batches(data);
        EditOverlay overlay = new EditOverlay(List.of(edit));
        double lnV = Math.log(model.config().vocabSize());
        double sum = 0;
        try (NoGradGuard g = new NoGradGuard()) {
            for (int step = 1; step <= steps; step++) {
                try (PointerScope scope = new PointerScope()) {
                    sum += batches.loss(step, overlay, lnV).item_double();
                }
            }
        }
        return sum / steps;
    }

    /**
     * The rows each step trains on: the target text cut to the token budget, general rows mixed in at the spec's
     * ratio, and retain rows for the KL.
     */
    private final class Batches {
        final long[] target;
        final int length;                  // BOS + tokens per target row
        private final Data data;
        private final double generalRatio;
        private final TokenCorpus targetCorpus;
        private final TokenCorpus generalCorpus;   // null without general mixing
        private final TokenCorpus retainCorpus;    // null without a retain KL

        Batches(Data data) {
            this.data = data;
            target = Arrays.copyOf(data.target(), Math.min(data.target().length, spec.tokenBudget()));
            length = Math.min(spec.context(), target.length + 1);
            generalRatio = data.general() != null ? spec.generalRatio() : 0;
            targetCorpus = single(target, data.bos());
            generalCorpus = generalRatio > 0 ? single(data.general(), data.bos()) : null;
            retainCorpus = spec.retainWeight() > 0 && data.retain() != null ? single(data.retain(), data.bos()) : null;
        }

        int generalRows(int step) {
            return FineTuner.generalRows(step, spec.batchSize(), generalRatio);
        }

        /** Step {@code step}'s loss: target objective and general CE weighted by their rows, plus λ · retain KL. */
        Tensor loss(int step, EditOverlay overlay, double lnV) {
            int batch = spec.batchSize();
            int generalRows = generalRows(step);
            int targetRows = batch - generalRows;
            Tensor total = null;
            if (targetRows > 0) {
                total = targetLoss(targetCorpus.batch(spec.seed(), step, targetRows, length), overlay, lnV, data.teacher())
                        .mul(new Scalar(targetRows / (double) batch));
            }
            if (generalRows > 0) {
                long[][] rows = generalCorpus.batch(spec.seed() + 1, step, generalRows, Math.min(spec.context(), length));
                Tensor general = ce(rows, overlay).mul(new Scalar(generalRows / (double) batch));
                total = total == null ? general : total.add(general);
            }
            if (retainCorpus != null) {
                long[][] rows = retainCorpus.batch(spec.seed() + 2, step, batch, spec.context());
                total = total.add(retainKl(rows, overlay).mul(new Scalar(spec.retainWeight())));
            }
            return total;
        }
    }

    /** Publishes the edit as it is after {@code step} (the run stops there), unless that state is already published. */
    private void publishLastState(int step) {
        if (step > 0 && live.publishedStep() != step) {
            live.publish(edit.copy(), step);
        }
    }

    /**
     * How many of step {@code step}'s {@code batch} rows are general text: ⌊r·B·s⌋ − ⌊r·B·(s − 1)⌋, so that after any
     * number of steps the general rows are r of all rows, rounded down.
     */
    public static int generalRows(int step, int batch, double ratio) {
        return (int) (Math.floor(ratio * batch * step + 1e-9) - Math.floor(ratio * batch * (step - 1) + 1e-9));
    }

    private void evaluateLive(int bos) {
        edit.setTraining(false);
        try {
            var evaluator = new CrossEntropyEvaluator(model, spec.context(), 4).withOverlay(new EditOverlay(List.of(edit)));
            Map<String, LanguageLoss> losses = new java.util.LinkedHashMap<>();
            liveEval.texts().forEach((name, ids) -> losses.put(name, evaluator.evaluate(name, ids, bos, null)));
            liveEval.listener().accept(losses);
        } finally {
            edit.setTraining(true);
        }
    }

    /**
     * learn: mean CE of the rows; unlearn: relu(ln V − mean CE); unlearn-uniform: mean −(1/V)·Σ_v log p_v;
     * match-teacher: KL(teacher ‖ edited), the teacher being the base model run with {@code teacher} hooks (e.g. a
     * steering vector), which "trains in" the teacher's behaviour so the hooks can be dropped.
     */
    private Tensor targetLoss(long[][] rows, EditOverlay overlay, double lnV, Hooks teacher) {
        if (spec.objective() == Objective.MATCH_TEACHER) {
            if (teacher == null) {
                throw new ScalpelException("The match-teacher objective needs a teacher (e.g. a steering vector).");
            }
            return klToTeacher(rows, overlay, teacher);
        }
        if (spec.objective() == Objective.UNLEARN_UNIFORM) {
            Tensor logProbs = torch.log_softmax(targetLogits(rows, overlay), -1);                    // [R, n-1-c, V]
            return logProbs.mean().neg();
        }
        Tensor ce = prefix == null ? ce(rows, overlay)
                : TokenLoss.perToken(targetLogits(rows, overlay), continuationTargets(Tensors.ids(rows, model.device()))).mean();
        return spec.objective() == Objective.LEARN ? ce : torch.relu(ce.neg().add(new Scalar(lnV)));
    }

    /**
     * Logits of the scored positions of target rows [R, n]: from the kept residual streams through the layers from the
     * edit's lowest one when the frozen prefix applies, else the whole model. [R, n-1-c, V]
     */
    private Tensor targetLogits(long[][] rows, EditOverlay overlay) {
        if (prefix == null) {
            return continuationLogits(Tensors.ids(rows, model.device()), overlay);
        }
        return model.forwardFromLayer(prefix.layer(), prefix.streams(rows), ForwardContext.withOverlay(overlay));
    }

    /** Mean next-token CE of rows [R, n] through the edited model (a scalar tensor with gradient). */
    private Tensor ce(long[][] rows, EditOverlay overlay) {
        int n = rows[0].length;
        Tensor ids = Tensors.ids(rows, model.device());
        return TokenLoss.perToken(continuationLogits(ids, overlay), continuationTargets(ids)).mean();
    }

    /** Number of leading input positions run as frozen context for rows of length n. */
    private int contextPositions(long n) {
        return (int) Math.min(spec.frozenContext(), n - 2);
    }

    /**
     * Logits of the scored positions of ids [R, n]: all n − 1 inputs, or with frozen context the positions after the
     * first c, whose attention reads the context's keys/values from a cache filled without gradient. [R, n-1-c, V]
     */
    private Tensor continuationLogits(Tensor ids, EditOverlay overlay) {
        long n = ids.size(1);
        int c = contextPositions(n);
        if (c == 0) {
            return model.forward(ids.narrow(1, 0, n - 1), ForwardContext.withOverlay(overlay));
        }
        try (KvCache cache = model.newCache((int) ids.size(0), (int) n)) {
            try (NoGradGuard g = new NoGradGuard()) {
                model.forward(ids.narrow(1, 0, c), new ForwardContext(null, null, cache, false, overlay));
            }
            return model.forward(ids.narrow(1, c, n - 1 - c), new ForwardContext(null, null, cache, false, overlay));
        }
    }

    /** Targets of the scored positions, [R, n-1-c]. */
    private Tensor continuationTargets(Tensor ids) {
        long n = ids.size(1);
        int c = contextPositions(n);
        return ids.narrow(1, 1 + c, n - 1 - c);
    }

    /** Mean over positions of KL(p_base ‖ p_edited) on rows [R, n]. */
    private Tensor retainKl(long[][] rows, EditOverlay overlay) {
        return klToTeacher(rows, overlay, new Hooks());
    }

    /** Mean over positions of KL(p_teacher ‖ p_edited) on rows [R, n]; the teacher is the base model with {@code hooks}. */
    private Tensor klToTeacher(long[][] rows, EditOverlay overlay, Hooks hooks) {
        int n = rows[0].length;
        Tensor input = Tensors.ids(rows, model.device()).narrow(1, 0, n - 1);
        Tensor baseLogProbs;
        try (NoGradGuard g = new NoGradGuard()) {
            baseLogProbs = torch.log_softmax(model.forward(input, ForwardContext.withHooks(hooks)), -1); // [R, n-1, V]
        }
        Tensor editedLogProbs = torch.log_softmax(model.forward(input, ForwardContext.withOverlay(overlay)), -1);
        return baseLogProbs.exp().mul(baseLogProbs.sub(editedLogProbs)).sum(new long[] {-1}, false,
                new org.bytedeco.pytorch.ScalarTypeOptional()).mean();
    }

    private static TokenCorpus single(long[] tokens, int bos) {
        int[] ints = new int[tokens.length];
        for (int i = 0; i < ints.length; i++) {
            ints[i] = (int) tokens[i];
        }
        return new TokenCorpus(Map.of("text", ints), Map.of("text", 1.0), bos);
    }

    /**
     * Words naming the first trainable whose gradient ({@code gradients}) or value is not finite everywhere, or null
     * when all are finite.
     */
    private static String firstNonFinite(List<Optimizer.Trainable> trainables, boolean gradients) {
        try (NoGradGuard g = new NoGradGuard(); PointerScope scope = new PointerScope()) {
            for (Optimizer.Trainable t : trainables) {
                Tensor x = gradients ? t.value().grad() : t.value();
                if (x != null && x.defined() && !torch.isfinite(x).all().item_bool()) {
                    return (gradients ? "the gradient of " : "the updated value of ") + t.name() + " became non-finite";
                }
            }
            return null;
        }
    }

    /** Copies of the trainables after the last good step (all finite), restored when a step diverges. */
    private static final class Snapshot implements AutoCloseable {
        private final List<Optimizer.Trainable> trainables;
        private final List<Tensor> copies = new ArrayList<>();

        Snapshot(List<Optimizer.Trainable> trainables) {
            this.trainables = trainables;
            for (Optimizer.Trainable t : trainables) {
                Tensor c = t.value().detach().clone();
                c.retainReference();
                copies.add(c);
            }
        }

        void take() {
            try (NoGradGuard g = new NoGradGuard()) {
                for (int i = 0; i < copies.size(); i++) {
                    copies.get(i).copy_(trainables.get(i).value());
                }
            }
        }

        void restore() {
            try (NoGradGuard g = new NoGradGuard()) {
                for (int i = 0; i < copies.size(); i++) {
                    trainables.get(i).value().copy_(copies.get(i));
                }
            }
        }

        @Override
        public void close() {
            copies.forEach(Tensor::releaseReference);
        }
    }
}
