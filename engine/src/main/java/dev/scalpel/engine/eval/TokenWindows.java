package dev.scalpel.engine.eval;

import dev.scalpel.engine.api.ScalpelException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Cuts a long token sequence into teacher-forcing windows of at most {@code context} tokens that overlap by one
 * token (BOS first when given), so that every token after the first is predicted exactly once, and groups windows of
 * equal length into batches.
 */
public final class TokenWindows {
    private TokenWindows() {}

    /** Batches of windows, each batch [rows][length] with one length; in text order. */
    public static List<long[][]> batches(String name, long[] tokens, Integer bos, int context, int batchSize) {
        long[] seq = bos == null ? tokens : prepend(bos, tokens);
        if (seq.length < 2) {
            throw new ScalpelException("'" + name + "' has too little text to score (" + tokens.length + " tokens); give a longer text.");
        }
        List<long[]> windows = new ArrayList<>();
        for (int start = 0; start < seq.length - 1; start += context - 1) {
            windows.add(Arrays.copyOfRange(seq, start, Math.min(seq.length, start + context)));
        }
        List<long[][]> batches = new ArrayList<>();
        for (int i = 0; i < windows.size(); ) {
            int len = windows.get(i).length;
            int j = i;
            while (j < windows.size() && j - i < batchSize && windows.get(j).length == len) {
                j++;
            }
            batches.add(windows.subList(i, j).toArray(new long[0][]));
            i = j;
        }
        return batches;
    }

    private static long[] prepend(long first, long[] rest) {
        long[] out = new long[rest.length + 1];
        out[0] = first;
        System.arraycopy(rest, 0, out, 1, rest.length);
        return out;
    }
}
