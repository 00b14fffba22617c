package dev.scalpel.engine.model.safetensors;

import java.util.Collection;
import java.util.Comparator;
import java.util.stream.Collectors;

/** Suggests the tensor names nearest to one that was asked for but is not there, for error messages. */
final class SimilarNames {
    private static final int SUGGESTIONS = 3;

    private SimilarNames() {}

    /**
     * A phrase listing the few names closest to {@code wanted} by edit distance, e.g.
     * {@code "the nearest names are 'a', 'b', 'c'"}, or a note that there are no tensors at all.
     */
    static String describe(String wanted, Collection<String> names) {
        if (names.isEmpty()) {
            return "it holds no tensors at all";
        }
        return "the nearest names are " + names.stream()
                .sorted(Comparator.comparingInt((String n) -> editDistance(wanted, n)).thenComparing(Comparator.naturalOrder()))
                .limit(SUGGESTIONS)
                .map(n -> "'" + n + "'")
                .collect(Collectors.joining(", "));
    }

    /** Levenshtein distance: the fewest single-character insertions, deletions and substitutions turning a into b. */
    static int editDistance(String a, String b) {
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            current[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int substitute = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                current[j] = Math.min(substitute, Math.min(previous[j], current[j - 1]) + 1);
            }
            int[] swap = previous;
            previous = current;
            current = swap;
        }
        return previous[b.length()];
    }
}
