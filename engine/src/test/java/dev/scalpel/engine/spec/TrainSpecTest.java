package dev.scalpel.engine.spec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.train.Apollo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalDouble;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Issue 16: APOLLO's hyper-parameters are spec fields with the variant's defaults and checked ranges. */
class TrainSpecTest {
    private static final String HEAD_LORA = "{\"method\": \"head-lora\", \"heads\": \"L1H1\", \"target\": \"de.txt\", ";

    @TempDir
    Path dir;

    private TrainSpec read(String rest) throws IOException {
        Path file = dir.resolve("spec.json");
        Files.writeString(file, HEAD_LORA + rest + "}");
        return TrainSpec.read(file);
    }

    @Test
    void apolloSettingsOverrideTheVariantsDefaultsAndTheRestStays() throws IOException {
        TrainSpec spec = read("\"optimizer\": \"apollo\", \"seed\": 5, \"apollo\": {\"rank\": 16, \"refresh_period\": 50, "
                + "\"norm_growth_limit\": \"Infinity\", \"weight_decay\": 0.01}");
        Apollo.Options o = spec.apolloOptions();
        assertEquals(new Apollo.Options(16, 50, OptionalDouble.empty(), Double.POSITIVE_INFINITY, 0.9, 0.999, 1e-8, 0.01, 5, false), o);
        assertEquals(o, spec.fineTunerSpec().apollo(), "the fine-tuner runs these settings");
        assertEquals(Apollo.Options.mini().withSeed(0), read("\"optimizer\": \"apollo-mini\"").apolloOptions());
        assertEquals(2.5, read("\"optimizer\": \"apollo-mini\", \"apollo\": {\"scale\": 2.5}").apolloOptions().scale().getAsDouble());
        assertNull(read("\"optimizer\": \"adamw\"").apolloOptions());
        Path again = dir.resolve("again.json");
        Files.write(again, spec.toJson());
        assertEquals(spec, TrainSpec.read(again), "a written spec reads back equal");
    }

    @Test
    void apolloSettingsOutsideTheirRangeOrWithoutApolloAreRefusedByName() {
        assertTrue(assertThrows(ScalpelException.class, () -> read("\"apollo\": {\"rank\": 8}")).getMessage()
                .contains("\"apollo\" settings apply to the apollo and apollo-mini optimizers, not adamw"));
        assertTrue(assertThrows(ScalpelException.class, () -> read("\"optimizer\": \"apollo\", \"apollo\": {\"rank\": 0}"))
                .getMessage().contains("apollo.rank must be at least 1, got 0"));
        assertTrue(assertThrows(ScalpelException.class, () -> read("\"optimizer\": \"apollo\", \"apollo\": {\"norm_growth_limit\": 0.5}"))
                .getMessage().contains("apollo.norm_growth_limit must be at least 1"));
        assertTrue(assertThrows(ScalpelException.class, () -> read("\"optimizer\": \"apollo\", \"apollo\": {\"refresh_period\": 0}"))
                .getMessage().contains("apollo.refresh_period must be at least 1 step"));
        assertTrue(assertThrows(ScalpelException.class, () -> read("\"optimizer\": \"apollo\", \"apollo\": {\"weight_decay\": -1}"))
                .getMessage().contains("apollo.weight_decay must be in [0, 1)"));
        assertTrue(assertThrows(ScalpelException.class, () -> read("\"optimizer\": \"apollo\", \"apollo\": {\"ranks\": 2}"))
                .getMessage().contains("ranks"), "an unknown field is named");
    }
}
