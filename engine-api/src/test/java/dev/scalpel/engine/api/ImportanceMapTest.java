package dev.scalpel.engine.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ImportanceMapTest {
    private static ImportanceMap map(double[][] scores) {
        return new ImportanceMap("m", "d", "de", "gradient", 100, scores);
    }

    @Test
    void shapeAndScores() {
        ImportanceMap m = map(new double[][] {{1, 2, 3}, {4, 5, 6}});

        assertEquals(2, m.layers());
        assertEquals(3, m.heads());
        assertEquals(6.0, m.score(new HeadId(1, 2)));
        assertEquals(2.0, m.score(new HeadId(0, 1)));
    }

    @Test
    void scoreOutsideTheMapIsRefused() {
        ImportanceMap m = map(new double[][] {{1, 2, 3}, {4, 5, 6}});

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> m.score(new HeadId(0, 3)));
        assertEquals("L0H3 is outside this importance map of 2 layers x 3 heads", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> m.score(new HeadId(2, 0)));
    }

    @Test
    void copiesItsScoresInAndOut() {
        double[][] scores = {{1, 2}, {3, 4}};
        ImportanceMap m = map(scores);
        scores[0][0] = 99;
        m.scores()[1][1] = 99;

        assertArrayEquals(new double[] {1, 2}, m.scores()[0]);
        assertArrayEquals(new double[] {3, 4}, m.scores()[1]);
    }

    @Test
    void equalityLooksAtTheScoreValues() {
        ImportanceMap a = map(new double[][] {{1, 2}, {3, 4}});
        ImportanceMap b = map(new double[][] {{1, 2}, {3, 4}});

        assertEquals(a, b);
        assertEquals(a.hashCode(), b.hashCode());
        assertNotEquals(a, map(new double[][] {{1, 2}, {3, 5}}));
        assertNotEquals(a, new ImportanceMap("m", "d", "en", "gradient", 100, a.scores()));
        assertNotEquals(a, new ImportanceMap("m", "d", "de", "gradient", 101, a.scores()));
        assertEquals("ImportanceMap[modelHash=m, dataHash=d, domain=de, method=gradient, tokens=100, "
                + "scores=[[1.0, 2.0], [3.0, 4.0]]]", a.toString());
    }

    @Test
    void withScoresKeepsModelDataAndTokens() {
        ImportanceMap m = map(new double[][] {{1, 2}, {3, 4}}).withScores(new double[][] {{0, 1}, {1, 0}}, "gradient/rank", "code");

        assertEquals(new ImportanceMap("m", "d", "code", "gradient/rank", 100, new double[][] {{0, 1}, {1, 0}}), m);
    }

    @Test
    void raggedMapsHaveAbsentCellsBeyondEachLayersHeads() {
        // a hybrid: two Gated DeltaNet layers of 4 value heads, one attention layer of 2 heads
        ImportanceMap m = map(new double[][] {{1, 2, 3, 4}, {5, 6, 7, 8}, {9, 10}});

        assertEquals(3, m.layers());
        assertEquals(4, m.heads());
        assertEquals(new HeadGrid(java.util.List.of(4, 4, 2)), m.grid());
        assertTrue(m.has(new HeadId(1, 3)));
        assertTrue(!m.has(new HeadId(2, 2)) && !m.has(new HeadId(3, 0)));
        assertEquals(10.0, m.score(new HeadId(2, 1)));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> m.score(new HeadId(2, 2)));
        assertEquals("L2H2 is outside this importance map of 3 layers x 2 heads in layer 2", e.getMessage());
        assertEquals(2, m.scores()[2].length);
    }

    @Test
    void rejectsScoresThatAreNotFinite() {
        assertMessage("An importance map needs at least one layer of scores, got none", new double[0][]);
        assertMessage("An importance map needs at least one head per layer, layer 0 has none", new double[][] {{}});
        assertMessage("An importance map needs at least one head per layer, layer 1 has none", new double[][] {{1, 2}, {}});
        assertMessage("The importance score of L1H0 is NaN; scores must be finite numbers", new double[][] {{1, 2}, {Double.NaN, 2}});
        assertMessage("The importance score of L0H1 is Infinity; scores must be finite numbers",
                new double[][] {{1, Double.POSITIVE_INFINITY}});
        IllegalArgumentException tokens = assertThrows(IllegalArgumentException.class,
                () -> new ImportanceMap("m", "d", "de", "gradient", -1, new double[][] {{1}}));
        assertTrue(tokens.getMessage().contains("tokens >= 0"), tokens.getMessage());
    }

    private static void assertMessage(String expected, double[][] scores) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> map(scores));
        assertEquals(expected, e.getMessage());
    }
}
