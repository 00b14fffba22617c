package dev.scalpel.engine.tokenize;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Hand-checked splits of the GPT-2 regex; the same splits against HF itself are in {@link BpeHuggingFaceParityTest}. */
class BpePreTokenizerTest {

    private static void assertSplit(String text, String... pieces) {
        assertEquals(List.of(pieces), ByteLevelPreTokenizer.split(text), () -> "split of '" + text + "'");
        assertEquals(text, String.join("", pieces));
    }

    @Test
    void wordsTakeTheirLeadingSpace() {
        assertSplit("Hello my friend, how is your day going?",
                "Hello", " my", " friend", ",", " how", " is", " your", " day", " going", "?");
    }

    @Test
    void newlineIsItsOwnPiece() {
        assertSplit("Hello there\nHello there", "Hello", " there", "\n", "Hello", " there");
    }

    @Test
    void whitespaceRunLeavesOneSpaceForTheNextWord() {
        assertSplit("Hello there       dear", "Hello", " there", "      ", " dear");
        assertSplit("a\n\n  b", "a", "\n\n ", " b");
        assertSplit("x\t\ty", "x", "\t", "\t", "y"); // a lone tab before a word is not a prefix
        assertSplit("end   ", "end", "   "); // at the end of the text the whole run is one piece
        assertSplit("    return x;", "   ", " return", " x", ";");
    }

    @Test
    void contractionsAreCaseSensitive() {
        assertSplit("I'm can't we'll they're I've he'd it's",
                "I", "'m", " can", "'t", " we", "'ll", " they", "'re", " I", "'ve", " he", "'d", " it", "'s");
        assertSplit("WE'LL 'S", "WE", "'", "LL", " '", "S");
        assertSplit("x?'s", "x", "?'", "s"); // inside a punctuation run the apostrophe is punctuation
    }

    @Test
    void lettersNumbersAndOthersAreSeparateRuns() {
        assertSplit("abc123 4.5e-3", "abc", "123", " 4", ".", "5", "e", "-", "3");
        assertSplit("foo(bar[0]);", "foo", "(", "bar", "[", "0", "]);");
        assertSplit("i\u2B62j", "i", "\u2B62", "j");
    }

    @Test
    void unicodeClassesFollowOniguruma() {
        assertSplit("Stra\u00DFe \u00FCber", "Stra\u00DFe", " \u00FCber"); // Latin-1 letters are \p{L}
        assertSplit("e\u0301t\u00E9", "e", "\u0301", "t\u00E9"); // a combining mark (Mn) is no letter
        assertSplit("\u0661\u0662 \u216B", "\u0661\u0662", " \u216B"); // Nd and Nl are \p{N}
        // NBSP, ideographic space, NEL and line separator are \s; only U+0020 is the optional prefix
        assertSplit("a\u00A0b\u3000c\u0085d\u2028e", "a", "\u00A0", "b", "\u3000", "c", "\u0085", "d", "\u2028", "e");
        assertSplit("x!\u0085\u0085y?\u00A0\u00A0.", "x", "!", "\u0085", "\u0085", "y", "?", "\u00A0", "\u00A0", ".");
        assertSplit("\uD835\uDD18\uD835\uDD2B x", "\uD835\uDD18\uD835\uDD2B", " x"); // supplementary letters
        assertSplit("\uD83D\uDC4D\uD83C\uDFFD!", "\uD83D\uDC4D\uD83C\uDFFD!"); // emoji are neither: one run with '!'
    }

    @Test
    void emptyTextHasNoPieces() {
        assertEquals(List.of(), ByteLevelPreTokenizer.split(""));
    }
}
