package dev.scalpel.engine.importance;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.scalpel.engine.api.HeadSet;
import dev.scalpel.engine.api.ImportanceMap;
import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.model.ModelHash;
import org.junit.jupiter.api.Test;

class ImportanceMapsTest {
    private static final double EPS = 1e-12;

    /** 2 layers x 3 heads; L1H0 and L1H1 tie. */
    private static final ImportanceMap DE = map("model", "de", new double[][] {{1, 2, 3}, {4, 4, 10}});

    private static ImportanceMap map(String model, String domain, double[][] scores) {
        return new ImportanceMap(model, "data-" + domain, domain, "gradient", 1000, scores);
    }

    private static ImportanceMap row(double... scores) {
        return map("model", "x", new double[][] {scores});
    }

    private static void assertScores(double[][] expected, ImportanceMap actual) {
        double[][] scores = actual.scores();
        assertEquals(expected.length, scores.length);
        for (int layer = 0; layer < expected.length; layer++) {
            assertArrayEquals(expected[layer], scores[layer], EPS, "layer " + layer);
        }
    }

    @Test
    void rawNormalizationIsTheMapItself() {
        assertSame(DE, ImportanceMaps.normalize(DE, Normalization.RAW));
    }

    @Test
    void layerZScoreUsesEachLayersMeanAndPopulationStd() {
        // layer 0: mean 2, std sqrt(2/3); layer 1: mean 6, std sqrt(8) = 2 sqrt(2)
        ImportanceMap z = ImportanceMaps.normalize(DE, Normalization.LAYER_ZSCORE);

        double s = Math.sqrt(1.5);
        double r = Math.sqrt(0.5);
        assertScores(new double[][] {{-s, 0, s}, {-r, -r, 2 * r}}, z);
        assertEquals("gradient/layer-z", z.method());
        assertEquals("de", z.domain());
        assertEquals(1000, z.tokens());
    }

    @Test
    void layerZScoreOfAConstantLayerIsZero() {
        ImportanceMap z = ImportanceMaps.normalize(map("model", "de", new double[][] {{5, 5, 5}, {1, 2, 3}}),
                Normalization.LAYER_ZSCORE);

        assertScores(new double[][] {{0, 0, 0}, {-Math.sqrt(1.5), 0, Math.sqrt(1.5)}}, z);
    }

    @Test
    void globalRankScalesMeanRanksToZeroOne() {
        // ascending ranks of 1 2 3 4 4 10: 1 2 3 4.5 4.5 6, scaled by (r - 1) / 5
        ImportanceMap ranked = ImportanceMaps.normalize(DE, Normalization.GLOBAL_RANK);

        assertScores(new double[][] {{0, 0.2, 0.4}, {0.7, 0.7, 1}}, ranked);
        assertEquals("gradient/rank", ranked.method());
        assertScores(new double[][] {{1}}, ImportanceMaps.normalize(row(7), Normalization.GLOBAL_RANK));
    }

    @Test
    void ranksShareTheMeanOfTiedPositions() {
        assertArrayEquals(new double[] {3.5, 1, 3.5, 2}, Ranks.of(new double[] {5, 1, 5, 3}));
        assertArrayEquals(new double[] {2, 2, 2}, Ranks.of(new double[] {-1, -1, -1}));
    }

    @Test
    void normalizationParsesCliNames() {
        assertEquals(Normalization.RAW, Normalization.parse("raw"));
        assertEquals(Normalization.LAYER_ZSCORE, Normalization.parse("layer-z"));
        assertEquals(Normalization.GLOBAL_RANK, Normalization.parse("rank"));

        ScalpelException e = assertThrows(ScalpelException.class, () -> Normalization.parse("zscore"));
        assertEquals("Unknown normalisation 'zscore'; use one of raw, layer-z, rank.", e.getMessage());
    }

    @Test
    void contrastSubtractsTheNormalizedMaps() {
        ImportanceMap en = map("model", "en", new double[][] {{3, 2, 1}, {0, 0, 0}});

        ImportanceMap raw = ImportanceMaps.contrast(DE, en, Normalization.RAW);
        assertScores(new double[][] {{-2, 0, 2}, {4, 4, 10}}, raw);
        assertEquals("de-en", raw.domain());
        assertEquals("contrast(gradient)", raw.method());
        assertEquals("model", raw.modelHash());
        assertEquals(ModelHash.ofText("data-de\ndata-en"), raw.dataHash());
        assertEquals(2000, raw.tokens());

        // en ranks: 0 0 0 share rank 2, then 1 -> 4, 2 -> 5, 3 -> 6; scaled: 1 .8 .6 / .2 .2 .2
        ImportanceMap ranked = ImportanceMaps.contrast(DE, en, Normalization.GLOBAL_RANK);
        assertScores(new double[][] {{-1, -0.6, -0.2}, {0.5, 0.5, 0.8}}, ranked);
        assertEquals("contrast(gradient/rank)", ranked.method());
    }

    @Test
    void contrastOfDifferentMethodsNamesBoth() {
        ImportanceMap ablation = new ImportanceMap("model", "data-en", "en", "ablation-zero", 10, new double[][] {{0, 0, 0}, {0, 0, 0}});

        assertEquals("contrast(gradient,ablation-zero)", ImportanceMaps.contrast(DE, ablation, Normalization.RAW).method());
    }

