package dev.scalpel.engine.files;

import dev.scalpel.engine.api.ScalpelException;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.UUID;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes a multi-file output appear all at once: its files are written into a hidden sibling folder
 * ({@code .NAME.staging-ID}), and {@link #commit} renames that over the destination (an earlier export is first renamed
 * aside, then deleted). A crash or failure before the commit leaves the destination as it was; readers never see a mix
 * of old and new files. Staging folders a crashed run left behind (untouched for {@link #LEFTOVER_AGE}; a younger one
 * may belong to another export still running) are removed the next time the destination is written.
 */
final class FolderStaging {
    private static final Logger LOG = LoggerFactory.getLogger(FolderStaging.class);
    static final java.time.Duration LEFTOVER_AGE = java.time.Duration.ofMinutes(10);

    private final Path destination;
    private final Path staging;
    private boolean committed;

    private FolderStaging(Path destination, Path staging) {
        this.destination = destination;
        this.staging = staging;
    }

    /** Creates the staging folder beside {@code destination} (a real, checked path). */
    static FolderStaging beside(Path destination) {
        Path parent = destination.getParent();
        String name = destination.getFileName().toString();
        try {
            Files.createDirectories(parent);
            removeLeftovers(parent, name);
            Path staging = Files.createDirectory(parent.resolve("." + name + ".staging-" + UUID.randomUUID()));
            return new FolderStaging(destination, staging);
        } catch (IOException e) {
            throw new ScalpelException("Cannot create a staging folder beside " + destination + " (" + e.getMessage()
                    + "); check that " + parent + " is writable.", e);
        }
    }

    /** Where a file meant for {@code target} (under the destination) is written until the commit. */
    Path redirect(Path target) {
        return target.startsWith(destination) ? staging.resolve(destination.relativize(target)) : target;
    }

    /** Puts the staged folder in place of the destination. */
    synchronized void commit() {
        if (committed) {
            return;
        }
        Path replaced = destination.resolveSibling("." + destination.getFileName() + ".replaced-" + UUID.randomUUID());
        try {
            boolean hadOld = Files.exists(destination);
            if (hadOld) {
                Files.move(destination, replaced, StandardCopyOption.ATOMIC_MOVE);
            }
            Files.move(staging, destination, StandardCopyOption.ATOMIC_MOVE);
            committed = true;
            if (hadOld) {
                deleteTree(replaced);
            }
        } catch (IOException e) {
            throw new ScalpelException("Could not put the new " + destination.getFileName() + " in place (" + e.getMessage()
                    + "); the previous one, if any, is " + (Files.exists(replaced) ? replaced : destination) + ".", e);
        }
    }

    /** Removes the staging folder unless committed (a failed or cancelled write leaves nothing behind). */
    synchronized void abandon() {
        if (!committed) {
            deleteTree(staging);
        }
    }

    private static void removeLeftovers(Path parent, String name) throws IOException {
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(parent, "." + name + ".{staging,replaced}-*")) {
            java.time.Instant before = java.time.Instant.now().minus(LEFTOVER_AGE);
            for (Path leftover : entries) {
                if (Files.getLastModifiedTime(leftover).toInstant().isBefore(before)) {
                    LOG.info("Removing {}, left by an interrupted write of {}.", leftover, name);
                    deleteTree(leftover);
                }
            }
        }
    }

    private static void deleteTree(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            LOG.warn("Could not delete {} ({}); delete it by hand.", root, e.toString());
        }
    }
}
