package dev.scalpel.engine.edit;

import dev.scalpel.engine.api.HeadId;
import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.model.ArchitectureFamily;
import dev.scalpel.engine.model.ModelConfig;
import java.util.List;
import java.util.Locale;
import java.util.stream.IntStream;

/**
 * Where a head's weights are, per architecture (asked of its {@link ArchitectureFamily}). A query head h's q weights are
 * rows [h·D, (h+1)·D) of q_proj and its o weights columns [h·D, (h+1)·D) of o_proj. Its k and v weights are the rows of
 * its key/value head h / G (G query heads per kv head): with grouped-query attention those rows are SHARED by the G
 * query heads of the group, so editing them for one head changes the keys/values the other heads of its group read.
 * GPT-2 keeps q, k and v fused in c_attn (rows [0, d), [d, 2d), [2d, 3d)). In a Gated DeltaNet layer the heads are the
 * value heads (as many as the layer has, {@link ModelConfig#headsIn}; their slices are as wide as their value and key
 * head dims), and it is their q and k rows (of the shared key head) that several heads share.
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
        ArchitectureFamily.Block b = block(head, p);
        return Slice.block(b.weight(), p == Projection.O ? 1 : 0, (int) b.start(head.head()), b.width());
    }

    /** The heads of {@code head}'s layer whose {@code p} slice is the same as its own (itself included). */
    public List<HeadId> sharing(HeadId head, Projection p) {
        int n = block(head, p).sharedBy();
        int first = head.head() / n * n;
        return IntStream.range(first, first + n).mapToObj(h -> new HeadId(head.layer(), h)).toList();
    }

    private ArchitectureFamily.Block block(HeadId head, Projection p) {
        config.headGrid().check(head);
        ArchitectureFamily.AttentionWeights w = config.architecture().family().attention(config, head.layer());
        return switch (p) {
            case Q -> w.q();
            case K -> w.k();
            case V -> w.v();
            case O -> w.o();
        };
    }
}
