package dev.scalpel.engine.tokenize;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.scalpel.engine.api.ScalpelException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ByteLevelBpeTest {

    /** Specials {@code <s>} (0) and {@code <s>>} (1); merges b c (rank 0), a b, a a, aa aa (rank 3). */
    private static BpeVocabulary tiny() {
        List<String> tokens = new ArrayList<>(List.of("<s>", "<s>>"));
        tokens.addAll(ByteLevel.alphabet());
        tokens.addAll(List.of("bc", "ab", "aa", "aaaa"));
        List<BpeVocabulary.Merge> merges = List.of(new BpeVocabulary.Merge("b", "c"), new BpeVocabulary.Merge("a", "b"),
                new BpeVocabulary.Merge("a", "a"), new BpeVocabulary.Merge("aa", "aa"));
        return new BpeVocabulary(tokens, merges, 2);
    }

    @Test
    void lowestRankMergesFirst() {
        ByteLevelBpe bpe = ByteLevelBpe.of(tiny());
        assertEquals(List.of("a", "bc"), bpe.tokenize("abc")); // b c (rank 0) beats a b (rank 1)
        assertEquals(List.of("ab", "a"), bpe.tokenize("aba"));
        assertEquals(List.of("aaaa", "a"), bpe.tokenize("aaaaa")); // left to right: aa aa a, then aaaa a
        assertEquals(List.of("aa", "a"), bpe.tokenize("aaa"));
        assertArrayEquals(new int[] {2 + ByteLevel.rank('a'), 258}, bpe.encode("abc"));
        assertEquals(262, bpe.vocabSize());
    }

    @Test
    void piecesAreEncodedSeparately() {
        ByteLevelBpe bpe = ByteLevelBpe.of(tiny());
        // " ab" is one piece, but Ġ a has no merge; "ab" after a space is still merged inside the piece
        assertEquals(List.of("aa", "\u0120", "ab", "\u0120", "bc"), bpe.tokenize("aa ab bc"));
    }

    @Test
    void specialTokensAreSplitOutLeftmostLongest() {
        ByteLevelBpe bpe = ByteLevelBpe.of(tiny());
        assertArrayEquals(new int[] {2 + ByteLevel.rank('x'), 1, 2 + ByteLevel.rank('y'), 0}, bpe.encode("x<s>>y<s>"));
        assertEquals("x<s>>y<s>", bpe.decode(bpe.encode("x<s>>y<s>")));
        assertEquals("xy", bpe.decode(bpe.encode("x<s>>y<s>"), true));
    }

    @Test
    void decodeBytesKeepsPartialCharacters() {
        ByteLevelBpe bpe = ByteLevelBpe.of(tiny());
        int[] ids = bpe.encode("\u00E9"); // no merge for C3 A9: two byte tokens
        assertEquals(2, ids.length);
        assertArrayEquals(new byte[] {(byte) 0xC3}, bpe.decodeBytes(new int[] {ids[0]}));
        assertEquals("\uFFFD", bpe.decode(new int[] {ids[0]}));
        assertEquals("\u00E9", bpe.decode(ids));
        assertEquals("", bpe.decode(new int[] {-1, 99_999})); // unknown ids are dropped
    }

    @Test
    void validTextRoundTripsExactly() {
        ByteLevelBpe bpe = ByteLevelBpe.of(TestCorpora.sample().vocabulary());
        StringBuilder all = new StringBuilder();
        for (int cp = 0; cp < 0x800; cp++) {
            all.appendCodePoint(cp);
        }
        all.append("\uFFFF\uE000\uD83D\uDE00\uDBFF\uDFFF");
        String s = all.toString();
        assertEquals(s, bpe.decode(bpe.encode(s)));
        assertArrayEquals(s.getBytes(StandardCharsets.UTF_8), bpe.decodeBytes(bpe.encode(s)));
    }

    @Test
    void loneSurrogatesBecomeReplacementCharacters() {
        // A lone surrogate has no UTF-8 form, so no tokenizer can give it back; we encode it as U+FFFD.
        ByteLevelBpe bpe = ByteLevelBpe.of(TestCorpora.sample().vocabulary());
        assertArrayEquals(bpe.encode("a\uFFFDb \uFFFD"), bpe.encode("a\uD800b \uDC00"));
        assertEquals("a\uFFFDb", bpe.decode(bpe.encode("a\uD800b")));
    }

    @Test
    void loadedFileEncodesLikeTheVocabulary(@TempDir Path dir) throws IOException {
        BpeVocabulary v = TestCorpora.sample().vocabulary();
        ByteLevelBpe direct = ByteLevelBpe.of(v);
        ByteLevelBpe loaded = ByteLevelBpe.load(TestCorpora.sampleJson());
        // the same file with merges as ["a","b"] pairs (the tokenizers >= 0.20 form)
        ObjectNode root = (ObjectNode) new ObjectMapper().readTree(TestCorpora.sampleJson().toFile());
        ArrayNode pairs = new ObjectMapper().createArrayNode();
        for (BpeVocabulary.Merge m : v.merges()) {
            pairs.addArray().add(m.left()).add(m.right());
        }
        ((ObjectNode) root.get("model")).set("merges", pairs);
        Path pairsJson = dir.resolve("tokenizer.json");
        new ObjectMapper().writeValue(pairsJson.toFile(), root);
        ByteLevelBpe loadedPairs = ByteLevelBpe.load(pairsJson);
        for (String lang : TestCorpora.LANGS) {
            String text = TestCorpora.chunk(TestCorpora.valid(lang), 3000);
            int[] ids = direct.encode(text);
            assertArrayEquals(ids, loaded.encode(text), lang);
            assertArrayEquals(ids, loadedPairs.encode(text), lang);
            assertEquals(text, loaded.decode(ids));
        }
        assertEquals(v.size(), loaded.vocabSize());
        assertEquals(1, loaded.id("<|eos|>"));
        assertEquals("\u0120", loaded.token(v.byteId(' ')));
    }

    @Test
    void rejectsOtherTokenizerKinds(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("tokenizer.json");
        Files.writeString(f, "{\"model\":{\"type\":\"WordPiece\",\"vocab\":{}}}");
        assertThrows(ScalpelException.class, () -> ByteLevelBpe.load(f));
        Files.writeString(f, "{\"normalizer\":null,\"pre_tokenizer\":{\"type\":\"ByteLevel\",\"add_prefix_space\":true},"
                + "\"model\":{\"type\":\"BPE\",\"dropout\":null,\"vocab\":{},\"merges\":[]}}");
        assertThrows(ScalpelException.class, () -> ByteLevelBpe.load(f));
    }
}
