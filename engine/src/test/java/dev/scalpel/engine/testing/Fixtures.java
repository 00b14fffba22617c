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

    /** A copy of fixture {@code name}'s files in {@code dir} (created), for tests that change or add files. */
    public static Path copyOf(String name, Path dir) throws java.io.IOException {
        Files.createDirectories(dir);
        try (var files = Files.list(model(name))) {
            for (Path f : files.toList()) {
                Files.copy(f, dir.resolve(f.getFileName()));
            }
        }
        return dir;
    }

    /** A copy of the folder {@code from} with everything under it, at {@code to} (which must not exist). */
    public static Path copyTree(Path from, Path to) throws java.io.IOException {
        try (var paths = Files.walk(from)) {
            for (Path p : paths.toList()) {
                Files.copy(p, to.resolve(from.relativize(p).toString()), java.nio.file.LinkOption.NOFOLLOW_LINKS);
            }
        }
        return to;
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
