package dev.scalpel.engine.importance;

import dev.scalpel.engine.api.ProgressListener;
import dev.scalpel.engine.components.ModuleNames;
import dev.scalpel.engine.components.RankOneDecomposition;
import dev.scalpel.engine.eval.TokenLoss;
import dev.scalpel.engine.eval.TokenWindows;
import dev.scalpel.engine.model.CausalLM;
import dev.scalpel.engine.model.ForwardContext;
import dev.scalpel.engine.model.HookPoints;
import dev.scalpel.engine.model.LinearOverlay;
import dev.scalpel.engine.model.Hooks;
import dev.scalpel.engine.model.Tensors;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Per-domain effect of each rank-1 component of chosen weight matrices: the gradient of the mean next-token loss
 * w.r.t. the component's prefactor at s = 1 (first-order effect of scaling it), and the loss change when it is
 * removed (s = 0). The component with the largest "German minus English" removal effect is the one a
 * scalar-prefactor unlearning run targets.
 */
public final class ComponentImportance {
    /** One component's scores on one text. */
    public record ComponentScore(String module, int index, double singularValue, double gradient, double ablation) {}

    private final CausalLM model;
    private final HeadImportance.Options options;

    public ComponentImportance(CausalLM model, HeadImportance.Options options) {
        this.model = model;
        this.options = options;
    }

    /** Scores every component of every decomposition on {@code tokens} (BOS first when not null). */
    public List<ComponentScore> compute(List<RankOneDecomposition> decompositions, String domain, long[] tokens,
                                        Integer bos, ProgressListener progress) {
        List<long[][]> batches = TokenWindows.batches(domain, tokens, bos, options.context(), options.batchSize());
        long predicted = batches.stream().mapToLong(b -> (long) b.length * (b[0].length - 1)).sum();
        List<double[]> gradients = gradients(decompositions, batches, predicted);
        List<double[]> ablations = ablations(decompositions, batches, predicted, progress);
        List<ComponentScore> scores = new ArrayList<>();
        for (int m = 0; m < decompositions.size(); m++) {
            RankOneDecomposition d = decompositions.get(m);
            for (int c = 0; c < d.size(); c++) {
                scores.add(new ComponentScore(d.module(), c, d.singularValue(c), gradients.get(m)[c], ablations.get(m)[c]));
            }
        }
        return scores;
    }

    /**
     * ∂(mean CE)/∂s_c per component at s = 1: one backward per batch, through scalars s that rescale the components in
     * an overlay (the stored weights are neither written nor marked for gradients, so other jobs may use the model).
     */
    private List<double[]> gradients(List<RankOneDecomposition> decompositions, List<long[][]> batches, long predicted) {
        try (PointerScope scope = new PointerScope()) {
            List<Tensor> prefactors = new ArrayList<>();
            for (RankOneDecomposition d : decompositions) {
                Tensor s = torch.ones(new long[] {d.size()}, Tensors.floatOptions(model.device()));    // [C]
                s.requires_grad_(true);
                prefactors.add(s);
            }
            for (long[][] batch : batches) {
                int n = batch[0].length;
                try (PointerScope step = new PointerScope()) {
                    Map<String, Tensor> coefficients = new HashMap<>();
                    for (int m = 0; m < decompositions.size(); m++) {
                        RankOneDecomposition d = decompositions.get(m);
                        coefficients.put(d.module() + ".weight", prefactors.get(m).sub(new Scalar(1)).mul(d.sigma())); // (s − 1)·σ, [C]
                    }
                    Tensor ids = Tensors.ids(batch, model.device());
                    Tensor logits = model.forward(ids.narrow(1, 0, n - 1), ForwardContext.withOverlay(new ComponentShift(decompositions, coefficients)));
                    TokenLoss.perToken(logits, ids.narrow(1, 1, n - 1)).sum().div(new Scalar(predicted)).backward();
                }
            }
            return prefactors.stream().map(s -> toDoubles(Tensors.toFloats(s.grad()))).toList();
        }
    }

