package dev.scalpel.engine.components;

import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.model.CausalLM;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.StringViewOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * A weight matrix seen as a sum of rank-1 components: W [out, in] ≈ Σ_c σ_c · u_c v_cᵀ, here the top singular
 * triplets of a truncated SVD. Component c is the matrix σ_c u_c v_cᵀ; scaling it by a prefactor s gives
 * W' = W + (s − 1)·σ_c u_c v_cᵀ.
 *
 * @param module the module's weight name without ".weight", e.g. {@code model.layers.3.self_attn.v_proj}
 * @param u      left singular vectors, [out, C]
 * @param sigma  singular values, [C], descending
 * @param v      right singular vectors, [in, C]
 */
public record RankOneDecomposition(String module, Tensor u, Tensor sigma, Tensor v) implements AutoCloseable {

    public RankOneDecomposition {
        u.retainReference();
        sigma.retainReference();
        v.retainReference();
    }

    /**
     * The top-{@code k} SVD components of the weight of {@code module} (e.g. {@code model.layers.1.self_attn.v_proj})
     * in {@code model}; the SVD's temporaries are freed here, the components live until {@link #close}.
     */
    public static RankOneDecomposition svd(CausalLM model, String module, int k) {
        Tensor weight = model.weights().get(module + ".weight");
        if (weight == null) {
            throw new ScalpelException("The model has no module '" + module + "' with a weight; pick one of its linear layers.");
        }
        try (PointerScope scope = new PointerScope()) {
            return svd(module, weight, k);
        }
    }

    /** The top-{@code k} SVD components of {@code weight} [out, in]. */
    public static RankOneDecomposition svd(String module, Tensor weight, int k) {
        if (weight.dim() != 2) {
            throw new ScalpelException("Module '" + module + "' has a " + weight.dim() + "-d weight; rank-1 components need a matrix.");
        }
        long rank = Math.min(weight.size(0), weight.size(1));
        if (k < 1 || k > rank) {
            throw new ScalpelException("Module '" + module + "' has at most " + rank + " rank-1 components; asked for " + k + ".");
        }
        try (NoGradGuard g = new NoGradGuard()) {
            var usv = torch.linalg_svd(weight.detach(), false, new StringViewOptional());      // U [out, r], S [r], Vh [r, in]
            return new RankOneDecomposition(module, usv.get0().narrow(1, 0, k).contiguous(),
                    usv.get1().narrow(0, 0, k).contiguous(), usv.get2().narrow(0, 0, k).t().contiguous());
        }
    }

    /** Number of components C. */
    public int size() {
        return (int) sigma.size(0);
    }

    /** σ_c of component c. */
    public double singularValue(int c) {
        return sigma.select(0, c).item_double();
    }

    /** Component c as a matrix σ_c u_c v_cᵀ, [out, in]. */
    public Tensor component(int c) {
        Tensor uc = u.select(1, c).unsqueeze(1);                                                  // [out, 1]
        Tensor vc = v.select(1, c).unsqueeze(0);                                                  // [1, in]
        return uc.matmul(vc).mul(sigma.select(0, c));                                            // [out, in]
    }

    /** The sum of all C components, [out, in] (the rank-C approximation of the weight). */
    public Tensor reconstruct() {
        return u.mul(sigma.unsqueeze(0)).matmul(v.t());                                           // [out, in]
    }

    /**
     * ∂L/∂s_c at s = 1 for every component, from the gradient G = ∂L/∂W [out, in]: σ_c · u_cᵀ G v_c, [C].
     */
    public Tensor prefactorGradients(Tensor weightGrad) {
        return u.t().matmul(weightGrad).matmul(v).diagonal().mul(sigma);                         // [C]
    }

    @Override
    public void close() {
        u.releaseReference();
        sigma.releaseReference();
        v.releaseReference();
    }
}
