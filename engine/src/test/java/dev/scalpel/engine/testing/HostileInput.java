package dev.scalpel.engine.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.model.ModelHash;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * The contract every reader of a user's file keeps, as the fuzz targets check it: the input is read (and what was read
 * then works), or it is refused with a {@link ScalpelException} whose message says what is wrong. Any other exception
 * or error propagates and fails the target, and so does a refusal that only wraps a programming error (a
 * {@link RuntimeException} other than a ScalpelException somewhere in its causes), because its message then names a
 * Java exception rather than the problem.
 */
public final class HostileInput {
    private static final ObjectMapper JSON = new ObjectMapper();

    private HostileInput() {
    }

    /** Something that reads a hostile input and uses what it read. */
    @FunctionalInterface
    public interface Use {
        void run() throws IOException;
    }

    /** Runs {@code use}; a refusal must be a readable ScalpelException, anything else propagates. */
    public static void readOrRefuse(Use use) throws IOException {
        try {
            use.run();
        } catch (ScalpelException refusal) {
            String message = refusal.getMessage();
            if (message == null || message.isBlank()) {
                throw new AssertionError("a refusal without a message", refusal);
            }
            for (Throwable cause = refusal.getCause(); cause != null; cause = cause.getCause()) {
                if (cause instanceof RuntimeException && !(cause instanceof ScalpelException)) {
                    throw new AssertionError("a programming error passed off as a refusal: " + message, refusal);
                }
            }
        }
    }

    /**
     * A JSON manifest with its tensors file as one fuzz input: {@code [u32 manifest length][manifest][tensors]}, so the
     * fuzzer mutates both halves. Where the manifest names its tensors file and hash as strings, they are set to
     * {@code tensorsName} (the file written beside {@code json}) and that file's hash, so a mutated tensors file reaches
     * the reader's checks instead of stopping at the hash (and no name the fuzzer makes up is ever written to).
     */
    public static Path writePair(byte[] input, Path json, String tensorsName) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(input).order(ByteOrder.LITTLE_ENDIAN);
        int length = input.length >= 4 ? Math.floorMod(b.getInt(), input.length - 3) : 0;
        int start = Math.min(4, input.length);
        byte[] manifest = Arrays.copyOfRange(input, start, start + length);
        byte[] tensors = Arrays.copyOfRange(input, start + length, input.length);
        Path tensorsFile = json.resolveSibling(tensorsName);
        Files.write(tensorsFile, tensors);
        Files.write(json, naming(manifest, tensorsName, ModelHash.ofBytes(tensors)));
        return json;
    }

    /** The seed format of {@link #writePair}, from a manifest and its tensors file as Scalpel wrote them. */
    public static byte[] pair(byte[] manifest, byte[] tensors) {
        return ByteBuffer.allocate(4 + manifest.length + tensors.length).order(ByteOrder.LITTLE_ENDIAN)
                .putInt(manifest.length).put(manifest).put(tensors).array();
    }

    private static byte[] naming(byte[] manifest, String tensorsName, String sha256) {
        try {
            JsonNode root = JSON.readTree(manifest);
            if (root instanceof ObjectNode object && object.path("tensors").isTextual() && object.path("tensors_sha256").isTextual()) {
                object.put("tensors", tensorsName);
                object.put("tensors_sha256", sha256);
                return JSON.writeValueAsString(object).getBytes(StandardCharsets.UTF_8);
            }
        } catch (IOException notJson) {
            // the reader gets the bytes as they are and must refuse them itself
        }
        return manifest;
    }
}
