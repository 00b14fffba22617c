package dev.scalpel.engine.edit;

import dev.scalpel.engine.api.HeadId;
import dev.scalpel.engine.api.HeadSet;
import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.model.CausalLM;
import dev.scalpel.engine.model.Tensors;
import dev.scalpel.engine.train.Optimizer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToDoubleFunction;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Isolated head fine-tuning: the chosen heads' own weights (their q/k/v rows and o_proj columns, see
 * {@link HeadLayout}) are the only trainable numbers; each head's slice of each projection is a separate delta tensor
 * (initially 0) with its own learning-rate multiplier, so per-head learning rates (weak heads high, strong heads
 * frozen) are a matter of data. Everything outside the slices stays bit-identical.
 */
public final class HeadFinetuneEdit implements Edit {
    /** One head's part of one weight: a delta shaped like the slice ([D, in] rows or [out, D] columns). */
    private record Part(HeadId head, Slice slice, Tensor delta, Tensor index, double lrScale) {}

    private final HeadSet heads;
    private final List<String> projections;
    private final List<Part> parts;

    private HeadFinetuneEdit(HeadSet heads, List<String> projections, List<Part> parts) {
        this.heads = heads;
        this.projections = projections;
        this.parts = parts;
    }

    /**
     * @param lrScale per-head learning-rate multiplier (1 for uniform; 0 freezes a head)
     */
    public static HeadFinetuneEdit of(CausalLM model, HeadSet heads, List<HeadLayout.Projection> projections,
                                      ToDoubleFunction<HeadId> lrScale) {
        if (heads.isEmpty()) {
            throw new ScalpelException("A head fine-tune needs at least one head; mark heads to train first.");
        }
        HeadLayout layout = new HeadLayout(model.config());
        List<Part> parts = new ArrayList<>();
        for (HeadId h : heads.heads()) {
            for (HeadLayout.Projection p : projections) {
                Slice s = layout.slice(h, p);
                Tensor w = model.weights().get(s.weightName());
                long[] shape = s.dim() == 0 ? new long[] {s.size(), w.size(1)} : new long[] {w.size(0), s.size()};
                Tensor delta = torch.zeros(shape, Tensors.floatOptions(model.device()));
                delta.requires_grad_(true);
                delta.retainReference();
                Tensor index = Tensors.ids(s.indexArray(), model.device()).view(-1);
                index.retainReference();
                parts.add(new Part(h, s, delta, index, lrScale.applyAsDouble(h)));
            }
        }
        return new HeadFinetuneEdit(heads, projections.stream().map(p -> p.name().toLowerCase(Locale.ROOT)).toList(), parts);
    }

    @Override
    public String kind() {
        return "head-finetune";
    }

    @Override
    public String describe() {
        return String.format(Locale.ROOT, "head fine-tune of %s (%s), %,d params", heads, String.join(",", projections),
                parameterCount());
    }

    @Override
    public List<String> weightNames() {
        return parts.stream().map(p -> p.slice().weightName()).distinct().toList();
    }

    @Override
    public Tensor contribution(String weightName, Tensor x, Tensor weight) {
        Tensor sum = null;
        for (Part p : parts) {
            if (!p.slice().weightName().equals(weightName)) {
                continue;
            }
            Tensor extra;
            if (p.slice().dim() == 0) {                                   // rows: output features of the head
                extra = Slice.scatterFeatures(x.matmul(p.delta().t()), p.index(), weight.size(0)); // [..., D] → [..., out]
            } else {                                                      // columns: the head's input features
                extra = x.index_select(-1, p.index()).matmul(p.delta().t()); // [..., out]
            }
            sum = sum == null ? extra : sum.add(extra);
        }
        return sum;
    }

    @Override
    public Map<String, Tensor> denseDeltas(Map<String, Tensor> weights) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Part p : parts) {
            String name = p.slice().weightName();
            Tensor base = out.getOrDefault(name, torch.zeros_like(weights.get(name)));
            out.put(name, base.index_add(p.slice().dim(), p.index(), p.delta().detach()));
        }
        return out;
    }

    @Override
    public List<Optimizer.Trainable> trainables() {
        return parts.stream().map(p -> new Optimizer.Trainable(p.slice().weightName() + "[" + p.head() + "]", p.delta(),
                p.lrScale(), true)).toList();
    }

    @Override
    public Edit copy() {
        List<Part> copies = new ArrayList<>();
        for (Part p : parts) {
            Tensor delta = p.delta().detach().clone();
            delta.retainReference();
            p.index().retainReference();
            copies.add(new Part(p.head(), p.slice(), delta, p.index(), p.lrScale()));
        }
        return new HeadFinetuneEdit(heads, projections, copies);
    }

    @Override
    public Map<String, Object> metadata() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("kind", kind());
        m.put("heads", heads.toString());
        m.put("projections", projections);
        Map<String, Double> scales = new LinkedHashMap<>();
        parts.forEach(p -> scales.put(p.head().toString(), p.lrScale()));
        m.put("lr_scale", scales);
        return m;
    }

    /** The slice of its weight that each of {@link #tensors()} is the delta of, by the same names. */
    public Map<String, Slice> slicesByTensor() {
        Map<String, Slice> out = new LinkedHashMap<>();
        parts.forEach(p -> out.put(p.slice().weightName() + "[" + p.head() + "]", p.slice()));
        return out;
    }

    @Override
    public Map<String, Tensor> tensors() {
        Map<String, Tensor> t = new LinkedHashMap<>();
        parts.forEach(p -> t.put(p.slice().weightName() + "[" + p.head() + "]", p.delta()));
        return t;
    }

    @Override
    public void close() {
        parts.forEach(p -> {
            p.delta().releaseReference();
            p.index().releaseReference();
        });
    }
}
