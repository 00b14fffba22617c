package dev.scalpel.engine.eval;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

/** Next-token cross-entropy of logits against targets, reduced the ways importance and training need. */
public final class TokenLoss {
    private static final long REDUCTION_NONE = 0;
    private static final long NO_IGNORE_INDEX = -100;

    private TokenLoss() {}

    /**
     * @param logits  [B, S, V]
     * @param targets [B, S] token ids
     * @return per-token negative log-likelihood, [B, S]
     */
    public static Tensor perToken(Tensor logits, Tensor targets) {
        long b = logits.size(0), s = logits.size(1);
        return torch.cross_entropy_loss(logits.reshape(-1, logits.size(2)), targets.reshape(-1),
                new TensorOptional(), REDUCTION_NONE, NO_IGNORE_INDEX, 0.0).view(b, s);
    }

    /** Summed NLL of each sequence, [B]. */
    public static Tensor perSequence(Tensor logits, Tensor targets) {
        return perToken(logits, targets).sum(new long[] {1}, false, new org.bytedeco.pytorch.ScalarTypeOptional());
    }
}
