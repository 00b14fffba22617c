package dev.scalpel.engine.tokenize;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BpeTokenizerJsonWriterTest {

    @Test
    void writesTheHuggingFaceLayout(@TempDir Path dir) throws IOException {
        BpeVocabulary v = TestCorpora.sample().vocabulary();
        Path f = dir.resolve("tokenizer.json");
        Files.write(f, TokenizerJsonWriter.toBytes(v));
        JsonNode root = new ObjectMapper().readTree(f.toFile());
        assertEquals("1.0", root.get("version").asText());
        assertTrue(root.get("truncation").isNull());
        assertTrue(root.get("padding").isNull());
        assertTrue(root.get("normalizer").isNull());
        assertTrue(root.get("post_processor").isNull());
        JsonNode added = root.get("added_tokens");
        assertEquals(3, added.size());
        for (int i = 0; i < 3; i++) {
            assertEquals(i, added.get(i).get("id").asInt());
            assertEquals(BpeTrainer.DEFAULT_SPECIAL_TOKENS.get(i), added.get(i).get("content").asText());
            assertTrue(added.get(i).get("special").asBoolean());
            assertFalse(added.get(i).get("normalized").asBoolean());
        }
        JsonNode pre = root.get("pre_tokenizer");
        assertEquals("ByteLevel", pre.get("type").asText());
        assertFalse(pre.get("add_prefix_space").asBoolean());
        assertTrue(pre.get("use_regex").asBoolean());
        assertEquals("ByteLevel", root.get("decoder").get("type").asText());
        JsonNode model = root.get("model");
        assertEquals("BPE", model.get("type").asText());
        assertFalse(model.get("byte_fallback").asBoolean());
        assertTrue(model.get("unk_token").isNull());
        assertEquals(v.size(), model.get("vocab").size());
        assertEquals(0, model.get("vocab").get("<|bos|>").asInt());
        assertEquals(3 + 220, model.get("vocab").get("\u0120").asInt());
        assertEquals(v.size() - 1, model.get("vocab").get(v.tokens().get(v.size() - 1)).asInt());
        assertEquals(v.merges().size(), model.get("merges").size());
        assertEquals(v.merges().get(0).left() + " " + v.merges().get(0).right(), model.get("merges").get(0).asText());
        String text = Files.readString(f, StandardCharsets.UTF_8);
        assertTrue(text.startsWith("{\n  \"version\": \"1.0\",\n"), text.substring(0, 40));
        assertFalse(text.contains("\r"));
    }
}
