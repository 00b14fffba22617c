package dev.scalpel.engine.model;

import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.model.safetensors.SafetensorsCheckpoint;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Content hashes (lowercase hex SHA-256) that name what an importance map, an edit or a head group
 * was made from: a model checkpoint ({@link #of}) or a text ({@link #ofText}).
 *
 * <p>A model's hash covers {@code config.json} and then its weights: {@code model.safetensors}, or for a
 * sharded checkpoint {@code model.safetensors.index.json} followed by its shards in file-name order. The
 * tokenizer and generation settings are not part of it. Hashing reads every byte, so the result is
 * remembered per folder together with the files' total size and newest modification time, and
 * reused while those stay the same.
 */
public final class ModelHash {
    private static final String CONFIG_FILE = "config.json";
    private static final int BUFFER_BYTES = 1 << 20;
    private static final int SHORT_LENGTH = 12;

    /** What a folder's files looked like when hashed: a change to either means hash again. */
    private record Stamp(long totalBytes, FileTime newest) {}

    private record Remembered(Stamp stamp, String hash) {}

    /** Absolute folder → its last hash; one entry per folder hashed in this process. */
    private static final Map<Path, Remembered> REMEMBERED = new ConcurrentHashMap<>();

    private ModelHash() {}

    /**
     * The hash of the model in {@code modelDir}.
     *
     * @throws ScalpelException if the folder has no {@code config.json} or no valid safetensors
     *                          checkpoint, or a file cannot be read
     */
    public static String of(Path modelDir) {
        Path dir = modelDir.toAbsolutePath().normalize();
        List<Path> files = filesToHash(dir);
        Stamp stamp = stampOf(files);   // taken before reading, so a file changed mid-hash is hashed again next time
        Remembered known = REMEMBERED.get(dir);
        if (known != null && known.stamp().equals(stamp)) {
            return known.hash();
        }
        String hash = hashFiles(files);
        REMEMBERED.put(dir, new Remembered(stamp, hash));
        return hash;
    }

    /** The hash of a text's UTF-8 bytes (used to name the data an importance map was measured on). */
    public static String ofText(String text) {
        return ofBytes(text.getBytes(StandardCharsets.UTF_8));
    }

    /** The hash of some bytes. */
    public static String ofBytes(byte[] bytes) {
        MessageDigest sha = sha256();
        sha.update(bytes);
        return HexFormat.of().formatHex(sha.digest());
    }

    /** The hash of one file's bytes. */
    public static String ofFile(Path file) {
        return hashFiles(List.of(file));
    }

    /** The first 12 hex digits of a hash, for display (the whole text if shorter). */
    public static String shortHash(String hex) {
        return hex.length() <= SHORT_LENGTH ? hex : hex.substring(0, SHORT_LENGTH);
    }

    private static List<Path> filesToHash(Path dir) {
        Path config = dir.resolve(CONFIG_FILE);
        if (!Files.isRegularFile(config)) {
            throw new ScalpelException("No " + CONFIG_FILE + " in " + dir + "; point Scalpel at a Hugging Face model folder.");
        }
        List<Path> files = new ArrayList<>();
        files.add(config);
        try (SafetensorsCheckpoint checkpoint = SafetensorsCheckpoint.open(dir)) {
            List<Path> weights = new ArrayList<>(checkpoint.files());
            if (!Files.isRegularFile(dir.resolve(SafetensorsCheckpoint.SINGLE_FILE))) {
                files.add(dir.resolve(SafetensorsCheckpoint.INDEX_FILE));   // sharded: the index says which tensor is where
            }
            weights.sort(Comparator.comparing(p -> p.getFileName().toString()));
            files.addAll(weights);
        }
        return files;
    }

    private static Stamp stampOf(List<Path> files) {
        long total = 0;
        FileTime newest = FileTime.fromMillis(Long.MIN_VALUE);
        for (Path file : files) {
            try {
                total += Files.size(file);
                FileTime modified = Files.getLastModifiedTime(file);
                newest = modified.compareTo(newest) > 0 ? modified : newest;
            } catch (IOException e) {
                throw cannotRead(file, e);
            }
        }
        return new Stamp(total, newest);
    }

    private static String hashFiles(List<Path> files) {
        MessageDigest sha = sha256();
        ByteBuffer buffer = ByteBuffer.allocate(BUFFER_BYTES);
        for (Path file : files) {
            try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
                while (channel.read(buffer.clear()) >= 0) {
                    sha.update(buffer.flip());
                }
            } catch (IOException e) {
                throw cannotRead(file, e);
            }
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    private static ScalpelException cannotRead(Path file, IOException e) {
        return new ScalpelException("Could not read " + file + " to hash it (" + e + "); check that the file exists "
                + "and is readable.", e);
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("This Java runtime has no SHA-256, which every Java platform must provide", e);
        }
    }
}
