package dev.scalpel.engine.decompose;

import dev.scalpel.engine.components.RankOneDecomposition;
import dev.scalpel.engine.model.ComputeDevice;
import dev.scalpel.engine.model.Tensors;
import dev.scalpel.engine.train.Optimizer;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * One weight W [d_out, d_in] seen as C rank-1 subcomponents plus the function that says where each matters, in the SPD
 * layout: W ≈ (V·U)ᵀ with V [d_in, C] (column c reads the input) and U [C, d_out] (row c writes the output), and a
 * causal-importance MLP d_in → H → C (GELU) whose pre-activation z, squashed by a hard sigmoid, is each subcomponent's
 * causal importance g ∈ [0, 1] at a position. The tensors are leaves that training updates; close to free them.
 *
 * @param module the module name, e.g. {@code model.layers.5.self_attn.v_proj}
 * @param v      read vectors, [d_in, C]
 * @param u      write vectors, [C, d_out]
 * @param w1     CI MLP first layer, [d_in, H] (SPD's [in, out] order)
 * @param b1     [H]
 * @param w2     CI MLP second layer, [H, C]
 * @param b2     [C]
 */
public record ModuleDecomposition(String module, Tensor v, Tensor u, Tensor w1, Tensor b1, Tensor w2, Tensor b2)
        implements AutoCloseable {
    /** Slope of the leaky parts of the hard sigmoids (SPD's leaky_hard). */
    static final double LEAK = 0.01;

    public ModuleDecomposition {
        for (Tensor t : List.of(v, u, w1, b1, w2, b2)) {
            t.retainReference();
        }
    }

    /**
     * SPD's initialisation: V ~ N(0, 1/d_in), U ~ N(0, 1/C) (Kaiming normal, linear gain); the CI MLP's first layer
     * Kaiming normal with ReLU gain, its second with linear gain, biases 0. Draws from torch's generator, which the
     * caller seeds.
     */
    public static ModuleDecomposition initial(String module, long dIn, long dOut, int components, int hidden, ComputeDevice device) {
        var options = Tensors.floatOptions(device);
        Tensor v = torch.randn(new long[] {dIn, components}, options).mul(new Scalar(Math.sqrt(1.0 / dIn)));
        Tensor u = torch.randn(new long[] {components, dOut}, options).mul(new Scalar(Math.sqrt(1.0 / components)));
        Tensor w1 = torch.randn(new long[] {dIn, hidden}, options).mul(new Scalar(Math.sqrt(2.0 / dIn)));
        Tensor w2 = torch.randn(new long[] {hidden, components}, options).mul(new Scalar(Math.sqrt(1.0 / hidden)));
        ModuleDecomposition d = new ModuleDecomposition(module, v, u, w1, torch.zeros(new long[] {hidden}, options), w2,
                torch.zeros(new long[] {components}, options));
        d.tensors().values().forEach(t -> t.requires_grad_(true));
        return d;
    }

    /** Number of subcomponents C. */
    public int size() {
        return (int) v.size(1);
    }

    /** The weight name this decomposes, {@code module + ".weight"}. */
    public String weightName() {
        return module + ".weight";
    }

    /** The CI MLP's pre-activation for inputs x [..., d_in]: [..., C]. */
    public Tensor preImportance(Tensor x) {
        Tensor hidden = torch.gelu(x.matmul(w1).add(b1));                                      // [..., H]
        return hidden.matmul(w2).add(b2);                                                     // [..., C]
    }

    /**
     * The causal importance that builds the masks: clamp(z, 0, 1) in the forward pass. Below 0 a leak of slope
     * {@value #LEAK} passes gradient back to z (so a subcomponent whose importance fell to 0 can come back); above 1 none.
     * SPD's straight-through rule leaks only gradients that would raise g; this leaks both signs, with the forward value
     * still never below 0.
     */
    public static Tensor lowerLeaky(Tensor z) {
        Tensor clamped = torch.clamp(z, new ScalarOptional(new Scalar(0.0)), new ScalarOptional(new Scalar(1.0)));
        Tensor below = torch.clamp(z, new ScalarOptional(), new ScalarOptional(new Scalar(0.0)));          // min(z, 0)
        return clamped.add(below.sub(below.detach()).mul(new Scalar(LEAK)));                 // value clamp(z), grad +LEAK below 0
    }

    /** The causal importance the minimality loss penalises: clamp(z, 0, 1), and 1 + {@value #LEAK}·(z − 1) above 1. */
    public static Tensor upperLeaky(Tensor z) {
        Tensor clamped = torch.clamp(z, new ScalarOptional(new Scalar(0.0)), new ScalarOptional(new Scalar(1.0)));
        return clamped.add(torch.relu(z.sub(new Scalar(1.0))).mul(new Scalar(LEAK)));
    }

    /** The residual Δ = W − (V·U)ᵀ, [d_out, d_in]: what the subcomponents do not (yet) account for. */
    public Tensor residual(Tensor weight) {
        return weight.sub(v.matmul(u).t());
    }

    /**
     * The layer's output with every subcomponent scaled by its mask and the residual by δ:
     * ((x·V) ⊙ mask)·U + δ·(x·Δᵀ), [..., d_out] (bias not included).
     *
     * @param x     [..., d_in]
     * @param mask  [..., C]
     * @param delta [..., 1], or null for none (δ = 0)
     */
    public Tensor maskedOutput(Tensor x, Tensor mask, Tensor delta, Tensor weight) {
        Tensor out = x.matmul(v).mul(mask).matmul(u);                                          // [..., C] → [..., d_out]
        return delta == null ? out : out.add(x.matmul(residual(weight).t()).mul(delta));
    }

    /** Subcomponent c as a matrix u_c v_cᵀ, [d_out, d_in]. */
    public Tensor component(int c) {
        return u.select(0, c).unsqueeze(1).matmul(v.select(1, c).unsqueeze(0));
    }

    /**
     * The subcomponents as the engine's rank-1 components (u [d_out, C], σ = 1, v [d_in, C]), for prefactor edits and
     * removal scores; copies, so this decomposition can be closed first.
     */
    public RankOneDecomposition asRankOne() {
        try (NoGradGuard g = new NoGradGuard()) {
            return new RankOneDecomposition(module, u.detach().t().contiguous(),
                    torch.ones(new long[] {size()}, Tensors.floatOptions(ComputeDevice.of(v))), v.detach().clone());
        }
    }

    /** Every tensor by its role name (v, u, ci.w1, ci.b1, ci.w2, ci.b2). */
    public Map<String, Tensor> tensors() {
        Map<String, Tensor> m = new LinkedHashMap<>();
        m.put("v", v);
        m.put("u", u);
        m.put("ci.w1", w1);
        m.put("ci.b1", b1);
        m.put("ci.w2", w2);
        m.put("ci.b2", b2);
        return m;
    }

    /** The tensors for an optimizer, named {@code module/role}; U and V only, or everything. */
    public List<Optimizer.Trainable> trainables(boolean componentsOnly) {
        return tensors().entrySet().stream()
                .filter(e -> !componentsOnly || !e.getKey().startsWith("ci."))
                .map(e -> new Optimizer.Trainable(module + "/" + e.getKey(), e.getValue(), 1.0, false))
                .toList();
    }

    @Override
    public void close() {
        for (Tensor t : List.of(v, u, w1, b1, w2, b2)) {
            t.releaseReference();
        }
    }
}
