package dev.scalpel.engine.sample;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.scalpel.engine.api.ScalpelException;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** build-sample --mix: the shares of the training rows, normalised, with unnamed sources left out; bad mixes refused. */
class SampleMixTest {
    private static SampleModelRecipe.Options with(Map<String, Double> mix) {
        return new SampleModelRecipe.Options(Path.of("corpora"), null, 1000, 1, 8, 2e-3, mix, null);
    }

    @Test
    void sharesAreNormalisedAndUnnamedSourcesGetNone() {
        Map<String, Double> shares = with(Map.of("en", 6.0, "de", 2.0, "fr", 1.0, "es", 1.0)).shares();
        assertEquals(Map.of("en", 0.6, "de", 0.2, "fr", 0.1, "es", 0.1, "code", 0.0), shares);
        assertEquals(java.util.List.of("en", "de", "fr", "es", "code"), java.util.List.copyOf(shares.keySet()), "in SOURCES order");
        assertEquals(0.2, with(null).shares().get("code"), 1e-12, "the default is an equal mix");
    }

    @Test
    void badMixesAreRefusedNamingTheProblem() {
        var e = assertThrows(ScalpelException.class, () -> with(Map.of("it", 1.0)));
        assertTrue(e.getMessage().contains("--mix names 'it'"), e.getMessage());
        e = assertThrows(ScalpelException.class, () -> with(Map.of("en", -1.0)));
        assertTrue(e.getMessage().contains("share -1.0"), e.getMessage());
        e = assertThrows(ScalpelException.class, () -> with(Map.of("en", 0.0)));
        assertTrue(e.getMessage().contains("every source a share of 0"), e.getMessage());
    }
}
