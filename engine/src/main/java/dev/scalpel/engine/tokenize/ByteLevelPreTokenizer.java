package dev.scalpel.engine.tokenize;

import java.util.ArrayList;
import java.util.List;

/**
 * GPT-2 pre-tokenization: splits text where Hugging Face's {@code ByteLevel} pre-tokenizer
 * ({@code use_regex=true, add_prefix_space=false}) splits it, i.e. into the matches of
 * <pre>'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+</pre>
 * as Oniguruma (the regex engine of HF tokenizers) finds them. Written as a hand scanner rather than
 * a {@link java.util.regex.Pattern} because Java's {@code \s} is ASCII-only and the scanner is faster.
 *
 * <p>Character classes, as Oniguruma defines them for Unicode:
 * {@code \s} = U+0009–U+000D, U+0085 and the separators Zs/Zl/Zp (which is the White_Space set);
 * {@code \p{L}} = categories Lu Ll Lt Lm Lo; {@code \p{N}} = Nd Nl No. Only ASCII space U+0020 is
 * taken as the optional leading {@code " ?"}; the contractions are case-sensitive ({@code 'S} is not
 * one). Categories come from the JDK's Unicode tables (Unicode 13 in Java 17); HF's Oniguruma may know
 * a newer Unicode, so a letter assigned after Unicode 13 can split differently — it still round-trips.
 *
 * <p>Every character falls in one alternative, so the pieces tile the text without gaps.
 */
public final class ByteLevelPreTokenizer {

    /** Receives one piece as the char range {@code [start, end)} of the text. */
    @FunctionalInterface
    public interface PieceConsumer {
        void accept(int start, int end);
    }

    private ByteLevelPreTokenizer() {
    }

    /** The pieces of {@code text} in order; their concatenation is {@code text}. */
    public static List<String> split(String text) {
        List<String> pieces = new ArrayList<>();
        split(text, (s, e) -> pieces.add(text.substring(s, e)));
        return pieces;
    }

    /** Calls {@code out} with the char range of every piece of {@code text}, left to right. */
    public static void split(CharSequence text, PieceConsumer out) {
        int n = text.length();
        int i = 0;
        while (i < n) {
            int end = pieceEnd(text, i, n);
            out.accept(i, end);
            i = end;
        }
    }

    /** End (exclusive) of the piece starting at {@code i}: the first alternative that matches there. */
    private static int pieceEnd(CharSequence text, int i, int n) {
        char c = text.charAt(i);
        // 's|'t|'re|'ve|'m|'ll|'d
        if (c == '\'' && i + 1 < n) {
            char c1 = text.charAt(i + 1);
            if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') {
                return i + 2;
            }
            if (i + 2 < n) {
                char c2 = text.charAt(i + 2);
                if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l')) {
                    return i + 3;
                }
            }
        }
        //  ?\p{L}+ |  ?\p{N}+ |  ?[^\s\p{L}\p{N}]+  — with the leading ASCII space
        if (c == ' ' && i + 1 < n) {
            int kind = kind(Character.codePointAt(text, i + 1));
            if (kind != SPACE) {
                return runEnd(text, i + 1, n, kind);
            }
        }
        int cp = Character.codePointAt(text, i);
        int kind = kind(cp);
        if (kind != SPACE) {
            return runEnd(text, i, n, kind);
        }
        // \s+(?!\S) | \s+
        int lastStart = i;
        int j = i;
        while (j < n) {
            int cpj = Character.codePointAt(text, j);
            if (kind(cpj) != SPACE) {
                break;
            }
            lastStart = j;
            j += Character.charCount(cpj);
        }
        if (j == n) {
            return n; // the whole run, up to the end of the text
        }
        // followed by a non-space: leave the last whitespace character for the next piece,
        // unless the run is a single character (then \s+ takes it)
        return lastStart > i ? lastStart : j;
    }

    private static final int LETTER = 0;
    private static final int NUMBER = 1;
    private static final int OTHER = 2;
    private static final int SPACE = 3;

    private static int runEnd(CharSequence text, int from, int n, int kind) {
        int j = from;
        while (j < n) {
            int cp = Character.codePointAt(text, j);
            if (kind(cp) != kind) {
                break;
            }
            j += Character.charCount(cp);
        }
        return j;
    }

    /** The regex class of a code point: \p{L}, \p{N}, \s, or none of them. */
    static int kind(int cp) {
        if (cp < 0x80) { // ASCII fast path
            if ((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z')) {
                return LETTER;
            }
            if (cp >= '0' && cp <= '9') {
                return NUMBER;
            }
            if (cp == ' ' || (cp >= 0x09 && cp <= 0x0D)) {
                return SPACE;
            }
            return OTHER;
        }
        switch (Character.getType(cp)) {
            case Character.UPPERCASE_LETTER, Character.LOWERCASE_LETTER, Character.TITLECASE_LETTER,
                 Character.MODIFIER_LETTER, Character.OTHER_LETTER:
                return LETTER;
            case Character.DECIMAL_DIGIT_NUMBER, Character.LETTER_NUMBER, Character.OTHER_NUMBER:
                return NUMBER;
            case Character.SPACE_SEPARATOR, Character.LINE_SEPARATOR, Character.PARAGRAPH_SEPARATOR:
                return SPACE;
            default:
                return cp == 0x85 ? SPACE : OTHER;
        }
    }
}
