package dev.scalpel.engine.tokenize;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * GPT-2's {@code bytes_to_unicode}: every byte 0x00–0xFF gets one printable character, so a byte
 * string can be a vocabulary key. Printable Latin-1 bytes ({@code '!'..'~'}, {@code '¡'..'¬'},
 * {@code '®'..'ÿ'}) stand for themselves; the other 68 bytes, in byte order, get U+0100, U+0101, …
 * (space 0x20 becomes {@code 'Ġ'} U+0120, newline 0x0A becomes {@code 'Ċ'} U+010A).
 *
 * <p>The vocabulary order of the 256 byte symbols is the order of their characters (GPT-2's and
 * the Hugging Face BPE trainer's order): the 188 self-standing bytes first, then the 68 shifted ones.
 */
public final class ByteLevel {

    /** Number of byte symbols. */
    public static final int SIZE = 256;

    private static final char[] BYTE_TO_CHAR = new char[SIZE];
    /** Indexed by char, -1 where the char is no byte symbol. Byte symbols are all below U+0144. */
    private static final int[] CHAR_TO_BYTE = new int[0x144];
    /** Byte → position of its symbol in vocabulary order. */
    private static final int[] BYTE_TO_RANK = new int[SIZE];
    /** Position in vocabulary order → byte. */
    private static final int[] RANK_TO_BYTE = new int[SIZE];
    private static final List<String> ALPHABET;

    static {
        java.util.Arrays.fill(CHAR_TO_BYTE, -1);
        int shifted = 0;
        for (int b = 0; b < SIZE; b++) {
            char c = selfStanding(b) ? (char) b : (char) (SIZE + shifted++);
            BYTE_TO_CHAR[b] = c;
            CHAR_TO_BYTE[c] = b;
        }
        List<String> alphabet = new ArrayList<>(SIZE);
        int rank = 0;
        for (int c = 0; c < CHAR_TO_BYTE.length; c++) {
            int b = CHAR_TO_BYTE[c];
            if (b >= 0) {
                BYTE_TO_RANK[b] = rank;
                RANK_TO_BYTE[rank] = b;
                alphabet.add(String.valueOf((char) c));
                rank++;
            }
        }
        ALPHABET = Collections.unmodifiableList(alphabet);
    }

    private ByteLevel() {
    }

    private static boolean selfStanding(int b) {
        return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    }

    /** The symbol character of byte {@code b} (0–255). */
    public static char toChar(int b) {
        return BYTE_TO_CHAR[b & 0xFF];
    }

    /** The byte a symbol character stands for, or -1 if {@code c} is no byte symbol. */
    public static int toByte(char c) {
        return c < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[c] : -1;
    }

    /** Position of byte {@code b}'s symbol among the 256 symbols in vocabulary order. */
    public static int rank(int b) {
        return BYTE_TO_RANK[b & 0xFF];
    }

    /** The byte whose symbol is at position {@code rank} in vocabulary order. */
    public static int byteAtRank(int rank) {
        return RANK_TO_BYTE[rank];
    }

    /** The 256 one-character symbol strings in vocabulary order. */
    public static List<String> alphabet() {
        return ALPHABET;
    }

    /** Byte-level form of {@code bytes[from, to)}: one symbol character per byte. */
    public static String encode(byte[] bytes, int from, int to) {
        char[] out = new char[to - from];
        for (int i = from; i < to; i++) {
            out[i - from] = BYTE_TO_CHAR[bytes[i] & 0xFF];
        }
        return new String(out);
    }

    /** Byte-level form of all of {@code bytes}. */
    public static String encode(byte[] bytes) {
        return encode(bytes, 0, bytes.length);
    }

    /**
     * The bytes a byte-level string stands for, or {@code null} if some character is no byte symbol
     * (a special token such as {@code "<|bos|>"} is made of byte symbols; one with other characters
     * is not).
     */
    public static byte[] decodeOrNull(CharSequence symbols) {
        byte[] out = new byte[symbols.length()];
        for (int i = 0; i < out.length; i++) {
            int b = toByte(symbols.charAt(i));
            if (b < 0) {
                return null;
            }
            out[i] = (byte) b;
        }
        return out;
    }
}
