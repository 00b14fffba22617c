package dev.scalpel.app.ui.compare;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.scalpel.engine.model.ComputeDevice;
import dev.scalpel.engine.model.LoadedModel;
import dev.scalpel.engine.testing.Fixtures;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Per-token text that adds up to the decoded text, multi-byte characters included. */
class IncrementalDecoderTest {

    @Test
    void tokenTextsConcatenateToTheDecodedTextWithoutBrokenCharacters() {
        try (LoadedModel m = LoadedModel.open(Fixtures.sampleModel(), ComputeDevice.CPU)) {
            String text = "Die Straße ist grün.\n  Zwei  Leerzeichen, 日本語 und ✓ am Ende";
            long[] ids = m.tokenizer().encode(text);
            List<String> texts = IncrementalDecoder.texts(m.tokenizer(), ids);
            assertEquals(ids.length, texts.size());
            assertEquals(m.tokenizer().decode(ids), String.join("", texts));
            assertEquals(text, String.join("", texts), "the sample tokenizer round-trips");
            assertTrue(texts.stream().noneMatch(t -> t.indexOf('\uFFFD') >= 0), "no token shows half a character: " + texts);
            assertTrue(texts.contains(""), "a CJK character spans several byte tokens, the first ones give no text: " + texts);
            assertTrue(texts.stream().anyMatch(t -> t.startsWith(" ")), "leading spaces are kept: " + texts);
        }
    }

    @Test
    void aCharacterCutAtTheEndIsFlushedAsTheDecoderShowsIt() {
        try (LoadedModel m = LoadedModel.open(Fixtures.sampleModel(), ComputeDevice.CPU)) {
            long[] ids = m.tokenizer().encode("a日");
            assertTrue(ids.length >= 3, "日 is several byte tokens here");
            long[] cut = Arrays.copyOf(ids, ids.length - 1);
            List<String> texts = IncrementalDecoder.texts(m.tokenizer(), cut);
            assertEquals(m.tokenizer().decode(cut), String.join("", texts));
            assertTrue(texts.get(texts.size() - 1).contains("\uFFFD"), "the last token carries what is left: " + texts);
        }
    }
}
