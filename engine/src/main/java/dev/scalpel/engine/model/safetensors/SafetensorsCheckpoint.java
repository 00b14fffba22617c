package dev.scalpel.engine.model.safetensors;

import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The weights of a Hugging Face model folder, whether in one {@code model.safetensors} or sharded
 * across several files listed by {@code model.safetensors.index.json}. Tensors are looked up by name
 * without caring which file holds them.
 *
 * <p>Like transformers, a folder with a {@code model.safetensors} is read from that file even if an
 * index is present too. With an index, every shard it names is opened (and so validated) up front, and
 * every tensor it lists must be in the shard it names. Closing the checkpoint closes every file.
 */
public final class SafetensorsCheckpoint implements AutoCloseable {
    /** The single-file checkpoint name. */
    public static final String SINGLE_FILE = "model.safetensors";
    /** The index of a sharded checkpoint. */
    public static final String INDEX_FILE = "model.safetensors.index.json";

    private static final ObjectMapper JSON = JsonMapper.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();

    private final Path dir;
    private final List<SafetensorsFile> files;
    private final Map<String, SafetensorsFile> fileOf;

    private SafetensorsCheckpoint(Path dir, List<SafetensorsFile> files, Map<String, SafetensorsFile> fileOf) {
        this.dir = dir;
        this.files = List.copyOf(files);
        this.fileOf = fileOf;
    }

