package dev.scalpel.engine.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class HeadGridTest {
    /** A hybrid: three Gated DeltaNet layers of 8 value heads, then one attention layer of 4 heads. */
    private static final HeadGrid RAGGED = new HeadGrid(List.of(8, 8, 8, 4));

    @Test
    void aRaggedGridIsAsWideAsItsWidestLayer() {
        assertEquals(4, RAGGED.layers());
        assertEquals(8, RAGGED.width());
        assertEquals(4, RAGGED.headsIn(3));
        assertTrue(RAGGED.isRagged());
        assertFalse(HeadGrid.uniform(4, 8).isRagged());
        assertEquals(28, RAGGED.all().size());
        assertEquals(new HeadId(3, 3), RAGGED.all().get(27));
        assertTrue(RAGGED.contains(new HeadId(0, 7)));
        assertFalse(RAGGED.contains(new HeadId(3, 4)));
        assertFalse(RAGGED.contains(new HeadId(4, 0)));
    }

    @Test
    void aHeadBeyondItsLayersCountIsRefusedNamingThatCount() {
        RAGGED.check(new HeadId(0, 7));
        ScalpelException beyond = assertThrows(ScalpelException.class, () -> RAGGED.check(new HeadId(3, 4)));
        assertEquals("Head L3H4 does not exist: layer 3 has 4 heads (H0 to H3).", beyond.getMessage());
        ScalpelException layer = assertThrows(ScalpelException.class, () -> RAGGED.check(new HeadId(4, 0)));
        assertEquals("Head L4H0 does not exist: the model has 4 layers (L0 to L3).", layer.getMessage());
        ScalpelException uniform = assertThrows(ScalpelException.class, () -> HeadGrid.uniform(2, 4).check(new HeadId(1, 4)));
        assertEquals("Head L1H4 does not exist: the model has 4 heads per layer (H0 to H3).", uniform.getMessage());
    }

    @Test
    void headSetsParseAgainstEachLayersOwnCount() {
        assertEquals(HeadSet.parse("L0H0,L0H1,L0H2,L0H3,L0H4,L0H5,L0H6,L0H7,L3H0,L3H1,L3H2,L3H3"),
                HeadSet.parse("L0H*,L3H*", RAGGED));
        assertEquals(HeadSet.of(new HeadId(1, 7)), HeadSet.parse("L1H7", RAGGED));
        ScalpelException e = assertThrows(ScalpelException.class, () -> HeadSet.parse("L1H7,L3H5", RAGGED));
        assertEquals("Head L3H5 in 'L1H7,L3H5' does not exist: layer 3 has 4 heads (H0 to H3).", e.getMessage());
        ScalpelException layer = assertThrows(ScalpelException.class, () -> HeadSet.parse("L9H*", RAGGED));
        assertEquals("Head L9H0 in 'L9H*' does not exist: the model has 4 layers (L0 to L3).", layer.getMessage());
    }

    @Test
    void aLayerWithoutHeadsIsNoGrid() {
        assertThrows(IllegalArgumentException.class, () -> new HeadGrid(List.of(4, 0)));
        assertThrows(IllegalArgumentException.class, () -> new HeadGrid(List.of()));
    }
}
