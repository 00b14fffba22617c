package dev.scalpel.engine.edit;

import dev.scalpel.engine.api.HeadId;
import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.model.ArchitectureFamily;
import dev.scalpel.engine.model.ModelConfig;
import java.util.Locale;

/**
 * Where a head's weights are, per architecture. A query head h's q weights are rows [h·D, (h+1)·D) of q_proj and its
 * o weights columns [h·D, (h+1)·D) of o_proj. Its k and v weights are the rows of its key/value head h / G (G query
 * heads per kv head): with grouped-query attention those rows are SHARED by the G query heads of the group, so editing
 * them for one head changes the keys/values the other heads of its group read. GPT-2 keeps q, k and v fused in
 * c_attn (rows [0, d), [d, 2d), [2d, 3d)).
 */
public final class HeadLayout {
    /** The four projections of a head. */
    public enum Projection {
        Q, K, V, O;

        public static Projection parse(String s) {
            try {
                return valueOf(s.trim().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new ScalpelException("Unknown projection '" + s + "'; use q, k, v or o.");
            }
        }
    }

    private final ModelConfig config;

    public HeadLayout(ModelConfig config) {
        this.config = config;
    }

    /** The slice of weights that belongs to {@code head} in projection {@code p}. */
    public Slice slice(HeadId head, Projection p) {
        if (head.layer() >= config.numLayers() || head.head() >= config.numHeads()) {
            throw new ScalpelException("Head " + head + " is outside this model (" + config.numLayers() + " layers × "
                    + config.numHeads() + " heads).");
        }
        int d = config.headDim();
        int kvHead = head.head() / config.queriesPerKvHead();
        ArchitectureFamily.AttentionWeights w = config.architecture().family().attention(config, head.layer());
        return switch (p) {
            case Q -> Slice.block(w.q(), 0, (int) (w.qRow() + head.head() * w.qStride()), d);
            case K -> Slice.block(w.k(), 0, (int) w.kRow() + kvHead * d, d);
            case V -> Slice.block(w.v(), 0, (int) w.vRow() + kvHead * d, d);
            case O -> Slice.block(w.o(), 1, head.head() * d, d);
        };
    }
}
