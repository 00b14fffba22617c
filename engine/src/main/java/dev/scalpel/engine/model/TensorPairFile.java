package dev.scalpel.engine.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.files.Output;
import dev.scalpel.engine.files.OutputGuard;
import dev.scalpel.engine.files.OutputKind;
import dev.scalpel.engine.model.safetensors.TensorSource;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.bytedeco.pytorch.Tensor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A JSON manifest ({@code NAME.json}) and the safetensors file of its tensors, written and read as one unit (edits
 * files, head groups). The tensors go to a new file {@code NAME.<generation>.safetensors}; then the manifest, which
 * names that file ({@value #TENSORS_KEY}) and its SHA-256 ({@value #SHA_KEY}), atomically replaces the old one; then
 * the tensors of the replaced manifest are deleted. A crash at any point leaves the old pair or the new pair (plus at
 * most an unreferenced tensors file), and a reader refuses a manifest whose tensors file does not match its hash.
 */
public final class TensorPairFile {
    static final String TENSORS_KEY = "tensors";
    static final String SHA_KEY = "tensors_sha256";
    private static final Logger LOG = LoggerFactory.getLogger(TensorPairFile.class);
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final int GENERATION_DIGITS = 12;

    private TensorPairFile() {}

    /**
     * Writes the pair at {@code json}; {@code manifest} gets the tensors file's name and hash added.
     *
     * @param models model folders to keep out of (see {@link OutputGuard})
     * @throws ScalpelException when the guard refuses a path, a tensor is not finite, or a file cannot be written
     */
    public static void write(OutputKind kind, Collection<Path> models, Path json, Map<String, Object> manifest,
                             Map<String, Tensor> tensors, Map<String, String> metadata) {
        String base = baseName(json);
        String generation = UUID.randomUUID().toString().replace("-", "").substring(0, GENERATION_DIGITS);
        Path tensorsFile = json.resolveSibling(base + "." + generation + ".safetensors");
        Path replaced = previousTensors(json);
        List<Path> paths = new ArrayList<>(List.of(json, tensorsFile));
        if (replaced != null) {
            paths.add(replaced);
        }
        Output out = OutputGuard.files(kind, models, paths.toArray(Path[]::new));
        out.writeSafetensors(tensorsFile, CheckpointWriter.toSources(tensors, out), metadata);
        Map<String, Object> root = new LinkedHashMap<>(manifest);
        root.put(TENSORS_KEY, tensorsFile.getFileName().toString());
        root.put(SHA_KEY, ModelHash.ofFile(out.resolve(tensorsFile)));
        out.write(json, channel -> TensorSource.writeAll(channel, ByteBuffer.wrap(JSON.writeValueAsBytes(root))));
        if (replaced != null && !out.resolve(replaced).equals(out.resolve(tensorsFile))) {
            out.delete(replaced);
        }
    }

    /**
     * The tensors file {@code manifest} (read from {@code json}) names, after checking it is a file beside the manifest
     * whose SHA-256 is the one recorded.
     *
     * @param legacy true for a manifest of an earlier format, which names no hash: its tensors are {@code NAME.safetensors}
     * @throws ScalpelException when the name is missing or not a plain file name, the file is missing, or the hash differs
     */
    public static Path tensorsOf(Path json, JsonNode manifest, boolean legacy) {
        if (legacy) {
            Path file = json.resolveSibling(baseName(json) + ".safetensors");
            LOG.warn("{} was written by an earlier Scalpel and records no hash of {}; the pair cannot be checked. Save it again "
                    + "to get a checked pair.", json, file.getFileName());
            return file;
        }
        String name = manifest.path(TENSORS_KEY).asText("");
        String expected = manifest.path(SHA_KEY).asText("");
        if (name.isEmpty() || name.contains("/") || name.contains("\\") || name.startsWith(".") || expected.isEmpty()) {
            throw new ScalpelException(json + " does not name its tensors file and hash (\"" + TENSORS_KEY + "\", \"" + SHA_KEY
                    + "\" must be a file name beside it and its SHA-256); write it again with Scalpel.");
        }
        Path file = json.resolveSibling(name);
        if (!Files.isRegularFile(file)) {
            throw new ScalpelException(json + " names its tensors file " + name + ", which is missing; copy the pair together "
                    + "(both files) or write it again.");
        }
        String actual = ModelHash.ofFile(file);
        if (!actual.equals(expected)) {
            throw new ScalpelException("The pair " + json + " + " + name + " is torn: the JSON records tensors with SHA-256 "
                    + ModelHash.shortHash(expected) + " but the file has " + ModelHash.shortHash(actual)
                    + " (a copy or a write was interrupted); write it again.");
        }
        return file;
    }

    /** The files of the pair at {@code json}: the manifest and the tensors file it names (when that exists). */
    public static List<Path> files(Path json) {
        Path tensors = previousTensors(json);
        return tensors == null ? List.of(json) : List.of(json, tensors);
    }

    /** The tensors file named by the manifest now at {@code json}, if there is one to replace; null otherwise. */
    public static Path previousTensors(Path json) {
        if (!Files.isRegularFile(json)) {
            return null;
        }
        try {
            String name = JSON.readTree(json.toFile()).path(TENSORS_KEY).asText("");
            Path file = json.resolveSibling(name);
            return !name.isEmpty() && !name.contains("/") && !name.contains("\\") && Files.isRegularFile(file) ? file : null;
        } catch (IOException e) {
            return null;   // not a manifest of ours: the guard refuses to replace it
        }
    }

    private static String baseName(Path json) {
        String name = json.getFileName().toString();
        return name.endsWith(".json") ? name.substring(0, name.length() - 5) : name;
    }
}
