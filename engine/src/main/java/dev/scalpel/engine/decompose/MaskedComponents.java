package dev.scalpel.engine.decompose;

import dev.scalpel.engine.model.ComputeDevice;
import dev.scalpel.engine.model.LinearOverlay;
import dev.scalpel.engine.model.Tensors;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * The forward pass with decomposed matrices replaced by their masked subcomponents: for each one, the causal
 * importance g is computed from the layer's input at every position, and the layer outputs
 * ((x·V) ⊙ m)·U + δ·(x·Δᵀ) + b with the mask m the {@link Mode} says. Keeps the importances of the last pass for the
 * losses and statistics. One instance per forward pass.
 */
final class MaskedComponents implements LinearOverlay {
    /** Which mask the subcomponents get. */
    enum Mode {
        /**
         * Training: m = g + (1 − g)·r with r ~ U(0, 1) per position and subcomponent, δ ~ U(0, 1) per position, and each
         * position routed through a random non-empty subset of the decomposed matrices (the others give x·Wᵀ).
         */
        STOCHASTIC,
        /** Evaluation: m = g (each subcomponent at its causal importance), δ = 0. */
        CAUSAL_IMPORTANCE,
        /** Evaluation: m = 1, δ = 0 (the subcomponents alone, without the residual). */
        UNMASKED
    }

    /** What one decomposed matrix saw in the last pass: g for masks [..., C] and the minimality loss's g [..., C]. */
    record Importances(Tensor lower, Tensor upper) {}

    private final Map<String, ModuleDecomposition> byWeight = new LinkedHashMap<>();
    private final List<String> order;
    private final Mode mode;
    private final Map<String, Importances> importances = new LinkedHashMap<>();
    private Tensor routes;                                                                   // [..., M] of 0/1, STOCHASTIC only

    MaskedComponents(List<ModuleDecomposition> decompositions, Mode mode) {
        decompositions.forEach(d -> byWeight.put(d.weightName(), d));
        this.order = List.copyOf(byWeight.keySet());
        this.mode = mode;
    }

    @Override
    public Tensor linear(String weightName, Tensor x, Tensor weight, Tensor bias) {
        ModuleDecomposition d = byWeight.get(weightName);
        if (d == null) {
            return LinearOverlay.plain(weightName, x, weight, bias);
        }
        Tensor z = d.preImportance(x);                                                       // [..., C]
        Tensor lower = ModuleDecomposition.lowerLeaky(z);
        importances.put(weightName, new Importances(lower, ModuleDecomposition.upperLeaky(z)));
        Tensor out = switch (mode) {
            case STOCHASTIC -> {
                Tensor r = torch.rand_like(lower);
                Tensor mask = lower.add(torch.ones_like(lower).sub(lower).mul(r));            // g + (1 − g)·r ∈ [g, 1]
                Tensor delta = torch.rand_like(lower.narrow(-1, 0, 1));                       // [..., 1]
                yield d.maskedOutput(x, mask, delta, weight);
            }
            case CAUSAL_IMPORTANCE -> d.maskedOutput(x, lower, null, weight);
            case UNMASKED -> d.maskedOutput(x, torch.ones_like(lower), null, weight);
        };
        if (bias != null) {
            out = out.add(bias);
        }
        if (mode != Mode.STOCHASTIC || order.size() == 1) {
            return out;
        }
        Tensor target = LinearOverlay.plain(weightName, x, weight, bias);                     // [..., d_out], unrouted positions
        Tensor routed = route(x).narrow(-1, order.indexOf(weightName), 1);                     // [..., 1]
        return target.add(out.sub(target).mul(routed));
    }

    /**
     * SPD's uniform-k-subset routing: per position, k ~ U{1..M} and a random k of the M matrices use their
     * subcomponents. Drawn once per pass, on the first decomposed matrix's input shape.
     */
    private Tensor route(Tensor x) {
        if (routes == null) {
            int m = order.size();
            long[] shape = Tensors.shape(x.narrow(-1, 0, 1));                                   // [..., 1]
            long[] routeShape = shape.clone();
            routeShape[routeShape.length - 1] = m;
            var options = Tensors.floatOptions(ComputeDevice.of(x));
            Tensor ranks = torch.argsort(torch.argsort(torch.rand(routeShape, options)));       // a random permutation's ranks, [..., M]
            Tensor k = torch.randint(1, m + 1, shape, options);                              // [..., 1]
            routes = ranks.lt(k).to(x.scalar_type());
        }
        return routes;
    }

    /** The importances each decomposed matrix computed in the last pass, by weight name. */
    Map<String, Importances> importances() {
        return importances;
    }
}
