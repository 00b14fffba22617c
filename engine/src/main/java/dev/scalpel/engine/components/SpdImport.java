package dev.scalpel.engine.components;

import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.model.CausalLM;
import dev.scalpel.engine.model.Tensors;
import dev.scalpel.engine.model.safetensors.SafetensorsFile;
import dev.scalpel.engine.model.safetensors.TensorFloats;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Imports a parameter decomposition as SPD-style tools write it: per module, {@code V [d_in, C]} and
 * {@code U [C, d_out]} with the module's weight ≈ (V·U)ᵀ plus a residual. Tensor names are
 * {@code _components.<module path with '.' replaced by '-'>.V} / {@code .U} in a safetensors file. Component c is the
 * rank-1 matrix U[c,:]ᵀ·V[:,c]ᵀ [d_out, d_in] (prefactor 1 = as decomposed).
 */
public final class SpdImport {
    /** The decompositions found, and ‖W − Σ components‖_F / ‖W‖_F per module. */
    public record Result(List<RankOneDecomposition> decompositions, Map<String, Double> relativeResidual) {}

    private SpdImport() {}

    public static Result read(Path file, CausalLM model) {
        List<RankOneDecomposition> found = new ArrayList<>();
        Map<String, Double> residuals = new LinkedHashMap<>();
        try (SafetensorsFile spd = SafetensorsFile.open(file); NoGradGuard g = new NoGradGuard()) {
            for (var e : model.weights().asMap().entrySet()) {
                String name = e.getKey();
                if (!name.endsWith(".weight") || e.getValue().dim() != 2) {
                    continue;
                }
                String module = name.substring(0, name.length() - ".weight".length());
                String key = "_components." + module.replace('.', '-');
                if (!spd.contains(key + ".V")) {
                    continue;
                }
                if (!spd.contains(key + ".U")) {
                    throw new ScalpelException(file + " has " + key + ".V but no " + key + ".U; the decomposition is incomplete.");
                }
                Tensor w = e.getValue();                                                            // [out, in]
                Tensor v = load(spd, key + ".V", w.size(1), -1, module, "d_in", model);              // [in, C]
                Tensor u = load(spd, key + ".U", v.size(1), w.size(0), module, "C × d_out", model).t().contiguous(); // [out, C]
                Tensor ones = torch.ones(new long[] {v.size(1)}, Tensors.floatOptions(model.device()));
                RankOneDecomposition d = new RankOneDecomposition(module, u, ones, v);
                try (PointerScope scope = new PointerScope()) {
                    double residual = w.sub(d.reconstruct()).norm().item_double() / w.norm().item_double();
                    residuals.put(module, residual);
                }
                found.add(d);
            }
        }
        if (found.isEmpty()) {
            throw new ScalpelException("No _components.<module>.V/.U tensors in " + file + " match this model's modules "
                    + "(e.g. _components.model-layers-3-self_attn-v_proj.V); is it a decomposition of this model?");
        }
        return new Result(found, residuals);
    }

    /** Reads a 2-D tensor and checks its shape ({@code cols} −1 = any). */
    private static Tensor load(SafetensorsFile spd, String name, long rows, long cols, String module, String what, CausalLM model) {
        long[] shape = spd.info(name).shapeArray();
        if (shape.length != 2 || shape[0] != rows || (cols >= 0 && shape[1] != cols)) {
            throw new ScalpelException("SPD tensor " + name + " has shape " + Arrays.toString(shape) + ", but module " + module
                    + " needs [" + rows + ", " + (cols >= 0 ? cols : "C") + "] (" + what + "); the decomposition does not match this model.");
        }
        float[] values = TensorFloats.toFloatArray(spd.info(name), spd.data(name));
        for (float x : values) {
            if (!Float.isFinite(x)) {
                throw new ScalpelException("SPD tensor " + name + " holds NaN or infinite values; the decomposition is corrupt.");
            }
        }
        return Tensors.floats(values, model.device()).view(shape);
    }
}
