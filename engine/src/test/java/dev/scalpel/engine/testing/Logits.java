package dev.scalpel.engine.testing;

import dev.scalpel.engine.model.CausalLM;
import dev.scalpel.engine.model.ComputeDevice;
import dev.scalpel.engine.model.ForwardContext;
import dev.scalpel.engine.model.LinearOverlay;
import dev.scalpel.engine.model.Tensors;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;

/** Logits as Java arrays, for tests that compare models and edits. */
public final class Logits {
    private Logits() {}

    /** The flattened logits [B·S·V] of {@code ids} through {@code model} with {@code overlay}, on the CPU, no grad. */
    public static float[] of(CausalLM model, long[][] ids, LinearOverlay overlay) {
        try (PointerScope s = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            return Tensors.toFloats(model.forward(Tensors.ids(ids, ComputeDevice.CPU), ForwardContext.withOverlay(overlay)));
        }
    }

    /** max |a − b| over all elements. */
    public static double maxAbsDiff(float[] a, float[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - b[i]));
        }
        return m;
    }
}