    @Test
    void contrastRefusesMapsOfDifferentModelsOrShapes() {
        ScalpelException models = assertThrows(ScalpelException.class,
                () -> ImportanceMaps.contrast(DE, map("other", "en", DE.scores()), Normalization.RAW));
        assertTrue(models.getMessage().contains("the maps are of different models (model vs other)"), models.getMessage());

        ScalpelException shapes = assertThrows(ScalpelException.class,
                () -> ImportanceMaps.contrast(DE, map("model", "en", new double[][] {{1, 2}, {3, 4}}), Normalization.RAW));
        assertTrue(shapes.getMessage().contains("different shapes (2 layers x 3 heads vs 2 layers x 2 heads)"), shapes.getMessage());
    }

    @Test
    void topKBreaksTiesByHeadOrder() {
        assertEquals("L1H2", ImportanceMaps.topK(DE, 1).toString());
        assertEquals("L1H0,L1H2", ImportanceMaps.topK(DE, 2).toString());     // L1H0 beats its tie L1H1
        assertEquals("L1H0,L1H1,L1H2", ImportanceMaps.topK(DE, 3).toString());
        assertEquals(HeadSet.empty(), ImportanceMaps.topK(DE, 0));
        assertEquals(6, ImportanceMaps.topK(DE, 6).size());
    }

    @Test
    void weakestKBreaksTiesByHeadOrder() {
        ImportanceMap m = map("model", "de", new double[][] {{0, 0, 1}, {0, 2, 2}});

        assertEquals("L0H0", ImportanceMaps.weakestK(m, 1).toString());
        assertEquals("L0H0,L0H1,L1H0", ImportanceMaps.weakestK(m, 3).toString());
        assertEquals("L0H0,L0H1,L0H2,L1H0", ImportanceMaps.weakestK(m, 4).toString());
        assertEquals("L1H1", ImportanceMaps.topK(m, 1).toString());
    }

    @Test
    void kOutsideTheMapIsRefused() {
        ScalpelException tooMany = assertThrows(ScalpelException.class, () -> ImportanceMaps.topK(DE, 7));
        assertEquals("Cannot take the 7 strongest heads of a map with 6 heads (2 layers x 3 heads); choose k between 0 and 6.",
                tooMany.getMessage());
        assertThrows(ScalpelException.class, () -> ImportanceMaps.weakestK(DE, -1));
    }

    @Test
    void thresholdKeepsScoresStrictlyAbove() {
        assertEquals("L1H2", ImportanceMaps.threshold(DE, 4).toString());
        assertEquals("L1H0,L1H1,L1H2", ImportanceMaps.threshold(DE, 3.5).toString());
        assertEquals(HeadSet.empty(), ImportanceMaps.threshold(DE, 10));
        // the seed idea: importance > 0.8 after rank normalisation
        assertEquals("L1H2", ImportanceMaps.threshold(ImportanceMaps.normalize(DE, Normalization.GLOBAL_RANK), 0.8).toString());
        assertEquals("L1H0,L1H1,L1H2",
                ImportanceMaps.threshold(ImportanceMaps.normalize(DE, Normalization.GLOBAL_RANK), 0.5).toString());
        assertThrows(IllegalArgumentException.class, () -> ImportanceMaps.threshold(DE, Double.NaN));
    }

    @Test
    void spearmanOfTheSameOrderIsOne() {
        ImportanceMap a = map("model", "de", new double[][] {{1, 2, 3}, {4, 5, 6}});
        ImportanceMap monotone = map("model", "en", new double[][] {{0.001, 0.01, 0.1}, {1, 10, 100}});

        assertEquals(1.0, ImportanceMaps.spearman(a, monotone), EPS);
    }

    @Test
    void spearmanOfTheReversedOrderIsMinusOne() {
        ImportanceMap a = map("model", "de", new double[][] {{1, 2, 3}, {4, 5, 6}});
        ImportanceMap reversed = map("model", "en", new double[][] {{60, 50, 40}, {30, 20, 10}});

        assertEquals(-1.0, ImportanceMaps.spearman(a, reversed), EPS);
    }

    @Test
    void spearmanWithTiesIsPearsonOfMeanRanks() {
        // ranks a: 1 2 3 4 5; ranks b (4 and 4 tie): 2 1 4.5 4.5 3.
        // deviations from 3: a -2 -1 0 1 2, b -1 -2 1.5 1.5 0 -> cov 5.5, var a 10, var b 9.5
        double rho = ImportanceMaps.spearman(row(1, 2, 3, 4, 5), row(2, 1, 4, 4, 3));

        assertEquals(5.5 / Math.sqrt(95), rho, EPS);
        assertEquals(0.5642880936468347, rho, 1e-12);
    }

    @Test
    void spearmanRefusesMapsThatRankNothingOrDifferInShape() {
        ScalpelException flat = assertThrows(ScalpelException.class, () -> ImportanceMaps.spearman(row(1, 2, 3), row(4, 4, 4)));
        assertTrue(flat.getMessage().contains("has the same score"), flat.getMessage());

        assertThrows(ScalpelException.class, () -> ImportanceMaps.spearman(row(1, 2, 3), row(1, 2)));
    }
}
