package dev.scalpel.engine.steer;

import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.model.CausalLM;
import dev.scalpel.engine.model.ForwardContext;
import dev.scalpel.engine.model.HookPoints;
import dev.scalpel.engine.model.Hooks;
import dev.scalpel.engine.model.Tensors;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.StringViewOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * A steering vector: a direction in the residual stream after block {@code layer} (0-based, {@code
 * blocks.<layer>.hook_resid_post}; llama.cpp's control-vector tensor {@code direction.<layer>}, which llama.cpp adds
 * to the output of that block), added with a coefficient at every position while the model runs.
 *
 * @param direction [d] as floats
 */
public record SteeringVector(int layer, float[] direction) {

    /** How the direction is taken from contrastive pairs. */
    public enum Method { MEAN_DIFFERENCE, FIRST_PRINCIPAL_COMPONENT }

    /**
     * From contrastive prompt pairs (positive i vs negative i): each prompt's residual stream after {@code layer},
     * averaged over its tokens; the direction is the mean of the pair differences, or their first principal component
     * (centred, sign aligned with the mean difference, scaled to the mean difference's norm).
     */
    public static SteeringVector extract(CausalLM model, List<long[]> positive, List<long[]> negative, int layer, Method method) {
        if (positive.size() != negative.size() || positive.isEmpty()) {
            throw new ScalpelException("Steering needs pairs: as many positive as negative prompts (got " + positive.size()
                    + " and " + negative.size() + ").");
        }
        if (layer < 0 || layer >= model.config().numLayers()) {
            throw new ScalpelException("Layer " + layer + " is outside this model's 0.." + (model.config().numLayers() - 1) + ".");
        }
        try (NoGradGuard g = new NoGradGuard(); PointerScope scope = new PointerScope()) {
            TensorVector diffs = new TensorVector();
            for (int i = 0; i < positive.size(); i++) {
                diffs.push_back(meanResidual(model, positive.get(i), layer).sub(meanResidual(model, negative.get(i), layer)));
            }
            Tensor d = torch.stack(diffs);                                                   // [pairs, d]
            Tensor mean = d.mean(new long[] {0}, false, new org.bytedeco.pytorch.ScalarTypeOptional()); // [d]
            Tensor direction = mean;
            if (method == Method.FIRST_PRINCIPAL_COMPONENT && positive.size() > 1) {
                Tensor centred = d.sub(mean.unsqueeze(0));
                Tensor pc = torch.linalg_svd(centred, false, new StringViewOptional()).get2().select(0, 0); // [d], unit
                double sign = pc.dot(mean).item_double() >= 0 ? 1 : -1;
                direction = pc.mul(new Scalar(sign * mean.norm().item_double()));
            }
            return new SteeringVector(layer, Tensors.toFloats(direction));
        }
    }

    /** Mean over a prompt's positions of the residual stream after block {@code layer}, [d]. */
    private static Tensor meanResidual(CausalLM model, long[] ids, int layer) {
        Hooks hooks = new Hooks();
        Map<String, Tensor> captured = hooks.capture(HookPoints.residPost(layer));
        model.forward(Tensors.ids(ids, model.device()), ForwardContext.withHooks(hooks));
        Tensor resid = captured.get(HookPoints.residPost(layer));                        // [1, S, d]
        Tensor mean = resid.select(0, 0).mean(new long[] {0}, false, new org.bytedeco.pytorch.ScalarTypeOptional());
        resid.releaseReference();
        return mean;
    }

    /** Adds {@code coefficient} × direction to the residual stream after block {@code layer} of every forward pass. */
    public Hooks hooks(double coefficient, CausalLM model) {
        int layers = model.config().numLayers();
        if (layer < 0 || layer >= layers) {
            throw new ScalpelException("The steering vector is for the output of block " + layer + ", but the model has blocks 0 … "
                    + (layers - 1) + "; it was made for another model.");
        }
        if (direction.length != model.config().hiddenSize()) {
            throw new ScalpelException("The steering vector has " + direction.length + " numbers but the model's residual stream has "
                    + model.config().hiddenSize() + "; it was made for another model.");
        }
        for (float v : direction) {
            if (!Float.isFinite(v)) {
                throw new ScalpelException("The steering vector holds a non-finite value (" + v + "); it cannot steer anything.");
            }
        }
        if (!Double.isFinite(coefficient)) {
            throw new ScalpelException("The steering coefficient must be a finite number, got " + coefficient + ".");
        }
        Tensor add = Tensors.floats(direction, model.device()).mul(new Scalar(coefficient));  // [d]
        add.retainReference();
        return new Hooks().add(HookPoints.residPost(layer), x -> x.add(add));
    }
}
