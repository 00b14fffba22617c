package dev.scalpel.engine.edit;

import dev.scalpel.engine.api.HeadId;
import dev.scalpel.engine.api.HeadSet;
import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.model.CausalLM;
import dev.scalpel.engine.model.Tensors;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * A task vector τ = fine-tuned − base (Ilharco et al. 2023): per weight, the difference that a fine-tune made, in the
 * engine's layout. Vectors add, negate and scale; several merge with TIES (Yadav et al. 2023). Applied through a
 * {@link TaskVectorEdit}, never by writing the base.
 *
 * @param deltas weight name → τ for that weight (weights the fine-tune left unchanged are absent)
 */
public record TaskVector(Map<String, Tensor> deltas) {

    public TaskVector {
        deltas = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(deltas));
    }

    /** fineTuned − base over the weights {@code keep} accepts; both models must have the same weights and shapes. */
    public static TaskVector between(CausalLM base, CausalLM fineTuned, Predicate<String> keep) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        try (NoGradGuard g = new NoGradGuard()) {
            for (var e : base.weights().asMap().entrySet()) {
                Tensor other = fineTuned.weights().get(e.getKey());
                if (other == null || !Arrays.equals(Tensors.shape(other), Tensors.shape(e.getValue()))) {
                    throw new ScalpelException("The fine-tuned model has no weight " + e.getKey() + " of shape "
                            + Arrays.toString(Tensors.shape(e.getValue())) + "; a task vector needs two models of the same architecture and size.");
                }
                if (keep.test(e.getKey())) {
                    Tensor d = other.sub(e.getValue());
                    if (d.abs().sum().item_double() != 0) {   // NaN differences are kept (and refused when written)
                        out.put(e.getKey(), d);
                    }
                }
            }
        }
        return new TaskVector(out);
    }

    /** The combined update of {@code edits} on {@code model}: per weight, the sum of their dense deltas. */
    public static TaskVector ofEdits(List<Edit> edits, CausalLM model) {
        try (NoGradGuard g = new NoGradGuard()) {
            Map<String, Tensor> deltas = new LinkedHashMap<>();
            for (Edit e : edits) {
                e.denseDeltas(model.weights().asMap()).forEach((name, d) -> deltas.merge(name, d.clone(), Tensor::add));
            }
            return new TaskVector(deltas);
        }
    }

    /**
     * Head pruning as a task vector: −W on the heads' slices, so W + τ is zero there and unchanged elsewhere. A slice
     * several heads share (GQA k/v rows, a DeltaNet key head's q/k rows) only when every head sharing it is pruned too.
     */
    public static TaskVector pruning(CausalLM model, HeadSet heads) {
        HeadLayout layout = new HeadLayout(model.config());
        Map<String, Tensor> deltas = new LinkedHashMap<>();
        try (NoGradGuard g = new NoGradGuard()) {
            for (HeadId h : heads.heads()) {
                List<HeadLayout.Projection> projections = java.util.Arrays.stream(HeadLayout.Projection.values())
                        .filter(p -> layout.sharing(h, p).stream().allMatch(heads::contains))
                        .toList();
                for (HeadLayout.Projection p : projections) {
                    Slice s = layout.slice(h, p);
                    Tensor w = model.weights().get(s.weightName());                                  // [out, in]
                    Tensor d = deltas.computeIfAbsent(s.weightName(), n -> torch.zeros_like(w));
                    d.narrow(s.dim(), s.indices().get(0), s.size()).copy_(w.narrow(s.dim(), s.indices().get(0), s.size()).neg());
                }
            }
        }
        return new TaskVector(deltas);
    }

    /** Zero outside the chosen heads' q/k/v rows and o_proj columns (a head-restricted task vector). */
    public TaskVector restrictedTo(HeadSet heads, CausalLM model) {
        HeadLayout layout = new HeadLayout(model.config());
        Map<String, Tensor> masks = new LinkedHashMap<>();
        try (NoGradGuard g = new NoGradGuard()) {
            for (HeadId h : heads.heads()) {
                for (HeadLayout.Projection p : HeadLayout.Projection.values()) {
                    Slice s = layout.slice(h, p);
                    Tensor delta = deltas.get(s.weightName());
                    if (delta == null) {
                        continue;
                    }
                    Tensor mask = masks.computeIfAbsent(s.weightName(), n -> torch.zeros_like(delta));
                    mask.narrow(s.dim(), s.indices().get(0), s.size()).fill_(new Scalar(1));
                }
            }
            Map<String, Tensor> out = new LinkedHashMap<>();
            masks.forEach((name, mask) -> out.put(name, deltas.get(name).mul(mask)));
            return new TaskVector(out);
        }
    }

    public TaskVector scale(double k) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        deltas.forEach((n, d) -> out.put(n, d.mul(new Scalar(k))));
        return new TaskVector(out);
    }

    public TaskVector negate() {
        return scale(-1);
    }

    public TaskVector add(TaskVector other) {
        Map<String, Tensor> out = new LinkedHashMap<>(deltas);
        other.deltas.forEach((n, d) -> out.merge(n, d, Tensor::add));
        return new TaskVector(out);
    }

    /** Where TIES's trim step ranks the entries by magnitude. */
    public enum Trim {
        /** Over the whole flattened task vector, as Yadav et al. (2023) do: a tensor may keep all or none. */
        GLOBAL,
        /** Within each weight tensor separately: every tensor keeps the same fraction. */
        PER_TENSOR
    }

    /** TIES with the paper's global trim. */
    public static TaskVector ties(List<TaskVector> vectors, double keepFraction, double lambda) {
        return ties(vectors, keepFraction, lambda, Trim.GLOBAL);
    }

    /**
     * TIES merging: (1) trim each vector to its top {@code keepFraction} entries by magnitude (over the whole vector or
     * per weight tensor, see {@link Trim}), (2) elect each entry's sign as the sign of the trimmed vectors' sum,
     * (3) average, per entry, only the trimmed values that agree with the elected sign (disjoint mean), (4) scale by
     * {@code lambda}.
     */
    public static TaskVector ties(List<TaskVector> vectors, double keepFraction, double lambda, Trim trim) {
        if (vectors.isEmpty() || !(keepFraction > 0 && keepFraction <= 1)) {
            throw new ScalpelException("TIES needs at least one vector and a keep fraction in (0, 1], got " + keepFraction + ".");
        }
        Map<String, Tensor> out = new LinkedHashMap<>();
        try (NoGradGuard g = new NoGradGuard()) {
            java.util.Set<String> names = new java.util.LinkedHashSet<>();
            vectors.forEach(v -> names.addAll(v.deltas.keySet()));
            List<Double> thresholds = vectors.stream()
                    .map(v -> trim == Trim.GLOBAL ? threshold(torch.cat(new org.bytedeco.pytorch.TensorVector(
                            v.deltas.values().stream().map(d -> d.abs().reshape(-1)).toArray(Tensor[]::new))), keepFraction) : null)
                    .toList();
            for (String name : names) {
                Tensor like = vectors.stream().map(v -> v.deltas.get(name)).filter(java.util.Objects::nonNull).findFirst().orElseThrow();
                Tensor sum = torch.zeros_like(like);
                java.util.List<Tensor> trimmed = new java.util.ArrayList<>();
                for (int i = 0; i < vectors.size(); i++) {
                    Tensor d = vectors.get(i).deltas.get(name);
                    Double global = thresholds.get(i);
                    Tensor t = d == null ? torch.zeros_like(like)
                            : keepAbove(d, global != null ? global : threshold(d.abs().reshape(-1), keepFraction));
                    trimmed.add(t);
                    sum = sum.add(t);
                }
                Tensor sign = sum.sign();                                                  // elected sign per entry
                Tensor total = torch.zeros_like(like);
                Tensor count = torch.zeros_like(like);
                for (Tensor t : trimmed) {
                    Tensor agrees = t.sign().eq(sign).logical_and(t.ne(new Scalar(0))).to(torch.ScalarType.Float);
                    total = total.add(t.mul(agrees));
                    count = count.add(agrees);
                }
                out.put(name, total.div(count.clamp_min(new Scalar(1))).mul(new Scalar(lambda)));
            }
        }
        return new TaskVector(out);
    }

    /** The magnitude of the keep-th largest of {@code magnitudes} [n], keep = keepFraction · n (at least 1); 0 keeps all. */
    private static double threshold(Tensor magnitudes, double keepFraction) {
        long n = magnitudes.numel();
        long keep = Math.max(1, Math.round(n * keepFraction));
        return keep >= n ? 0 : magnitudes.kthvalue(n - keep + 1).get0().item_double();
    }

    /** d with the entries whose |value| is below {@code threshold} set to 0. */
    private static Tensor keepAbove(Tensor d, double threshold) {
        return threshold == 0 ? d : d.mul(d.abs().ge(new Scalar(threshold)).to(torch.ScalarType.Float));
    }
}
