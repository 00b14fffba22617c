package dev.scalpel.engine.edit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.scalpel.engine.api.HeadId;
import dev.scalpel.engine.model.ConfigReader;
import dev.scalpel.engine.model.ModelConfig;
import dev.scalpel.engine.testing.Fixtures;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Where heads live in fused, gated and Gated DeltaNet weights, and which slices heads share. */
class HeadLayoutTest {
    private static final ModelConfig HYBRID = ConfigReader.read(Fixtures.model("qwen3_5-hybrid"));
    private static final ModelConfig NEXT = ConfigReader.read(Fixtures.model("qwen3-next"));

    @Test
    void aDeltaNetValueHeadOwnsItsValueRowsAndSharesItsKeyHeadsQueryAndKeyRows() {
        // 2 key heads × 16, 4 value heads × 16: in_proj_qkv rows q [0, 32) | k [32, 64) | v [64, 128)
        HeadLayout layout = new HeadLayout(HYBRID);
        HeadId h3 = new HeadId(0, 3);
        assertEquals(new Slice("model.layers.0.linear_attn.in_proj_qkv.weight", 0, range(16, 16)), layout.slice(h3, HeadLayout.Projection.Q));
        assertEquals(new Slice("model.layers.0.linear_attn.in_proj_qkv.weight", 0, range(48, 16)), layout.slice(h3, HeadLayout.Projection.K));
        assertEquals(new Slice("model.layers.0.linear_attn.in_proj_qkv.weight", 0, range(112, 16)), layout.slice(h3, HeadLayout.Projection.V));
        assertEquals(new Slice("model.layers.0.linear_attn.out_proj.weight", 1, range(48, 16)), layout.slice(h3, HeadLayout.Projection.O));
        assertEquals(List.of(new HeadId(0, 2), h3), layout.sharing(h3, HeadLayout.Projection.K));
        assertEquals(List.of(h3), layout.sharing(h3, HeadLayout.Projection.V), "value rows are the head's own");
    }

    @Test
    void aQwen3NextValueHeadsRowsLieInsideItsKeyHeadsGroupOfTheInterleavedQkvz() {
        // in_proj_qkvz: per key head g a group of 96 rows: q [0, 16) | k [16, 32) | v of value heads 2g, 2g+1 | z of them
        HeadLayout layout = new HeadLayout(NEXT);
        String qkvz = "model.layers.0.linear_attn.in_proj_qkvz.weight";
        HeadId h3 = new HeadId(0, 3);   // key head 1 (rows 96–191), second of its value heads
        assertEquals(new Slice(qkvz, 0, range(96, 16)), layout.slice(h3, HeadLayout.Projection.Q));
        assertEquals(new Slice(qkvz, 0, range(112, 16)), layout.slice(h3, HeadLayout.Projection.K));
        assertEquals(new Slice(qkvz, 0, range(144, 16)), layout.slice(h3, HeadLayout.Projection.V));
        assertEquals(new Slice(qkvz, 0, range(32, 16)), layout.slice(new HeadId(0, 0), HeadLayout.Projection.V));
        assertEquals(new Slice(qkvz, 0, range(128, 16)), layout.slice(new HeadId(0, 2), HeadLayout.Projection.V));
        assertEquals(new Slice("model.layers.0.linear_attn.out_proj.weight", 1, range(48, 16)), layout.slice(h3, HeadLayout.Projection.O));
        assertEquals(List.of(new HeadId(0, 2), h3), layout.sharing(h3, HeadLayout.Projection.Q));
        assertEquals(List.of(h3), layout.sharing(h3, HeadLayout.Projection.V));
    }

    @Test
    void aRaggedHybridsValueHeadsAreAsWideAsItsValueHeadDimAndItsAttentionLayerKeepsItsOwnCount() {
        // 2 key heads × 16, 8 value heads × 8 (4 per key head); layer 3: 4 attention heads × 16
        ModelConfig ragged = ConfigReader.read(Fixtures.model("qwen3-next-ragged"));
        HeadLayout layout = new HeadLayout(ragged);
        String qkvz = "model.layers.0.linear_attn.in_proj_qkvz.weight";
        HeadId h6 = new HeadId(0, 6);   // key head 1 (group rows 96–191: q 16, k 16, v 4 × 8, z 4 × 8), its third value head
        assertEquals(new Slice(qkvz, 0, range(96, 16)), layout.slice(h6, HeadLayout.Projection.Q));
        assertEquals(new Slice(qkvz, 0, range(112, 16)), layout.slice(h6, HeadLayout.Projection.K));
        assertEquals(new Slice(qkvz, 0, range(144, 8)), layout.slice(h6, HeadLayout.Projection.V));
        assertEquals(new Slice("model.layers.0.linear_attn.out_proj.weight", 1, range(48, 8)), layout.slice(h6, HeadLayout.Projection.O));
        assertEquals(List.of(new HeadId(0, 4), new HeadId(0, 5), h6, new HeadId(0, 7)), layout.sharing(h6, HeadLayout.Projection.K));
        String separate = "model.layers.0.linear_attn.in_proj_qkv.weight";   // qwen3_5-ragged: q [0, 32) | k [32, 64) | v [64, 128)
        HeadLayout q35 = new HeadLayout(ConfigReader.read(Fixtures.model("qwen3_5-ragged")));
        assertEquals(new Slice(separate, 0, range(16, 16)), q35.slice(h6, HeadLayout.Projection.Q));
        assertEquals(new Slice(separate, 0, range(112, 8)), q35.slice(h6, HeadLayout.Projection.V));
        assertEquals(new Slice("model.layers.3.self_attn.o_proj.weight", 1, range(48, 16)),
                layout.slice(new HeadId(3, 3), HeadLayout.Projection.O));
        var e = assertThrows(dev.scalpel.engine.api.ScalpelException.class, () -> layout.slice(new HeadId(3, 4), HeadLayout.Projection.Q));
        assertEquals("Head L3H4 does not exist: layer 3 has 4 heads (H0 to H3).", e.getMessage());
    }

    @Test
    void anOutputGatedAttentionHeadsQueryRowsSkipTheGateRowsAndGqaSharesItsValues() {
        // Qwen3.5 q_proj: per head 16 query rows then 16 gate rows; GQA 4/2 shares k/v rows by pairs
        HeadLayout layout = new HeadLayout(HYBRID);
        HeadId h1 = new HeadId(3, 1);
        assertEquals(new Slice("model.layers.3.self_attn.q_proj.weight", 0, range(32, 16)), layout.slice(h1, HeadLayout.Projection.Q));
        assertEquals(List.of(new HeadId(3, 0), h1), layout.sharing(h1, HeadLayout.Projection.V));
        assertEquals(List.of(h1), layout.sharing(h1, HeadLayout.Projection.Q));
    }

    private static List<Integer> range(int start, int length) {
        return java.util.stream.IntStream.range(start, start + length).boxed().toList();
    }
}
