package dev.scalpel.views.compare;

/**
 * One token of a generated or reference text as the A/B panel shows it: its text and, where a reference was scored,
 * the model's cross-entropy on it in nats ({@link Double#NaN} when unscored).
 */
public record ScoredToken(String text, double loss) {

    /** A token shown without a loss colour. */
    public static ScoredToken unscored(String text) {
        return new ScoredToken(text, Double.NaN);
    }

    public boolean scored() {
        return !Double.isNaN(loss);
    }
}
