package dev.scalpel.app.ui.compare;

import dev.scalpel.engine.model.TextTokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Turns token ids into per-token text as they arrive, faithful to the decoder: token i's text is the decoded text of
 * ids 0..i minus what earlier tokens already gave, so spaces and joins come out as the tokenizer makes them. While the
 * text ends inside a multi-byte character (the decoder shows U+FFFD), the token gives "" and its bytes wait for the
 * token that completes the character; {@link #rest()} flushes what still waits at the end.
 */
public final class IncrementalDecoder {
    private static final char INCOMPLETE = '\uFFFD';

    private final TextTokenizer tokenizer;
    private long[] ids = new long[32];
    private int count;
    private String emitted = "";

    public IncrementalDecoder(TextTokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    /** One string per id whose concatenation is {@code tokenizer.decode(ids)}. */
    public static List<String> texts(TextTokenizer tokenizer, long[] ids) {
        IncrementalDecoder decoder = new IncrementalDecoder(tokenizer);
        List<String> out = new ArrayList<>(ids.length);
        for (int i = 0; i < ids.length; i++) {
            String text = decoder.next(ids[i]);
            out.add(i == ids.length - 1 ? text + decoder.rest() : text);
        }
        return out;
    }

    /** Adds {@code id}; returns the text it completes ("" while the text ends inside a character). */
    public String next(long id) {
        if (count == ids.length) {
            ids = Arrays.copyOf(ids, count * 2);
        }
        ids[count++] = id;
        String full = decoded();
        return full.isEmpty() || full.charAt(full.length() - 1) != INCOMPLETE ? take(full) : "";
    }

    /** The text still held back, as the decoder shows it now (with U+FFFD for an unfinished character). */
    public String rest() {
        return take(decoded());
    }

    private String decoded() {
        return tokenizer.decode(Arrays.copyOf(ids, count));
    }

    /**
     * The part of {@code full} not yet emitted. Decoders only append for byte-level BPE; should one rewrite earlier
     * text, the new text starts where the two agree.
     */
    private String take(String full) {
        int same = 0;
        int limit = Math.min(full.length(), emitted.length());
        while (same < limit && full.charAt(same) == emitted.charAt(same)) {
            same++;
        }
        emitted = full;
        return full.substring(same);
    }
}
