package dev.scalpel.engine.files;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.model.safetensors.TensorSource;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * The one gate every writer passes before it writes: it hands out an {@link Output}, the only way main code writes a
 * file. It refuses, with one line naming the path and the fix,
 * <ul>
 *   <li>any output that is, or is inside, a model folder — one of the {@code models} given (loaded or referenced),
 *       or any folder that holds a Hugging Face checkpoint ({@code config.json} with {@code model.safetensors}, a
 *       sharded index or shards, or {@code pytorch_model*.bin});</li>
 *   <li>any file output that would replace a file Scalpel did not write as the same kind of output (a sibling
 *       {@code model.safetensors}, a user's JSON, a folder);</li>
 *   <li>any folder output into a folder that is not new, empty or claimed by an earlier output of the same kind.</li>
 * </ul>
 * Paths are compared after resolving symbolic links ({@link Path#toRealPath}), and folders by file key (device and
 * inode), so a model reached through a link or a bind mount is still recognised.
 */
public final class OutputGuard {
    /** The file that claims a folder for a folder output. */
    public static final String MARKER = "scalpel-output.json";
    static final String MARKER_FORMAT = "scalpel-output/1";
    private static final ObjectMapper JSON = new ObjectMapper();

    private OutputGuard() {}

    /**
     * Checks that {@code files} may be written as one {@code kind} output and returns the permit to write them.
     *
     * @param models model folders the command has loaded or refers to; never written into
     * @throws ScalpelException naming the first file refused and what to do
     */
    public static Output files(OutputKind kind, Collection<Path> models, Path... files) {
        if (kind.isFolder()) {
            throw new IllegalArgumentException(kind + " is a folder output; use OutputGuard.folder");
        }
        List<Object> protectedKeys = keysOf(models);
        Set<Path> permitted = new LinkedHashSet<>();
        for (Path file : files) {
            Path real = realTarget(file);
            refuseInsideModel(real.getParent(), protectedKeys, file, false);
            if (Files.isDirectory(real)) {
                throw new ScalpelException("Refusing to write the " + kind.description() + " " + file + ": it is a folder; "
                        + "give a file name.");
            }
            if (Files.exists(real) && !kind.recognises(real)) {
                throw new ScalpelException("Refusing to replace " + file + ": Scalpel did not write it as this kind of output ("
                        + kind.description() + "); choose another name, or move the file away first.");
            }
            permitted.add(real);
        }
        return new Output(kind, null, permitted);
    }

    /**
     * Claims {@code dir} for a {@code kind} folder output (creating it and its marker) and returns the permit to
     * write files under it.
     *
     * @param models model folders the command has loaded or refers to; never written into
     * @throws ScalpelException when the folder is a model, inside one, or holds files of anything else
     */
    public static Output folder(OutputKind kind, Path dir, Collection<Path> models) {
        if (!kind.isFolder()) {
            throw new IllegalArgumentException(kind + " is a file output; use OutputGuard.files");
        }
        Path real = checkFolder(kind, dir, keysOf(models));
        Output out = new Output(kind, real, Set.of());
        if (!Files.isRegularFile(real.resolve(MARKER))) {
            claim(out, kind, real);
        }
        return out;
    }

    /**
     * As {@link #folder}, for an output that must appear all at once (a checkpoint, an adapter): its files are staged
     * beside {@code dir} and replace it only at {@link Output#commit()}; closing the output without a commit removes
     * them. Use it in try-with-resources.
     */
    public static Output stagedFolder(OutputKind kind, Path dir, Collection<Path> models) {
        if (!kind.isFolder()) {
            throw new IllegalArgumentException(kind + " is a file output; use OutputGuard.files");
        }
        Path real = checkFolder(kind, dir, keysOf(models));
        Output out = new Output(kind, real, Set.of()).staged();
        claim(out, kind, real);
        return out;
    }

    private static void claim(Output out, OutputKind kind, Path folder) {
        byte[] bytes = ("{\"format\": \"" + MARKER_FORMAT + "\", \"kind\": \"" + kind.markerName()
                + "\", \"note\": \"Scalpel wrote this folder and may write it again; it writes nothing into folders "
                + "without this file.\"}\n").getBytes(StandardCharsets.UTF_8);
        out.write(folder.resolve(MARKER), channel -> TensorSource.writeAll(channel, ByteBuffer.wrap(bytes)));
    }

    /**
     * Whether {@code path} could be written as a {@code kind} output (a folder, or one file), without writing anything:
     * the refusal {@link #folder} or {@link #files} would give, as a message, or null when it may be written.
     */
    public static String problem(OutputKind kind, Path path, Collection<Path> models) {
        try {
            if (kind.isFolder()) {
                checkFolder(kind, path, keysOf(models));
            } else {
                files(kind, models, path);
            }
            return null;
        } catch (ScalpelException e) {
            return e.getMessage();
        }
    }

    /** The checks of {@link #folder}; returns the folder's real path. */
    private static Path checkFolder(OutputKind kind, Path dir, List<Object> protectedKeys) {
        Path real = realTarget(dir);
        refuseInsideModel(real, protectedKeys, dir, true);
        if (Files.exists(real) && !Files.isDirectory(real)) {
            throw new ScalpelException("Refusing to write the " + kind.description() + " into " + dir + ": it is a file; "
                    + "give a folder.");
        }
        if (Files.isDirectory(real) && !isEmpty(real)) {
            String claimedBy = markerKind(real.resolve(MARKER));
            if (!kind.markerName().equals(claimedBy)) {
                throw new ScalpelException("Refusing to write the " + kind.description() + " into " + dir + ": the folder is "
                        + "not empty and " + (claimedBy == null ? "was not written by Scalpel" : "holds a " + claimedBy
                        + " output") + "; choose a new or empty folder.");
            }
        }
        return real;
    }

    /**
     * Refuses when {@code dir} or a folder above it is a protected model or holds a checkpoint.
     * {@code dir} itself may not exist yet; the folders above the first existing one are checked. With
     * {@code claimedSelfAllowed} (a folder output), {@code dir} may be a checkpoint it claimed earlier (an old export).
     */
    private static void refuseInsideModel(Path dir, List<Object> protectedKeys, Path asGiven, boolean claimedSelfAllowed) {
        for (Path d = dir; d != null; d = d.getParent()) {
            if (!Files.isDirectory(d)) {
                continue;
            }
            Object key = keyOf(d);
            if (protectedKeys.contains(key) || (isCheckpointFolder(d) && !(claimedSelfAllowed && d.equals(dir) && markerKind(d.resolve(MARKER)) != null))) {
                throw new ScalpelException("Refusing to write " + asGiven + ": " + (d.equals(realTarget(asGiven)) ? "it is" : "it is inside")
                        + " the model folder " + d + ", and Scalpel never writes into a model's folder; choose an output "
                        + "outside it.");
            }
        }
    }

    /** Whether {@code dir} holds a Hugging Face checkpoint: config.json and weights. */
    static boolean isCheckpointFolder(Path dir) {
        if (!Files.isRegularFile(dir.resolve("config.json"))) {
            return false;
        }
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path entry : entries) {
                String name = entry.getFileName().toString();
                if (name.equals("model.safetensors") || name.equals("model.safetensors.index.json")
                        || name.matches("model-\\d+-of-\\d+\\.safetensors") || name.matches("pytorch_model.*\\.bin(\\.index\\.json)?")) {
                    return true;
                }
            }
            return false;
        } catch (IOException e) {
            return true;   // cannot tell: treat as a model, the safe side
        }
    }

    /** The kind named by a folder marker, or null when there is none or it is not one. */
    private static String markerKind(Path marker) {
        if (!Files.isRegularFile(marker)) {
            return null;
        }
        try {
            JsonNode root = JSON.readTree(marker.toFile());
            return root != null && MARKER_FORMAT.equals(root.path("format").asText()) ? root.path("kind").asText(null) : null;
        } catch (IOException e) {
            return null;
        }
    }

    private static boolean isEmpty(Path dir) {
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            return !entries.iterator().hasNext();
        } catch (IOException e) {
            throw new ScalpelException("Cannot list " + dir + " (" + e.getMessage() + "); check its permissions.", e);
        }
    }

    /**
     * The path with every symbolic link resolved: the file's own real path when it exists, otherwise the real path of
     * its nearest existing folder with the rest appended.
     */
    static Path realTarget(Path path) {
        Path absolute = path.toAbsolutePath().normalize();
        Path existing = absolute;
        while (existing != null && !Files.exists(existing)) {
            existing = existing.getParent();
        }
        if (existing == null) {
            return absolute;
        }
        try {
            return existing.toRealPath().resolve(existing.relativize(absolute)).normalize();
        } catch (IOException e) {
            throw new ScalpelException("Cannot resolve " + path + " (" + e.getMessage() + "); check the path and its permissions.", e);
        }
    }

    private static List<Object> keysOf(Collection<Path> models) {
        List<Object> keys = new ArrayList<>();
        for (Path m : models) {
            if (m != null && Files.isDirectory(m)) {
                keys.add(keyOf(realTarget(m)));
            }
        }
        return keys;
    }

    /** A folder's identity: its file key (device and inode) where the platform has one, else its real path. */
    private static Object keyOf(Path dir) {
        try {
            Object key = Files.readAttributes(dir, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
            return Objects.requireNonNullElse(key, dir);
        } catch (IOException e) {
            return dir;
        }
    }
}
