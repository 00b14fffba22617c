package dev.scalpel.engine.spec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.importance.HeadImportance;
import dev.scalpel.engine.importance.Normalization;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The importance and components specs: their defaults, their JSON, and a one-line refusal for each bad value. */
class ImportanceSpecTest {
    private static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    @Test
    void defaultsAreGradientRawMapsAndLayerZContrastsOverMin256TokenWindows() {
        ImportanceSpec d = ImportanceSpec.defaults();
        assertEquals(HeadImportance.Method.GRADIENT, d.method());
        assertEquals(Normalization.RAW, d.normalize());
        assertEquals(Normalization.LAYER_ZSCORE, d.contrastNormalize());
        assertEquals(8192, d.maxTokens());
        assertEquals(4, d.batchSize());
        assertTrue(d.cache());
        assertNull(d.contrastPair());
        assertEquals(128, d.window(128));
        assertEquals(256, d.window(2048));
        assertEquals("tokens=8192,context=256", d.cacheKey(2048));
    }

    @Test
    void jsonBindsEveryFieldByItsCliNames() throws Exception {
        ImportanceSpec s = JSON.readValue("""
                {"method": "ablation-mean", "agree_with": "gradient", "contrast": "de-en", "normalize": "rank",
                 "contrast_normalize": "raw", "max_tokens": 512, "context": 64, "batch_size": 2, "out": "m.json", "cache": false}
                """, ImportanceSpec.class);
        assertEquals(new ImportanceSpec(HeadImportance.Method.ABLATION_MEAN, HeadImportance.Method.GRADIENT, "de-en",
                Normalization.GLOBAL_RANK, Normalization.RAW, 512, 64, 2, "m.json", false), s);
        assertArrayEquals(new String[] {"de", "en"}, s.contrastPair());
        assertEquals(s, JSON.readValue(JSON.writeValueAsString(s), ImportanceSpec.class), "written and read back unchanged");
    }

    @Test
    void badValuesAreRefusedNamingTheField() {
        refused("max_tokens (--max-tokens) is 0", () -> new ImportanceSpec(null, null, null, null, null, 0, null, null, null, null));
        refused("batch_size (--batch-size) is -1", () -> new ImportanceSpec(null, null, null, null, null, null, null, -1, null, null));
        refused("context (--context) must be at least 2", () -> new ImportanceSpec(null, null, null, null, null, null, 1, null, null, null));
        refused("two text names joined by '-'", () -> ImportanceSpec.defaults().withContrast("de"));
        refused("subtracts a text from itself", () -> ImportanceSpec.defaults().withContrast("de-de"));
        refused("the method itself", () -> new ImportanceSpec(null, HeadImportance.Method.GRADIENT, null, null, null, null, null, null, null, null));
        refused("this model has 128 positions", () -> new ImportanceSpec(null, null, null, null, null, null, 512, null, null, null).window(128));
        refused("names 'xx', which is not among the texts [de, en]", () -> ImportanceSpec.defaults().withContrast("de-xx").checkTexts(List.of("de", "en")));
        refused("Unknown normalisation 'zscore'", () -> JSON.readValue("{\"normalize\": \"zscore\"}", ImportanceSpec.class));
        refused("Unknown importance method 'saliency'", () -> JSON.readValue("{\"method\": \"saliency\"}", ImportanceSpec.class));
        refused("Name the matrices", () -> new ComponentsSpec(" ", null, null, null));
        refused("rank (--rank) is 0", () -> new ComponentsSpec("layers.0.*", 0, null, null));
        refused("inspect (--inspect) takes MODULE#C", () -> new ComponentsSpec("layers.0.*", null, null, "layers.0.self_attn.v_proj"));
        assertEquals(new ComponentsSpec.Inspected("layers.0.self_attn.v_proj", 6),
                new ComponentsSpec("layers.0.*", null, null, "layers.0.self_attn.v_proj#6").inspected());
        assertEquals(16, new ComponentsSpec("layers.0.*", null, null, null).rank());
    }

    private static void refused(String expected, ThrowingRunnable r) {
        Throwable e = assertThrows(Throwable.class, r::run);
        Throwable cause = e instanceof ScalpelException ? e : e.getCause();
        assertTrue(cause instanceof ScalpelException, "a ScalpelException, not " + e);
        assertTrue(cause.getMessage().contains(expected), cause.getMessage());
        assertTrue(!cause.getMessage().contains("\n"), "one line: " + cause.getMessage());
    }

    private interface ThrowingRunnable {
        void run() throws Exception;
    }
}
