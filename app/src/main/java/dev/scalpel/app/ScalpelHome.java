package dev.scalpel.app;

import java.nio.file.Files;
import java.nio.file.Path;

/** Finds files that ship with Scalpel (the sample model, tools/): under -Dscalpel.home, else upwards from the working folder. */
public final class ScalpelHome {
    private ScalpelHome() {}

    /** The existing path {@code relative} resolves to, or null. */
    public static Path find(Path relative) {
        String home = System.getProperty("scalpel.home");
        if (home != null && Files.exists(Path.of(home).resolve(relative))) {
            return Path.of(home).resolve(relative);
        }
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.exists(p.resolve(relative))) {
                return p.resolve(relative);
            }
        }
        return null;
    }
}
