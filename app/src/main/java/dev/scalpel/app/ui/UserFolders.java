package dev.scalpel.app.ui;

import java.nio.file.Path;

/**
 * Where the workbench keeps per-user files: {@code ~/.scalpel} (or {@code -Dscalpel.user.dir}, which tests set to a
 * temporary folder) holding the recent-models list and the autosaved workspace.
 */
public record UserFolders(Path root) {

    /** {@code -Dscalpel.user.dir}, else {@code ~/.scalpel}. */
    public static UserFolders standard() {
        String override = System.getProperty("scalpel.user.dir");
        return new UserFolders(override != null ? Path.of(override) : Path.of(System.getProperty("user.home"), ".scalpel"));
    }

    /** One model folder per line, most recent first. */
    public Path recentModels() {
        return root.resolve("recent-models.txt");
    }

    /** The autosaved workspace and the lock that tells a crash from a clean exit. */
    public Path autosave() {
        return root.resolve("autosave");
    }
}