    /**
     * Opens the checkpoint in a model folder.
     *
     * @throws SafetensorsException if the folder holds no safetensors checkpoint, the index is broken,
     *                              a shard is missing or invalid, or a listed tensor is not in its shard
     */
    public static SafetensorsCheckpoint open(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new SafetensorsException(dir + " is not a folder; point Scalpel at the Hugging Face model folder that holds "
                    + SINGLE_FILE + " (or " + INDEX_FILE + "), config.json and tokenizer.json.");
        }
        Path single = dir.resolve(SINGLE_FILE);
        if (Files.isRegularFile(single)) {
            SafetensorsFile file = SafetensorsFile.open(single);
            Map<String, SafetensorsFile> fileOf = new LinkedHashMap<>();
            file.tensorNames().forEach(name -> fileOf.put(name, file));
            return new SafetensorsCheckpoint(dir, List.of(file), fileOf);
        }
        Path index = dir.resolve(INDEX_FILE);
        if (Files.isRegularFile(index)) {
            return openSharded(dir, index);
        }
        throw new SafetensorsException("No " + SINGLE_FILE + " or " + INDEX_FILE + " in " + dir + otherWeightFiles(dir)
                + "; Scalpel reads Hugging Face safetensors checkpoints (convert a pytorch_model.bin checkpoint with transformers: "
                + "AutoModelForCausalLM.from_pretrained(dir).save_pretrained(out_dir, safe_serialization=True)).");
    }

    private static SafetensorsCheckpoint openSharded(Path dir, Path index) {
        Map<String, String> weightMap = readWeightMap(index);
        Map<String, SafetensorsFile> shards = new LinkedHashMap<>();
        try {
            Map<String, SafetensorsFile> fileOf = new LinkedHashMap<>();
            for (Map.Entry<String, String> e : weightMap.entrySet()) {
                String tensor = e.getKey();
                String shardName = e.getValue();
                SafetensorsFile shard = shards.get(shardName);
                if (shard == null) {
                    shard = SafetensorsFile.open(shardPath(dir, index, tensor, shardName));
                    shards.put(shardName, shard);
                }
                if (!shard.contains(tensor)) {
                    throw new SafetensorsException(index + " says tensor '" + tensor + "' is in " + shardName
                            + ", but that shard has no such tensor; the index and shards come from different saves. "
                            + "Download or export the checkpoint again.");
                }
                fileOf.put(tensor, shard);
            }
            return new SafetensorsCheckpoint(dir, new ArrayList<>(shards.values()), fileOf);
        } catch (RuntimeException e) {
            shards.values().forEach(SafetensorsFile::close);
            throw e;
        }
    }

    /** The tensor → shard-file-name pairs of an index, in the index's order. */
    private static Map<String, String> readWeightMap(Path index) {
        JsonNode root;
        try {
            root = JSON.readTree(index.toFile());
        } catch (IOException e) {
            throw new SafetensorsException(index + " is not valid JSON (" + e.getMessage().lines().findFirst().orElse("")
                    + "); download or export the checkpoint again.", e);
        }
        JsonNode weights = root == null ? null : root.get("weight_map");
        if (weights == null || !weights.isObject() || weights.isEmpty()) {
            throw new SafetensorsException(index + " has no \"weight_map\" listing tensors and their shard files; "
                    + "download or export the checkpoint again.");
        }
        Map<String, String> weightMap = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : weights.properties()) {
            if (!e.getValue().isTextual()) {
                throw new SafetensorsException(index + ": the shard of tensor '" + e.getKey() + "' is " + e.getValue()
                        + ", not a file name; download or export the checkpoint again.");
            }
            weightMap.put(e.getKey(), e.getValue().textValue());
        }
        return weightMap;
    }

    /** A shard's path, which must be a file directly in the checkpoint folder. */
    private static Path shardPath(Path dir, Path index, String tensor, String shardName) {
        Path folder = dir.toAbsolutePath().normalize();
        Path shard = folder.resolve(shardName).normalize();
        if (shardName.isEmpty() || !folder.equals(shard.getParent())) {
            throw new SafetensorsException(index + " puts tensor '" + tensor + "' in '" + shardName
                    + "', which is not a file name in the model folder; download or export the checkpoint again.");
        }
        if (!Files.isRegularFile(shard)) {
            throw new SafetensorsException("Shard " + shardName + " is missing from " + dir + " (" + index.getFileName()
                    + " lists it for tensor '" + tensor + "' and others); the download is incomplete. Download the missing shard.");
        }
        return shard;
    }

    private static String otherWeightFiles(Path dir) {
        try (Stream<Path> entries = Files.list(dir)) {
            List<String> found = entries.map(p -> p.getFileName().toString())
                    .filter(n -> n.endsWith(".safetensors") || n.endsWith(".bin") || n.endsWith(".pt") || n.endsWith(".gguf"))
                    .sorted()
                    .limit(5)
                    .toList();
            return found.isEmpty() ? "" : " (it has " + String.join(", ", found) + ")";
        } catch (IOException e) {
            return "";
        }
    }

    /** The model folder. */
    public Path directory() {
        return dir;
    }

    /** Every tensor name: in file order for a single file, in the index's order for a sharded one. */
    public List<String> names() {
        return List.copyOf(fileOf.keySet());
    }

    /** Whether the checkpoint has a tensor of that name. */
    public boolean contains(String name) {
        return fileOf.containsKey(name);
    }

    /**
     * The header entry of one tensor (offsets are within the file that holds it).
     *
     * @throws SafetensorsException if there is no such tensor; the message lists the nearest names
     */
    public TensorInfo info(String name) {
        return fileHolding(name).info(name);
    }

    /** One tensor's bytes; see {@link SafetensorsFile#data}. */
    public ByteBuffer data(String name) {
        return fileHolding(name).data(name);
    }

    /** The safetensors files read (one, or the shards in the order the index first names them); not the index. */
    public List<Path> files() {
        return files.stream().map(SafetensorsFile::path).toList();
    }

    private SafetensorsFile fileHolding(String name) {
        SafetensorsFile file = fileOf.get(name);
        if (file == null) {
            throw new SafetensorsException("No tensor '" + name + "' in the checkpoint in " + dir + "; "
                    + SimilarNames.describe(name, fileOf.keySet()) + ". Check the name against the model's architecture.");
        }
        return file;
    }

    /** Closes every file of the checkpoint. */
    @Override
    public void close() {
        files.forEach(SafetensorsFile::close);
    }

    @Override
    public String toString() {
        return "SafetensorsCheckpoint[" + dir + ", " + fileOf.size() + " tensors in " + files.size() + " files]";
    }
}
