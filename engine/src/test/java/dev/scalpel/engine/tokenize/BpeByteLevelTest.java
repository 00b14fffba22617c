package dev.scalpel.engine.tokenize;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BpeByteLevelTest {

    @Test
    void gpt2MapOfKnownBytes() {
        assertEquals('A', ByteLevel.toChar('A'));
        assertEquals('!', ByteLevel.toChar('!'));
        assertEquals('\u0100', ByteLevel.toChar(0x00)); // first non-printable byte
        assertEquals('\u010A', ByteLevel.toChar('\n')); // 'Ċ'
        assertEquals('\u0120', ByteLevel.toChar(' ')); // 'Ġ'
        assertEquals('\u0121', ByteLevel.toChar(0x7F)); // 33 bytes 0x00-0x20 come first
        assertEquals('\u0142', ByteLevel.toChar(0xA0));
        assertEquals('\u0143', ByteLevel.toChar(0xAD)); // soft hyphen, the last shifted byte
        assertEquals('\u00E9', ByteLevel.toChar(0xE9));
        assertEquals('\u00FF', ByteLevel.toChar(0xFF));
    }

    @Test
    void mapIsABijectionOnto256Chars() {
        Set<Character> chars = new HashSet<>();
        for (int b = 0; b < 256; b++) {
            char c = ByteLevel.toChar(b);
            assertTrue(chars.add(c), "duplicate symbol for byte " + b);
            assertEquals(b, ByteLevel.toByte(c));
        }
        assertEquals(256, chars.size());
        assertEquals(-1, ByteLevel.toByte('\u0144'));
        assertEquals(-1, ByteLevel.toByte(' '));
        assertEquals(-1, ByteLevel.toByte('\u00AD'));
    }

    @Test
    void alphabetIsInCharOrderWithPrintablesFirst() {
        List<String> a = ByteLevel.alphabet();
        assertEquals(256, a.size());
        assertEquals("!", a.get(0));
        assertEquals("~", a.get(93));
        assertEquals("\u00A1", a.get(94));
        assertEquals("\u00FF", a.get(187));
        assertEquals("\u0100", a.get(188)); // byte 0
        assertEquals("\u0120", a.get(220)); // space
        assertEquals("\u0143", a.get(255)); // byte 0xAD
        for (int r = 1; r < 256; r++) {
            assertTrue(a.get(r - 1).charAt(0) < a.get(r).charAt(0));
            assertEquals(r, ByteLevel.rank(ByteLevel.byteAtRank(r)));
        }
    }

    @Test
    void encodeDecodeEveryByte() {
        byte[] all = new byte[256];
        for (int b = 0; b < 256; b++) {
            all[b] = (byte) b;
        }
        String s = ByteLevel.encode(all);
        assertEquals(256, s.length());
        assertArrayEquals(all, ByteLevel.decodeOrNull(s));
        assertEquals("Hello\u0120w\u00C3\u00A9", ByteLevel.encode("Hello wé".getBytes(StandardCharsets.UTF_8)));
        assertNull(ByteLevel.decodeOrNull("a b")); // plain space is no byte symbol
    }
}
