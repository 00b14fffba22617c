package dev.scalpel.engine.tokenize;

import dev.scalpel.engine.files.TestOutputs;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CancellationException;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BpeTrainerTest {

    private static final List<String> SPECIALS = BpeTrainer.DEFAULT_SPECIAL_TOKENS;

    private static BpeTrainer.Result trainText(String text, int vocabSize, int minFrequency) {
        return BpeTrainer.train(WordCounts.ofTexts(List.of(text)),
                new BpeTrainer.Options(vocabSize, minFrequency, 1 << 20, SPECIALS), BpeTrainer.Progress.NONE);
    }

    private static List<String> mergeStrings(BpeVocabulary v) {
        return v.merges().stream().map(BpeVocabulary.Merge::toString).toList();
    }

    /**
     * Pre-tokens: "low"×1, " low"×4, " lower"×2, " newest"×6, " widest"×3 (space shown as Ġ, id 223; the
     * letters have ids 3 + (char - '!'), so d=70 e=71 i=75 l=78 n=80 o=81 r=84 s=85 t=86 w=89).
     * Pair counts: e s 9, s t 9, w e 8 (lower 2 + newest 6), l o 7, o w 7, Ġ l 6, Ġ n 6, ...
     * 1. e s (9; ties with s t, e < s)  2. es t (9)  3. l o (7; ties with o w)  4. lo w (7)
     * then five pairs at 6: Ġ low, Ġ n, n e, e w, w est → smallest left id: 5. e w  → then n ew, Ġ n, Ġ low,
     * ew est: 6. n ew  → Ġ low, Ġ new, new est: Ġ(223) is smaller than new(264), low(262) < new:
     * 7. Ġ low  8. Ġ new  9. Ġnew est  → then four pairs at 3 (widest): 10. d est  11. i dest  12. w idest
     * 13. Ġ widest  → then Ġlow e and e r at 2: 14. e r  15. Ġlow er; every word is one token: done.
     */
    @Test
    void firstMergesMatchHandComputation() {
        String text = "low low low low low lower lower newest newest newest newest newest newest widest widest widest";
        BpeTrainer.Result r = trainText(text, 4096, 2);
        assertEquals(List.of("e s", "es t", "l o", "lo w", "e w", "n ew", "\u0120 low", "\u0120 new", "\u0120new est",
                "d est", "i dest", "w idest", "\u0120 widest", "e r", "\u0120low er"), mergeStrings(r.vocabulary()));
        assertEquals(List.of(9L, 9L, 7L, 7L, 6L, 6L, 6L, 6L, 6L, 3L, 3L, 3L, 3L, 2L, 2L), r.mergeFrequencies());
        BpeVocabulary v = r.vocabulary();
        assertEquals(3 + 256 + 15, v.size());
        assertEquals("es", v.tokens().get(259));
        assertEquals("\u0120lower", v.tokens().get(273));
        assertEquals(5, r.distinctWords());
        assertEquals(text.length(), r.bytesCounted());
    }

    @Test
    void vocabSizeStopsTraining() {
        String text = "low low low low low lower lower newest newest newest newest newest newest widest widest widest";
        BpeVocabulary v = trainText(text, 3 + 256 + 4, 2).vocabulary();
        assertEquals(List.of("e s", "es t", "l o", "lo w"), mergeStrings(v));
        assertEquals(263, v.size());
    }

    @Test
    void minFrequencyStopsTraining() {
        String text = "low low low low low lower lower newest newest newest newest newest newest widest widest widest";
        assertEquals(9, trainText(text, 4096, 4).vocabulary().merges().size()); // counts 9 9 7 7 6 6 6 6 6, then 3
        assertEquals(15, trainText(text, 4096, 0).vocabulary().merges().size()); // nothing left after 15 either way
    }

    /** The example of HF's own trainer test (tokenizers/src/models/bpe/trainer.rs): merges r e, a re, i s. */
    @Test
    void huggingFaceTrainerExample() {
        Map<String, Long> counts = new LinkedHashMap<>();
        for (String w : List.of("roses", "red", "voilets", "blue", "BERT", "big", "and", "so", "GPT-2")) {
            counts.put(w, 1L);
        }
        counts.put("are", 2L);
        counts.put("is", 2L);
        BpeVocabulary v = BpeTrainer.train(new WordCounts(counts, 0),
                new BpeTrainer.Options(30000, 2, 1, List.of()), BpeTrainer.Progress.NONE).vocabulary();
        assertEquals(List.of("r e", "a re", "i s"), mergeStrings(v));
        assertEquals(List.of("re", "are", "is"), v.tokens().subList(256, 259));
    }

    @Test
    void multiByteCharactersMergeTheirBytesFirst() {
        // 'é' is C3 A9 = symbols 'Ã' '©'; the pair occurs 3 times, 'Ġ Ã' twice
        BpeVocabulary v = trainText("\u00E9 \u00E9 \u00E9", 3 + 256 + 2, 2).vocabulary();
        assertEquals(List.of("\u00C3 \u00A9", "\u0120 \u00C3\u00A9"), mergeStrings(v));
    }

    @Test
    void vocabularyLayoutIsSpecialsThenBytesThenMerges() {
        BpeVocabulary v = TestCorpora.sample().vocabulary();
        assertEquals(TestCorpora.VOCAB, v.size());
        assertEquals(SPECIALS, v.tokens().subList(0, 3));
        assertEquals(ByteLevel.alphabet(), v.tokens().subList(3, 259));
        assertEquals(v.size() - 259, v.merges().size()); // no token was produced twice here
        for (int i = 0; i < v.merges().size(); i++) {
            assertEquals(v.merges().get(i).result(), v.tokens().get(259 + i));
        }
        List<Long> f = TestCorpora.sample().mergeFrequencies();
        for (int i = 1; i < f.size(); i++) {
            assertTrue(f.get(i) <= f.get(i - 1), "merge frequencies never increase, at " + i);
        }
        assertTrue(f.get(f.size() - 1) >= 2);
    }

    @Test
    void byteCapSamplesEachSource() throws IOException {
        long cap = 40_000;
        WordCounts all = WordCounts.ofFiles(TestCorpora.trainFiles(), cap);
        assertTrue(all.bytes() <= 5 * cap, "read " + all.bytes());
        assertTrue(all.bytes() >= 5 * cap * 8 / 10, "read only " + all.bytes()); // windows cut to whole lines
        WordCounts one = WordCounts.ofFiles(List.of(TestCorpora.train("de")), cap);
        assertTrue(one.bytes() <= cap && one.bytes() > cap / 2, "read " + one.bytes());
    }

    @Test
    void smallFileIsReadWhole(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("t.txt");
        Files.writeString(f, "ab ab ab\nab\n");
        WordCounts wc = WordCounts.ofFiles(List.of(f), 1 << 20);
        assertEquals(12, wc.bytes());
        assertEquals(Map.of("ab", 2L, " ab", 2L, "\n", 2L), wc.counts());
    }

    @Test
    void trainingTwiceGivesByteIdenticalFiles(@TempDir Path dir) throws IOException {
        BpeTrainer.Options o = new BpeTrainer.Options(1024, 2, 24 * 1024, SPECIALS);
        BpeTrainer.trainToFile(TestCorpora.trainFiles(), TestOutputs.scratch(dir), dir.resolve("a.json"), o, BpeTrainer.Progress.NONE);
        BpeTrainer.trainToFile(TestCorpora.trainFiles(), TestOutputs.scratch(dir), dir.resolve("b.json"), o, BpeTrainer.Progress.NONE);
        byte[] a = Files.readAllBytes(dir.resolve("a.json"));
        assertArrayEquals(a, Files.readAllBytes(dir.resolve("b.json")));
        assertTrue(a.length > 20_000);
    }

    @Test
    void resultDoesNotDependOnWordOrder() {
        Map<String, Long> counts = sampleCounts();
        Map<String, Long> reversed = new TreeMap<>(Comparator.reverseOrder());
        reversed.putAll(counts);
        Map<String, Long> sorted = new TreeMap<>(counts);
        BpeTrainer.Options o = new BpeTrainer.Options(800, 2, 1, SPECIALS);
        BpeVocabulary a = BpeTrainer.train(new WordCounts(reversed, 0), o, BpeTrainer.Progress.NONE).vocabulary();
        BpeVocabulary b = BpeTrainer.train(new WordCounts(sorted, 0), o, BpeTrainer.Progress.NONE).vocabulary();
        assertEquals(a, b);
        assertEquals(800, a.size());
    }

    private static Map<String, Long> sampleCounts() {
        try {
            return WordCounts.ofFiles(TestCorpora.trainFiles(), 16 * 1024).counts();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void progressRisesToOne() {
        List<Double> seen = new ArrayList<>();
        BpeTrainer.train(WordCounts.ofTexts(List.of(TestCorpora.chunk(TestCorpora.train("en"), 20_000))),
                new BpeTrainer.Options(600, 2, 1, SPECIALS), (f, m) -> seen.add(f));
        assertTrue(seen.size() >= 3, "progress calls: " + seen.size());
        for (int i = 1; i < seen.size(); i++) {
            assertTrue(seen.get(i) >= seen.get(i - 1));
        }
        assertEquals(1.0, seen.get(seen.size() - 1));
    }

    @Test
    void interruptCancels() {
        WordCounts wc = WordCounts.ofTexts(List.of("aa bb aa bb cc cc"));
        Thread.currentThread().interrupt();
        try {
            assertThrows(CancellationException.class, () -> BpeTrainer.train(wc,
                    new BpeTrainer.Options(300, 1, 1, SPECIALS), BpeTrainer.Progress.NONE));
        } finally {
            Thread.interrupted();
        }
    }

    @Test
    void optionsAreValidated() {
        assertThrows(IllegalArgumentException.class, () -> new BpeTrainer.Options(258, 2, 1, SPECIALS));
        assertThrows(IllegalArgumentException.class, () -> new BpeTrainer.Options(512, -1, 1, SPECIALS));
        assertThrows(IllegalArgumentException.class, () -> new BpeTrainer.Options(512, 2, 0, SPECIALS));
        assertThrows(IllegalArgumentException.class, () -> new BpeTrainer.Options(512, 2, 1, List.of("<a>", "<a>")));
        assertThrows(IllegalArgumentException.class, () -> new BpeTrainer.Options(512, 2, 1, List.of("a")));
        assertEquals(259, new BpeTrainer.Options(259, 2, 1, SPECIALS).vocabSize());
        assertThrows(java.nio.file.NoSuchFileException.class,
                () -> WordCounts.ofFiles(List.of(Path.of("no-such-file.txt")), 100));
    }
}
