package dev.scalpel.engine.components;

import dev.scalpel.engine.eval.TokenWindows;
import dev.scalpel.engine.model.CausalLM;
import dev.scalpel.engine.model.ForwardContext;
import dev.scalpel.engine.model.LinearOverlay;
import dev.scalpel.engine.model.Tensors;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;

/**
 * What makes a rank-1 component fire: its activation at a token is σ_c · (x · v_c), the size of what the component
 * writes (along u_c) for the module's input x at that position. The top-activating tokens with their preceding
 * context show, e.g., that a component reads German function words.
 */
public final class ComponentInspector {
    /** One token position: the token id, the ids before it (context), and the activation. */
    public record Activation(long token, long[] context, double value) {}

    private ComponentInspector() {}

    /**
     * The {@code k} positions of {@code tokens} (BOS first when not null) where component {@code c} of {@code d}
     * activates most (by |activation|), in windows of {@code window} tokens.
     */
    public static List<Activation> top(CausalLM model, RankOneDecomposition d, int c, long[] tokens, Integer bos,
                                       int window, int contextTokens, int k) {
        String weightName = d.module() + ".weight";
        List<Activation> all = new ArrayList<>();
        try (NoGradGuard g = new NoGradGuard()) {
            for (long[][] batch : TokenWindows.batches("text", tokens, bos, window, 4)) {
                try (PointerScope scope = new PointerScope()) {
                    int n = batch[0].length;
                    float[][] captured = new float[1][];
                    LinearOverlay capture = (name, x, w, b) -> {
                        if (name.equals(weightName)) {                                       // x: [B, S, in]
                            Tensor act = x.matmul(d.v().select(1, c)).mul(d.sigma().select(0, c)); // [B, S]
                            captured[0] = Tensors.toFloats(act);
                        }
                        return LinearOverlay.plain(name, x, w, b);
                    };
                    model.forward(Tensors.ids(batch, model.device()).narrow(1, 0, n - 1), ForwardContext.withOverlay(capture));
                    for (int r = 0; r < batch.length; r++) {
                        for (int p = 0; p < n - 1; p++) {
                            int from = Math.max(0, p - contextTokens);
                            all.add(new Activation(batch[r][p], java.util.Arrays.copyOfRange(batch[r], from, p),
                                    captured[0][r * (n - 1) + p]));
                        }
                    }
                }
            }
        }
        all.sort(Comparator.comparingDouble((Activation a) -> -Math.abs(a.value())));
        return all.subList(0, Math.min(k, all.size()));
    }
}
