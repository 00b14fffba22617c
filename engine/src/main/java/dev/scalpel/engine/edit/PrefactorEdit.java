package dev.scalpel.engine.edit;

import dev.scalpel.engine.components.RankOneDecomposition;
import dev.scalpel.engine.model.CausalLM;
import dev.scalpel.engine.model.ComputeDevice;
import dev.scalpel.engine.model.Tensors;
import dev.scalpel.engine.train.Optimizer;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Scalar prefactors on rank-1 subcomponents of one weight: W' = W + Σ_c (s_c − 1)·σ_c u_c v_cᵀ, one trainable scalar
 * s_c (initially 1, the unmodified model) per chosen component. The cheapest, most local edit there is: a
 * component's prefactor at 0 removes it. The chosen components' vectors are part of the edit, so an edits file
 * rebuilds it exactly.
 */
public final class PrefactorEdit implements Edit {
    private final String weightName;
    private final String source;          // where the components came from, e.g. "svd" or "spd:file"
    private final List<Integer> indices;  // component numbers within the source decomposition
    private final Tensor u;               // [out, k]
    private final Tensor sigma;           // [k]
    private final Tensor v;               // [in, k]
    private final Tensor s;               // [k], the prefactors

    private PrefactorEdit(String weightName, String source, List<Integer> indices, Tensor u, Tensor sigma, Tensor v, Tensor s) {
        this.weightName = weightName;
        this.source = source;
        this.indices = List.copyOf(indices);
        this.u = u;
        this.sigma = sigma;
        this.v = v;
        this.s = s;
        for (Tensor t : List.of(u, sigma, v, s)) {
            t.retainReference();
        }
    }

    /** Prefactors (all 1, trainable) on components {@code indices} of {@code decomposition}. */
    public static PrefactorEdit of(RankOneDecomposition decomposition, List<Integer> indices, String source) {
        Tensor idx = Tensors.ids(indices.stream().mapToLong(Integer::longValue).toArray(),
                ComputeDevice.of(decomposition.u())).view(-1);
        Tensor s = torch.ones(new long[] {indices.size()}, Tensors.floatOptions(ComputeDevice.of(decomposition.u())));
        s.requires_grad_(true);
        return new PrefactorEdit(decomposition.module() + ".weight", source, indices,
                decomposition.u().index_select(1, idx).detach().clone(),
                decomposition.sigma().index_select(0, idx).detach().clone(),
                decomposition.v().index_select(1, idx).detach().clone(), s);
    }

    /** The current prefactor values. */
    public float[] prefactors() {
        return Tensors.toFloats(s);
    }

    /** Sets every prefactor to {@code value} (e.g. 0 to remove the components), without tracking gradients. */
    public PrefactorEdit setAll(double value) {
        try (var g = new org.bytedeco.pytorch.NoGradGuard()) {
            s.fill_(new Scalar(value));
        }
        return this;
    }

    @Override
    public String kind() {
        return "prefactor";
    }

    @Override
    public String describe() {
        return String.format(Locale.ROOT, "scalar prefactor on %s component%s %s of %s (%s), %d params",
                source, indices.size() == 1 ? "" : "s", indices, weightName.replace(".weight", ""), prefactorText(), indices.size());
    }

    private String prefactorText() {
        StringBuilder b = new StringBuilder("s=");
        float[] values = prefactors();
        for (int i = 0; i < values.length; i++) {
            b.append(i == 0 ? "" : ",").append(String.format(Locale.ROOT, "%.3f", values[i]));
        }
        return b.toString();
    }

    @Override
    public List<String> weightNames() {
        return List.of(weightName);
    }

    @Override
    public Tensor contribution(String name, Tensor x, Tensor weight) {
        if (!name.equals(weightName)) {
            return null;
        }
        Tensor scale = s.sub(new Scalar(1)).mul(sigma);                                   // [k]
        return x.matmul(v).mul(scale).matmul(u.t());                                      // [..., in]·[in, k]·[k, out] → [..., out]
    }

    @Override
    public Map<String, Tensor> denseDeltas(Map<String, Tensor> weights) {
        Tensor scale = s.detach().sub(new Scalar(1)).mul(sigma);                          // [k]
        return Map.of(weightName, u.mul(scale.unsqueeze(0)).matmul(v.t()));              // [out, in]
    }

    @Override
    public List<Optimizer.Trainable> trainables() {
        return List.of(new Optimizer.Trainable(weightName + ".prefactors", s, 1.0, false));
    }

    @Override
    public Edit copy() {
        Tensor frozen = s.detach().clone();
        return new PrefactorEdit(weightName, source, indices, u, sigma, v, frozen);
    }

    @Override
    public Map<String, Object> metadata() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("kind", kind());
        m.put("weight", weightName);
        m.put("source", source);
        m.put("components", indices);
        return m;
    }

    @Override
    public Map<String, Tensor> tensors() {
        Map<String, Tensor> t = new LinkedHashMap<>();
        t.put("prefactors", s);
        t.put("u", u);
        t.put("sigma", sigma);
        t.put("v", v);
        return t;
    }

    /** A prefactor edit with blank tensors of the recorded shapes, for an edits file to fill. */
    static PrefactorEdit blank(CausalLM model, String weightName, String source, List<Integer> indices) {
        Tensor w = model.weights().get(weightName);
        if (w == null) {
            throw new dev.scalpel.engine.api.ScalpelException("The edits file names weight " + weightName + ", which this model lacks.");
        }
        var options = Tensors.floatOptions(model.device());
        int k = indices.size();
        Tensor s = torch.ones(new long[] {k}, options);
        s.requires_grad_(true);
        return new PrefactorEdit(weightName, source, indices, torch.zeros(new long[] {w.size(0), k}, options),
                torch.zeros(new long[] {k}, options), torch.zeros(new long[] {w.size(1), k}, options), s);
    }

    @Override
    public void close() {
        for (Tensor t : List.of(u, sigma, v, s)) {
            t.releaseReference();
        }
    }
}
