package dev.scalpel.views.compare;

import java.util.Collection;
import java.util.List;
import javafx.scene.paint.Color;

/**
 * The colour ramp for per-token loss shared by both A/B columns, so equal losses get equal colours: 0 nats light green,
 * half of {@code max} pale yellow, {@code max} and above red. Text stays dark and readable on every colour.
 *
 * @param max the loss in nats that gets the full red (the largest loss on screen, at least 1)
 */
record LossScale(double max) {
    static final Color LOW = Color.web("#d4edd4");
    static final Color MID = Color.web("#fff5c2");
    static final Color HIGH = Color.web("#ef6b6b");

    /** A scale whose red end is the largest scored loss in {@code columns} (at least 1 nat). */
    static LossScale spanning(Collection<List<ScoredToken>> columns) {
        double max = columns.stream().flatMap(List::stream).filter(ScoredToken::scored)
                .mapToDouble(ScoredToken::loss).filter(Double::isFinite).max().orElse(1);
        return new LossScale(Math.max(1, max));
    }

    /** The background for a token with this loss (clamped to [0, max]). */
    Color colour(double loss) {
        double t = Math.max(0, Math.min(1, loss / max));
        return t < 0.5 ? LOW.interpolate(MID, t * 2) : MID.interpolate(HIGH, (t - 0.5) * 2);
    }
}
