package dev.scalpel.engine.files;

import dev.scalpel.engine.model.safetensors.SafetensorsException;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes a file so that readers see either the old file or the complete new one, never a part:
 * the content goes to a hidden temp file in the same folder, is forced to disk, then renamed over the
 * target in one step. If writing fails, the temp file is deleted and the target is left as it was.
 */
public final class AtomicFiles {
    private static final Logger LOG = LoggerFactory.getLogger(AtomicFiles.class);

    /** Produces a file's content. */
    @FunctionalInterface
    public interface Body {
        /** Writes the whole content to {@code channel}, a fresh empty file. */
        void writeTo(FileChannel channel) throws IOException;
    }

    private AtomicFiles() {}

    /**
     * Writes {@code target} atomically, creating its folder if needed. Exceptions thrown by
     * {@code body} (after clean-up) pass through unchanged, except {@link IOException}s, which become
     * a {@link SafetensorsException} naming the target.
     */
    public static void write(Path target, Body body) {
        Path absolute = target.toAbsolutePath();
        Path dir = absolute.getParent();
        Path temp = dir.resolve("." + absolute.getFileName() + "." + UUID.randomUUID() + ".tmp");
        boolean moved = false;
        try {
            Files.createDirectories(dir);
            // CREATE_NEW (not createTempFile) so the file gets the usual permissions, not owner-only ones
            try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                body.writeTo(channel);
                channel.force(true);
            }
            moveIntoPlace(temp, absolute);
            moved = true;
            syncFolder(dir);
        } catch (IOException e) {
            throw new SafetensorsException("Could not write " + absolute + " (" + e + "); check that the folder is writable "
                    + "and the disk has room. Nothing was changed.", e);
        } finally {
            if (!moved) {
                deleteTemp(temp);
            }
        }
    }

    private static void moveIntoPlace(Path temp, Path target) throws IOException {
        try {
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            LOG.warn("The file system of {} cannot rename atomically; replacing the file non-atomically.", target);
            Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** Makes the rename itself durable where the platform allows syncing a folder (Linux, macOS). */
    private static void syncFolder(Path dir) {
        try (FileChannel folder = FileChannel.open(dir, StandardOpenOption.READ)) {
            folder.force(true);
        } catch (IOException e) {
            LOG.debug("Cannot sync folder {} ({}); the file is written, its rename may not survive a power cut.", dir, e.toString());
        }
    }

    private static void deleteTemp(Path temp) {
        try {
            Files.deleteIfExists(temp);
        } catch (IOException e) {
            LOG.warn("Could not delete the temp file {} ({}); delete it by hand.", temp, e.toString());
        }
    }
}