    /** ΔCE per component when it is removed (in an overlay); later layers rerun from the cached residual. */
    private List<double[]> ablations(List<RankOneDecomposition> decompositions, List<long[][]> batches, long predicted,
                                     ProgressListener progress) {
        List<double[]> out = new ArrayList<>();
        for (RankOneDecomposition d : decompositions) {
            out.add(new double[d.size()]);
        }
        int total = batches.size() * decompositions.size();
        int done = 0;
        try (NoGradGuard noGrad = new NoGradGuard()) {
            for (long[][] batch : batches) {
                int n = batch[0].length;
                try (PointerScope scope = new PointerScope()) {
                    Tensor ids = Tensors.ids(batch, model.device());
                    Tensor input = ids.narrow(1, 0, n - 1);
                    Tensor targets = ids.narrow(1, 1, n - 1);
                    Hooks hooks = new Hooks();
                    String[] points = new String[model.config().numLayers()];
                    for (int l = 0; l < points.length; l++) {
                        points[l] = HookPoints.residPre(l);
                    }
                    Map<String, Tensor> residuals = hooks.capture(points);
                    double base = TokenLoss.perToken(model.forward(input, ForwardContext.withHooks(hooks)), targets).sum().item_double();
                    for (int m = 0; m < decompositions.size(); m++) {
                        RankOneDecomposition d = decompositions.get(m);
                        int layer = ModuleNames.layerOf(d.module()).orElse(-1);
                        for (int c = 0; c < d.size(); c++) {
                            try (PointerScope pass = new PointerScope()) { // frees this pass's logits before the next
                                Tensor removeC = torch.zeros_like(d.sigma());
                                removeC.select(0, c).fill_(new Scalar(-d.singularValue(c)));                // −σ_c at c, 0 elsewhere, [C]
                                ForwardContext without = ForwardContext.withOverlay(new ComponentShift(List.of(d),
                                        Map.of(d.module() + ".weight", removeC)));
                                Tensor logits = layer >= 0
                                        ? model.forwardFromLayer(layer, residuals.get(points[layer]), without)
                                        : model.forward(input, without);
                                out.get(m)[c] += TokenLoss.perToken(logits, targets).sum().item_double() - base;
                            }
                        }
                        progress.update(++done / (double) total, "components: " + d.module());
                    }
                    residuals.values().forEach(Tensor::releaseReference);
                }
            }
        }
        for (double[] sums : out) {
            for (int c = 0; c < sums.length; c++) {
                sums[c] /= predicted;
            }
        }
        return out;
    }

    /**
     * The model with some components rescaled: each listed weight's output gains Σ_c coef_c (x·v_c) u_cᵀ, i.e. the weight
     * W + Σ_c coef_c u_c v_cᵀ, without writing W.
     */
    private static final class ComponentShift implements LinearOverlay {
        private final Map<String, RankOneDecomposition> byWeight = new HashMap<>();
        private final Map<String, Tensor> coefficients;

        /** @param coefficients per weight name ("….weight"), [C] each */
        ComponentShift(List<RankOneDecomposition> decompositions, Map<String, Tensor> coefficients) {
            decompositions.forEach(d -> byWeight.put(d.module() + ".weight", d));
            this.coefficients = coefficients;
        }

        @Override
        public Tensor linear(String weightName, Tensor x, Tensor weight, Tensor bias) {
            Tensor y = LinearOverlay.plain(weightName, x, weight, bias);                            // [..., out]
            RankOneDecomposition d = byWeight.get(weightName);
            if (d == null) {
                return y;
            }
            Tensor coef = coefficients.get(weightName);                                             // [C]
            return y.add(x.matmul(d.v()).mul(coef).matmul(d.u().t()));                              // [..., in]·[in, C]·[C, out]
        }
    }

    private static double[] toDoubles(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }
}
