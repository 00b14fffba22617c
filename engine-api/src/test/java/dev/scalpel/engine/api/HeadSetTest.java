package dev.scalpel.engine.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.SortedSet;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

class HeadSetTest {
    private static final HeadId L0H1 = new HeadId(0, 1);
    private static final HeadId L2H3 = new HeadId(2, 3);
    private static final HeadId L2H0 = new HeadId(2, 0);

    @Test
    void keepsHeadsSortedAndUnique() {
        HeadSet set = HeadSet.of(L2H3, L0H1, L2H0, L0H1);

        assertEquals(List.of(L0H1, L2H0, L2H3), List.copyOf(set.heads()));
        assertEquals(3, set.size());
        assertTrue(set.contains(L2H0));
        assertFalse(set.contains(new HeadId(1, 1)));
        assertEquals(HeadSet.of(List.of(L2H0, L2H3, L0H1)), set);
    }

    @Test
    void cannotBeChangedFromOutside() {
        SortedSet<HeadId> source = new TreeSet<>(List.of(L0H1));
        HeadSet set = new HeadSet(source);
        source.add(L2H3);

        assertEquals(1, set.size());
        assertThrows(UnsupportedOperationException.class, () -> set.heads().add(L2H3));
    }

    @Test
    void emptySet() {
        assertTrue(HeadSet.empty().isEmpty());
        assertEquals(0, HeadSet.empty().size());
        assertEquals("", HeadSet.empty().toString());
        assertEquals(HeadSet.empty(), HeadSet.parse(""));
        assertEquals(HeadSet.empty(), HeadSet.parse("  "));
        assertFalse(HeadSet.of(L0H1).isEmpty());
    }

    @Test
    void inLayerAndUnion() {
        HeadSet a = HeadSet.of(L0H1, L2H3);
        HeadSet b = HeadSet.of(L2H0, L2H3);

        assertEquals(HeadSet.of(L2H0, L2H3), a.union(b).inLayer(2));
        assertEquals(HeadSet.of(L0H1), a.inLayer(0));
        assertTrue(a.inLayer(1).isEmpty());
        assertEquals("L0H1,L2H0,L2H3", a.union(b).toString());
    }

    @Test
    void parseAndToStringRoundTrip() {
        HeadSet set = HeadSet.parse("L2H3, l0h1 ,L2H0");

        assertEquals(HeadSet.of(L0H1, L2H0, L2H3), set);
        assertEquals("L0H1,L2H0,L2H3", set.toString());
        assertEquals(set, HeadSet.parse(set.toString()));
    }

    @Test
    void wildcardTakesEveryHeadOfTheLayer() {
        HeadSet set = HeadSet.parse("L2H*,L0H1", 4);

        assertEquals("L0H1,L2H0,L2H1,L2H2,L2H3", set.toString());
        assertEquals(4, set.inLayer(2).size());
    }

    @Test
    void plainParseRefusesTheWildcard() {
        ScalpelException e = assertThrows(ScalpelException.class, () -> HeadSet.parse("L0H1,L2H*"));

        assertTrue(e.getMessage().contains("'L2H*'"), e.getMessage());
        assertTrue(e.getMessage().contains("head count"), e.getMessage());
    }

    @Test
    void rejectsMalformedItemsNamingThem() {
        ScalpelException bad = assertThrows(ScalpelException.class, () -> HeadSet.parse("L0H1,layer2"));
        assertTrue(bad.getMessage().startsWith("'layer2' in 'L0H1,layer2' is not a head"), bad.getMessage());

        ScalpelException empty = assertThrows(ScalpelException.class, () -> HeadSet.parse("L0H1,,L2H3"));
        assertTrue(empty.getMessage().contains("empty item"), empty.getMessage());

        ScalpelException trailing = assertThrows(ScalpelException.class, () -> HeadSet.parse("L0H1,"));
        assertTrue(trailing.getMessage().contains("empty item"), trailing.getMessage());
    }

    @Test
    void rejectsHeadsBeyondTheModelsHeadCount() {
        ScalpelException e = assertThrows(ScalpelException.class, () -> HeadSet.parse("L0H1,L2H4", 4));

        assertTrue(e.getMessage().contains("L2H4"), e.getMessage());
        assertTrue(e.getMessage().contains("4 heads per layer (H0 to H3)"), e.getMessage());
        assertEquals(HeadSet.of(L2H3), HeadSet.parse("L2H3", 4));
        assertThrows(IllegalArgumentException.class, () -> HeadSet.parse("L2H3", 0));
    }
}
