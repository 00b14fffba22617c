package dev.scalpel.engine.edit;

import dev.scalpel.engine.model.LinearOverlay;
import java.util.List;
import org.bytedeco.pytorch.Tensor;

/**
 * Runs a model with edits: each linear layer's stored output plus every edit's contribution to it, each tensor read
 * directly (embeddings, norms, biases, a DeltaNet's decay) plus every edit's delta to it.
 */
public final class EditOverlay implements LinearOverlay {
    private final List<Edit> edits;

    public EditOverlay(List<Edit> edits) {
        this.edits = List.copyOf(edits);
    }

    @Override
    public Tensor linear(String weightName, Tensor x, Tensor weight, Tensor bias) {
        if (bias != null && weightName.endsWith(".weight")) {                               // model.layers.0.x_proj.bias
            bias = parameter(weightName.substring(0, weightName.length() - ".weight".length()) + ".bias", bias);
        }
        Tensor y = LinearOverlay.plain(weightName, x, weight, bias);                        // [..., out]
        for (Edit e : edits) {
            Tensor extra = e.contribution(weightName, x, weight);
            if (extra != null) {
                y = y.add(extra);
            }
        }
        return y;
    }

    @Override
    public Tensor parameter(String name, Tensor stored) {
        Tensor value = stored;
        for (Edit e : edits) {
            Tensor delta = e.parameterDelta(name);
            if (delta != null) {
                value = value.add(delta);
            }
        }
        return value;
    }
}
