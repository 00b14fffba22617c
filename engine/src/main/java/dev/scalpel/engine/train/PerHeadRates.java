package dev.scalpel.engine.train;

import dev.scalpel.engine.api.HeadGrid;
import dev.scalpel.engine.api.HeadId;
import dev.scalpel.engine.api.ImportanceMap;
import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.importance.ImportanceMaps;
import dev.scalpel.engine.importance.Normalization;
import dev.scalpel.engine.model.ModelConfig;
import java.util.function.ToDoubleFunction;

/**
 * Per-head learning-rate scales from an importance map: after rank-normalising it (1 = most important), heads ranked
 * above {@code freezeAbove} are frozen (scale 0) and the others train at {@code (1 − rank) + floor}: weak heads fastest.
 */
public final class PerHeadRates {
    private PerHeadRates() {}

    /**
     * @throws ScalpelException when the map's shape is not the model's, or the thresholds are out of range
     */
    public static ToDoubleFunction<HeadId> fromMap(ImportanceMap map, ModelConfig config, double freezeAbove, double floor) {
        if (!map.grid().equals(config.headGrid())) {
            throw new ScalpelException("The importance map for per-head learning rates (" + map.domain() + ") has "
                    + describe(map.grid()) + " but the model has " + describe(config.headGrid()) + "; compute a map on this model.");
        }
        if (!(freezeAbove >= 0 && freezeAbove <= 1) || !(floor >= 0)) {
            throw new ScalpelException("'freeze above' must be in [0, 1] and the learning-rate floor at least 0.");
        }
        ImportanceMap ranked = ImportanceMaps.normalize(map, Normalization.GLOBAL_RANK);
        return h -> ranked.score(h) > freezeAbove ? 0.0 : (1 - ranked.score(h)) + floor;
    }

    /** "4×4 heads", or for a ragged grid "4 layers of [8, 8, 8, 4] heads". */
    private static String describe(HeadGrid grid) {
        return grid.isRagged() ? grid.layers() + " layers of " + grid.headsPerLayer() + " heads"
                : grid.layers() + "×" + grid.width() + " heads";
    }
}
