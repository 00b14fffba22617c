package dev.scalpel.engine.model.safetensors;

import dev.scalpel.engine.files.AtomicFiles;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Writes one safetensors file, atomically (see {@link AtomicFiles}).
 *
 * <p>The layout matches the reference writer: compact JSON header with {@code __metadata__} first (left
 * out when there is none), then the tensors in the map's iteration order with consecutive
 * {@code data_offsets}; the header is padded with spaces to a multiple of {@value #HEADER_ALIGNMENT}
 * bytes so the data section starts aligned. Tensor bytes are streamed from each {@link TensorSource}
 * straight to the file, so no tensor is ever copied into one big array.
 */
public final class SafetensorsWriter {
    /** The header length (and so the data section's start, minus the 8-byte prefix) is a multiple of this. */
    public static final int HEADER_ALIGNMENT = 8;

    private static final ObjectMapper JSON = new ObjectMapper();

    private SafetensorsWriter() {}

    /** Writes {@code tensors} (in iteration order, e.g. of a {@link LinkedHashMap}) with no metadata. */
    public static void write(Path target, Map<String, TensorSource> tensors) {
        write(target, tensors, Map.of());
    }

    /**
     * Writes {@code tensors} (in iteration order) and {@code metadata} to {@code target}, replacing any
     * existing file only once the new one is complete.
     *
     * @throws IllegalArgumentException if a name is empty or {@code __metadata__}
     * @throws SafetensorsException if the file cannot be written, or a source writes the wrong number of bytes
     */
    public static void write(Path target, Map<String, TensorSource> tensors, Map<String, String> metadata) {
        byte[] header = header(tensors, metadata);
        AtomicFiles.write(target, channel -> {
            ByteBuffer prefix = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, header.length);
            TensorSource.writeAll(channel, prefix);
            TensorSource.writeAll(channel, ByteBuffer.wrap(header));
            for (Map.Entry<String, TensorSource> e : tensors.entrySet()) {
                writeTensor(target, e.getKey(), e.getValue(), channel);
            }
        });
    }

    /** The padded header bytes (without the 8-byte length prefix) for these tensors and metadata. */
    private static byte[] header(Map<String, TensorSource> tensors, Map<String, String> metadata) {
        ObjectNode root = JSON.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode meta = root.putObject(SafetensorsHeader.METADATA_KEY);
            metadata.forEach(meta::put);
        }
        long offset = 0;
        for (Map.Entry<String, TensorSource> e : tensors.entrySet()) {
            String name = e.getKey();
            if (name == null || name.isEmpty() || name.equals(SafetensorsHeader.METADATA_KEY)) {
                throw new IllegalArgumentException("'" + name + "' cannot be a tensor name in a safetensors file");
            }
            TensorSource source = e.getValue();
            ObjectNode entry = root.putObject(name);
            entry.put("dtype", source.dtype().safetensorsName());
            ArrayNode shape = entry.putArray("shape");
            source.shape().forEach(shape::add);
            long end = offset + source.byteLength();
            entry.putArray("data_offsets").add(offset).add(end);
            offset = end;
        }
        byte[] json;
        try {
            json = JSON.writeValueAsBytes(root);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a tree of strings and numbers always serialises", e);
        }
        int padding = (HEADER_ALIGNMENT - json.length % HEADER_ALIGNMENT) % HEADER_ALIGNMENT;
        byte[] padded = Arrays.copyOf(json, json.length + padding);
        Arrays.fill(padded, json.length, padded.length, (byte) ' ');
        return padded;
    }

    private static void writeTensor(Path target, String name, TensorSource source, WritableByteChannel channel) throws IOException {
        CountingChannel counted = new CountingChannel(channel);
        source.content().writeTo(counted);
        if (counted.count != source.byteLength()) {
            throw new SafetensorsException("Could not write " + target + ": the source of tensor '" + name + "' wrote "
                    + counted.count + " bytes but " + source.dtype().safetensorsName() + " " + source.shape() + " needs "
                    + source.byteLength() + ". Nothing was written; this is a bug in the code that produced the tensor.");
        }
    }

    /** Passes writes through and counts the bytes, so a source that writes too much or too little is caught. */
    private static final class CountingChannel implements WritableByteChannel {
        private final WritableByteChannel out;
        private long count;

        CountingChannel(WritableByteChannel out) {
            this.out = out;
        }

        @Override
        public int write(ByteBuffer src) throws IOException {
            int n = out.write(src);
            count += n;
            return n;
        }

        @Override
        public boolean isOpen() {
            return out.isOpen();
        }

        @Override
        public void close() {
            // The file channel belongs to the writer; a source closing its view must not close the file.
        }
    }
}
