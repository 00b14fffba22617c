package dev.scalpel.engine.export;

import dev.scalpel.engine.api.ScalpelException;
import java.nio.file.Path;

/** Rules for where exports may go. */
public final class ExportTargets {
    private ExportTargets() {}

    /** Exports never go into (or under) the base model's folder: the base checkpoint is never written. */
    public static void refuseBaseFolder(Path modelDir, Path out) {
        Path base = modelDir.toAbsolutePath().normalize();
        Path target = out.toAbsolutePath().normalize();
        if (target.startsWith(base)) {
            throw new ScalpelException("Refusing to write into the base model's folder " + modelDir
                    + "; choose an --out outside it.");
        }
    }
}
