package dev.scalpel.engine.files;

import java.nio.file.Path;
import java.util.Set;

/**
 * For tests of file formats (not of where Scalpel may write): a permit to write anything under a scratch folder,
 * without the guard's checks. Main code has no such door; it asks {@link OutputGuard}.
 */
public final class TestOutputs {
    private TestOutputs() {}

    public static Output scratch(Path folder) {
        return new Output(OutputKind.RANDOM_MODEL, OutputGuard.realTarget(folder), Set.of());
    }
}
