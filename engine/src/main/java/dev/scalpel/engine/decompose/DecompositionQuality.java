package dev.scalpel.engine.decompose;

import dev.scalpel.engine.components.ModuleNames;
import dev.scalpel.engine.eval.TokenLoss;
import dev.scalpel.engine.eval.TokenWindows;
import dev.scalpel.engine.model.CausalLM;
import dev.scalpel.engine.model.ForwardContext;
import dev.scalpel.engine.model.HookPoints;
import dev.scalpel.engine.model.Hooks;
import dev.scalpel.engine.model.Tensors;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;

/**
 * How good a decomposition is, and where each subcomponent matters, measured on texts: per matrix the faithfulness
 * residual ‖W − Σ u_c v_cᵀ‖_F / ‖W‖_F; per text the cross-entropy of the target, of the model with every subcomponent
 * at its causal importance (m = g, no residual) and with all at 1 (no residual), the mean number of subcomponents
 * active (g > {@value ParameterDecomposer#ACTIVE}) per token, and each subcomponent's mean causal importance — the
 * statistic that finds a language's subcomponents.
 */
public final class DecompositionQuality {
    /**
     * @param meanImportance per module, each subcomponent's mean g over the text's positions, [C]
     * @param activePerToken per module, mean count of subcomponents with g > 0.1 per position
     */
    public record TextQuality(String text, long tokens, double targetCe, double importanceMaskedCe, double unmaskedCe,
                              Map<String, Double> activePerToken, Map<String, double[]> meanImportance) {}

    /** @param relativeResidual per module, ‖W − Σ u_c v_cᵀ‖_F / ‖W‖_F */
    public record Report(Map<String, Double> relativeResidual, List<TextQuality> texts) {}

    private DecompositionQuality() {}

    /**
     * @param texts name → token ids (no BOS), e.g. held-out text per language
     * @param bos   prepended to every window, or null
     */
    public static Report measure(CausalLM model, List<ModuleDecomposition> ds, Map<String, long[]> texts, Integer bos,
                                 int context, int batchSize) {
        Map<String, Double> residuals = new LinkedHashMap<>();
        int firstLayer = Integer.MAX_VALUE;
        try (NoGradGuard g = new NoGradGuard(); PointerScope scope = new PointerScope()) {
            for (ModuleDecomposition d : ds) {
                Tensor w = model.weights().get(d.weightName());
                residuals.put(d.module(), d.residual(w).norm().item_double() / w.norm().item_double());
                firstLayer = Math.min(firstLayer, ModuleNames.layerOf(d.module()).orElseThrow());
            }
        }
        List<TextQuality> out = new ArrayList<>();
        for (var e : texts.entrySet()) {
            out.add(text(model, ds, e.getKey(), e.getValue(), bos, context, batchSize, firstLayer));
        }
        return new Report(residuals, out);
    }

    private static TextQuality text(CausalLM model, List<ModuleDecomposition> ds, String name, long[] tokens, Integer bos,
                                    int context, int batchSize, int firstLayer) {
        double target = 0, masked = 0, unmasked = 0;
        long positions = 0, predicted = 0;
        Map<String, Double> active = new LinkedHashMap<>();
        Map<String, double[]> sums = new LinkedHashMap<>();
        ds.forEach(d -> {
            active.put(d.module(), 0.0);
            sums.put(d.module(), new double[d.size()]);
        });
        try (NoGradGuard g = new NoGradGuard()) {
            for (long[][] batch : TokenWindows.batches(name, tokens, bos, context, batchSize)) {
                try (PointerScope scope = new PointerScope()) {
                    int n = batch[0].length;
                    Tensor ids = Tensors.ids(batch, model.device());
                    Tensor input = ids.narrow(1, 0, n - 1);                                    // [B, n-1]
                    Tensor next = ids.narrow(1, 1, n - 1);
                    Hooks hooks = new Hooks();
                    String point = HookPoints.residPre(firstLayer);
                    Map<String, Tensor> captured = hooks.capture(point);
                    target += TokenLoss.perToken(model.forward(input, ForwardContext.withHooks(hooks)), next).sum().item_double();
                    Tensor residual = captured.get(point);
                    MaskedComponents byImportance = new MaskedComponents(ds, MaskedComponents.Mode.CAUSAL_IMPORTANCE);
                    masked += TokenLoss.perToken(model.forwardFromLayer(firstLayer, residual, ForwardContext.withOverlay(byImportance)),
                            next).sum().item_double();
                    unmasked += TokenLoss.perToken(model.forwardFromLayer(firstLayer, residual, ForwardContext.withOverlay(
                            new MaskedComponents(ds, MaskedComponents.Mode.UNMASKED))), next).sum().item_double();
                    residual.releaseReference();
                    for (ModuleDecomposition d : ds) {
                        Tensor lower = byImportance.importances().get(d.weightName()).lower();      // [B, n-1, C]
                        Tensor flat = lower.reshape(-1, d.size());                              // [positions, C]
                        active.merge(d.module(), flat.gt(new Scalar(ParameterDecomposer.ACTIVE)).sum().item_double(), Double::sum);
                        float[] perComponent = Tensors.toFloats(flat.sum(new long[] {0}, false, new org.bytedeco.pytorch.ScalarTypeOptional()));
                        double[] s = sums.get(d.module());
                        for (int c = 0; c < s.length; c++) {
                            s[c] += perComponent[c];
                        }
                    }
                    positions += input.numel();
                    predicted += next.numel();
                }
            }
        }
        long count = positions;
        active.replaceAll((m, v) -> v / count);
        sums.values().forEach(s -> {
            for (int c = 0; c < s.length; c++) {
                s[c] /= count;
            }
        });
        return new TextQuality(name, predicted, target / predicted, masked / predicted, unmasked / predicted, active, sums);
    }
}
