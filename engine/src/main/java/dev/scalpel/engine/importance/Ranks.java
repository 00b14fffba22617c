package dev.scalpel.engine.importance;

import java.util.Arrays;
import java.util.Comparator;

/** Ranks of numbers, for rank normalisation and rank correlation. */
final class Ranks {
    private Ranks() {}

    /**
     * The 1-based ascending rank of each value (the smallest gets 1, the largest {@code n}); tied values
     * all get the mean of the ranks they span, e.g. {@code [5, 1, 5, 3]} gives {@code [3.5, 1, 3.5, 2]}.
     */
    static double[] of(double[] values) {
        Integer[] order = new Integer[values.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, Comparator.comparingDouble(i -> values[i]));
        double[] ranks = new double[values.length];
        int start = 0;
        while (start < order.length) {
            int end = start + 1;                         // [start, end) is a run of equal values
            while (end < order.length && values[order[end]] == values[order[start]]) {
                end++;
            }
            double meanRank = (start + 1 + end) / 2.0;   // mean of the ranks start+1 .. end
            for (int i = start; i < end; i++) {
                ranks[order[i]] = meanRank;
            }
            start = end;
        }
        return ranks;
    }
}
