package dev.scalpel.engine.model.safetensors;

import dev.scalpel.engine.files.Output;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes a model's tensors into a Hugging Face checkpoint folder, split into shards of at most a given
 * size, the way {@code save_pretrained} does.
 *
 * <p>Tensors go into shards in iteration order; a shard is closed when the next tensor would push it
 * past the limit (a tensor larger than the limit gets a shard of its own). One shard is written as
 * {@code model.safetensors} with no index; several as {@code model-00001-of-0000N.safetensors} … plus
 * {@code model.safetensors.index.json} ({@code {"metadata": {"total_size": bytes}, "weight_map":
 * {tensor: shard}}}). Each file is written atomically; the index is written last, so it never names a
 * shard that is not complete. Afterwards, checkpoint files of an earlier save that the new one does
 * not use (a {@code model.safetensors}, an index, or {@code model-*-of-*.safetensors} shards) are
 * deleted, so the folder holds exactly one checkpoint.
 */
public final class ShardedSafetensorsWriter {
    private static final Logger LOG = LoggerFactory.getLogger(ShardedSafetensorsWriter.class);
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final String SHARD_PATTERN = "model-\\d{5}-of-\\d{5}\\.safetensors";

    private ShardedSafetensorsWriter() {}

    /**
     * Writes the checkpoint into {@code dir} of the folder output {@code out}.
     *
     * @param metadata      stored in every shard's {@code __metadata__}
     * @param maxShardBytes most tensor bytes per shard (headers not counted, as in transformers)
     * @return the files written, shards first, then the index if there is one
     */
    public static List<Path> write(Output out, Path dir, Map<String, TensorSource> tensors, Map<String, String> metadata, long maxShardBytes) {
        if (maxShardBytes <= 0) {
            throw new IllegalArgumentException("maxShardBytes must be positive, got " + maxShardBytes);
        }
        List<Map<String, TensorSource>> shards = plan(tensors, maxShardBytes);
        List<Path> written = new ArrayList<>();
        if (shards.size() == 1) {
            Path file = dir.resolve(SafetensorsCheckpoint.SINGLE_FILE);
            out.writeSafetensors(file, shards.get(0), metadata);
            written.add(file);
        } else {
            ObjectNode index = JSON.createObjectNode();
            index.putObject("metadata").put("total_size", totalBytes(tensors));
            ObjectNode weightMap = index.putObject("weight_map");
            for (int i = 0; i < shards.size(); i++) {
                String shardName = String.format("model-%05d-of-%05d.safetensors", i + 1, shards.size());
                Path file = dir.resolve(shardName);
                out.writeSafetensors(file, shards.get(i), metadata);
                written.add(file);
                shards.get(i).keySet().forEach(name -> weightMap.put(name, shardName));
            }
            Path indexFile = dir.resolve(SafetensorsCheckpoint.INDEX_FILE);
            out.write(indexFile, channel -> TensorSource.writeAll(channel, ByteBuffer.wrap(JSON.writeValueAsBytes(index))));
            written.add(indexFile);
        }
        deleteStaleCheckpointFiles(out, dir, written);
        return List.copyOf(written);
    }

    /** Splits the tensors, in order, into shards of at most {@code maxShardBytes} (an oversized tensor alone). */
    static List<Map<String, TensorSource>> plan(Map<String, TensorSource> tensors, long maxShardBytes) {
        List<Map<String, TensorSource>> shards = new ArrayList<>();
        Map<String, TensorSource> current = new LinkedHashMap<>();
        long currentBytes = 0;
        for (Map.Entry<String, TensorSource> e : tensors.entrySet()) {
            long bytes = e.getValue().byteLength();
            if (!current.isEmpty() && currentBytes + bytes > maxShardBytes) {
                shards.add(current);
                current = new LinkedHashMap<>();
                currentBytes = 0;
            }
            current.put(e.getKey(), e.getValue());
            currentBytes += bytes;
        }
        shards.add(current);
        return shards;
    }

    private static long totalBytes(Map<String, TensorSource> tensors) {
        return tensors.values().stream().mapToLong(TensorSource::byteLength).sum();
    }

    private static void deleteStaleCheckpointFiles(Output out, Path dir, List<Path> written) {
        if (!Files.isDirectory(dir)) {
            return;                       // a staged output writes a fresh folder: nothing of an earlier save is in it
        }
        Set<Path> keep = new HashSet<>(written);
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path entry : entries) {
                String name = entry.getFileName().toString();
                boolean checkpointFile = name.equals(SafetensorsCheckpoint.SINGLE_FILE)
                        || name.equals(SafetensorsCheckpoint.INDEX_FILE) || name.matches(SHARD_PATTERN);
                if (checkpointFile && !keep.contains(entry)) {
                    out.delete(entry);
                    LOG.info("Deleted {}, left over from an earlier save into {}.", name, dir);
                }
            }
        } catch (IOException e) {
            throw new SafetensorsException("Wrote the checkpoint in " + dir + " but could not delete the files of an earlier save ("
                    + e + "); delete any model*.safetensors* files other than " + written.stream().map(p -> p.getFileName().toString()).toList()
                    + " by hand.", e);
        }
    }
}
