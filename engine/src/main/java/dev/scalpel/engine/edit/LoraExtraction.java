package dev.scalpel.engine.edit;

import dev.scalpel.engine.api.ScalpelException;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.StringViewOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Turns a task vector into a low-rank LoRA adapter: per matrix, the truncated SVD τ ≈ U_r S_r V_rᵀ gives
 * B = U_r·√S_r [out, r] and A = √S_r·V_rᵀ [r, in] (scaling 1), the best rank-r approximation in Frobenius norm.
 */
public final class LoraExtraction {
    /** The adapter and, per weight, the relative approximation error ‖τ − B·A‖_F / ‖τ‖_F. */
    public record Result(LoraEdit edit, Map<String, Double> relativeError) {}

    private LoraExtraction() {}

    public static Result extract(TaskVector tau, int rank) {
        if (rank < 1) {
            throw new ScalpelException("The LoRA rank must be at least 1, got " + rank + ".");
        }
        Map<String, Tensor[]> factors = new LinkedHashMap<>();
        Map<String, Double> errors = new LinkedHashMap<>();
        try (NoGradGuard g = new NoGradGuard()) {
            for (var e : tau.deltas().entrySet()) {
                Tensor d = e.getValue();                                                         // [out, in]
                if (d.dim() != 2) {
                    continue;                                                                    // norms, biases: not LoRA targets
                }
                long r = rank;
                if (r > Math.min(d.size(0), d.size(1))) {
                    throw new ScalpelException("Rank " + rank + " exceeds the smaller dimension of " + e.getKey() + " "
                            + java.util.Arrays.toString(dev.scalpel.engine.model.Tensors.shape(d)) + "; choose a smaller --rank.");
                }
                var usv = torch.linalg_svd(d, false, new StringViewOptional());               // U [out, k], S [k], Vh [k, in]
                Tensor rootS = usv.get1().narrow(0, 0, r).sqrt();                              // [r]
                Tensor b = usv.get0().narrow(1, 0, r).mul(rootS.unsqueeze(0)).contiguous();   // [out, r]
                Tensor a = usv.get2().narrow(0, 0, r).mul(rootS.unsqueeze(1)).contiguous();   // [r, in]
                factors.put(e.getKey(), new Tensor[] {a, b});
                errors.put(e.getKey(), d.sub(b.matmul(a)).norm().item_double() / Math.max(1e-30, d.norm().item_double()));
            }
        }
        if (factors.isEmpty()) {
            throw new ScalpelException("The task vector has no matrices to turn into LoRA adapters.");
        }
        return new Result(LoraEdit.ofFactors(factors, rank), errors);
    }
}
