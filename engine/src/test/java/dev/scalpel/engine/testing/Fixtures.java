package dev.scalpel.engine.testing;

import java.nio.file.Files;
import java.nio.file.Path;

/** Finds the committed fixture models (made by tools/parity/make_fixtures.py with HF transformers). */
public final class Fixtures {
    private Fixtures() {}

    /** The bundled sample model, {@code sample-models/polyglot-tiny}. */
    public static Path sampleModel() {
        return upwards(Path.of("sample-models", "polyglot-tiny"));
    }

    /** The folder {@code fixtures/models/<name>} of the repository, found upwards from the working folder. */
    public static Path model(String name) {
        return upwards(Path.of("fixtures", "models", name));
    }

    private static Path upwards(Path relative) {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.exists(p.resolve(relative))) {
                return p.resolve(relative);
            }
        }
        throw new IllegalStateException(relative + " not found above " + Path.of("").toAbsolutePath());
    }
}
