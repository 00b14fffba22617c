package dev.scalpel.engine.eval;

import dev.scalpel.engine.api.LanguageLoss;
import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.model.CausalLM;
import dev.scalpel.engine.model.ForwardContext;
import dev.scalpel.engine.model.HeadGates;
import dev.scalpel.engine.model.LinearOverlay;
import dev.scalpel.engine.model.Tensors;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

/**
 * Mean next-token cross-entropy of a model over a long token sequence, by teacher forcing in the windows of
 * {@link TokenWindows} (every token after the first predicted exactly once).
 */
public final class CrossEntropyEvaluator {
    private static final long REDUCTION_SUM = 2;
    private static final long NO_IGNORE_INDEX = -100;

    private final CausalLM model;
    private final int context;
    private final int batchSize;
    private LinearOverlay overlay = LinearOverlay.NONE;

    /**
     * @param context   window length in tokens, at most the model's max positions
     * @param batchSize windows per forward pass
     */
    public CrossEntropyEvaluator(CausalLM model, int context, int batchSize) {
        if (context < 2) {
            throw new ScalpelException("The evaluation context must be at least 2 tokens, got " + context + ".");
        }
        if (context > model.config().maxPositions()) {
            throw new ScalpelException("The evaluation context (" + context + ") exceeds the model's "
                    + model.config().maxPositions() + " positions; pass a smaller --context.");
        }
        this.model = model;
        this.context = context;
        this.batchSize = Math.max(1, batchSize);
    }

    /** Evaluates the model with edits applied through {@code overlay} (null = the stored weights). */
    public CrossEntropyEvaluator withOverlay(LinearOverlay overlay) {
        this.overlay = overlay != null ? overlay : LinearOverlay.NONE;
        return this;
    }

    /**
     * @param name   label of the result
     * @param tokens the text's ids without BOS
     * @param bos    BOS id to put first, or null
     * @param gates  head gates (null = unmodified model)
     */
    public LanguageLoss evaluate(String name, long[] tokens, Integer bos, HeadGates gates) {
        double nll = 0;
        long predicted = 0;
        try (NoGradGuard noGrad = new NoGradGuard()) {
            int window = 0;
            for (long[][] batch : TokenWindows.batches(name, tokens, bos, context, batchSize)) {
                double batchNll = batchNll(batch, gates);
                if (!Double.isFinite(batchNll)) {
                    throw new ScalpelException("The model produced a non-finite loss (" + batchNll + ") on text '" + name + "', windows "
                            + (window + 1) + "–" + (window + batch.length) + " of " + context + " tokens; its weights or the edit "
                            + "may contain NaN/Inf.");
                }
                nll += batchNll;
                predicted += (long) batch.length * (batch[0].length - 1);
                window += batch.length;
            }
        }
        return new LanguageLoss(name, nll / predicted, predicted);
    }

    /** Summed negative log-likelihood of positions 1..n-1 of each window given the ones before. */
    private double batchNll(long[][] windows, HeadGates gates) {
        try (PointerScope scope = new PointerScope()) {
            int n = windows[0].length;
            Tensor ids = Tensors.ids(windows, model.device());                               // [B, n]
            Tensor logits = model.forward(ids.narrow(1, 0, n - 1), new ForwardContext(gates, null, null, false, overlay)); // [B, n-1, V]
            Tensor targets = ids.narrow(1, 1, n - 1).reshape(-1);                           // [B·(n-1)]
            Tensor loss = torch.cross_entropy_loss(logits.reshape(-1, logits.size(2)), targets,
                    new TensorOptional(), REDUCTION_SUM, NO_IGNORE_INDEX, 0.0);
            return loss.item_double();
        }
    }
}
