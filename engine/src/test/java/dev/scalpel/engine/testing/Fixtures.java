package dev.scalpel.engine.testing;

import java.nio.file.Files;
import java.nio.file.Path;

/** Finds the committed fixture models (made by tools/parity/make_fixtures.py with HF transformers). */
public final class Fixtures {
    private Fixtures() {}

    /** The folder {@code fixtures/models/<name>} of the repository, found upwards from the working folder. */
    public static Path model(String name) {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            Path candidate = p.resolve("fixtures").resolve("models").resolve(name);
            if (Files.isDirectory(candidate)) {
                return candidate;
            }
        }
        throw new IllegalStateException("fixture model '" + name + "' not found above " + Path.of("").toAbsolutePath());
    }
}
