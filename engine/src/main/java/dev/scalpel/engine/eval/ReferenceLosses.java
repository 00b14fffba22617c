package dev.scalpel.engine.eval;

import dev.scalpel.engine.model.CausalLM;
import dev.scalpel.engine.model.ForwardContext;
import dev.scalpel.engine.model.LinearOverlay;
import dev.scalpel.engine.model.Tensors;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;

/**
 * Per-token cross-entropy of a text given what comes before it, from one teacher-forced forward pass (the same loss
 * {@link TokenLoss} gives training and importance): how surprised the model is by each token of a reference.
 */
public final class ReferenceLosses {
    private ReferenceLosses() {}

    /**
     * @param context ids before the text (BOS and/or a prompt); may be empty
     * @param text    the ids to score
     * @return one loss in nats per id of {@code text}; NaN for the first when {@code context} is empty (nothing
     *         predicts it)
     */
    public static double[] of(CausalLM model, LinearOverlay overlay, long[] context, long[] text) {
        long[] seq = new long[context.length + text.length];
        System.arraycopy(context, 0, seq, 0, context.length);
        System.arraycopy(text, 0, seq, context.length, text.length);
        double[] out = new double[text.length];
        if (text.length == 0) {
            return out;
        }
        if (seq.length < 2) {
            out[0] = Double.NaN;
            return out;
        }
        float[] losses;
        try (NoGradGuard noGrad = new NoGradGuard(); PointerScope scope = new PointerScope()) {
            Tensor ids = Tensors.ids(seq, model.device());                                          // [1, n]
            int n = seq.length;
            Tensor logits = model.forward(ids.narrow(1, 0, n - 1), ForwardContext.withOverlay(overlay)); // [1, n-1, V]
            losses = Tensors.toFloats(TokenLoss.perToken(logits, ids.narrow(1, 1, n - 1)));        // [1, n-1]
        }
        for (int i = 0; i < text.length; i++) {
            int predicted = context.length + i - 1;     // losses[j] is the loss of seq[j + 1]
            out[i] = predicted < 0 ? Double.NaN : losses[predicted];
        }
        return out;
    }
}
