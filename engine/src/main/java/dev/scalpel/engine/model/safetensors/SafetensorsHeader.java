package dev.scalpel.engine.model.safetensors;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The parsed and validated JSON header of one safetensors file.
 *
 * <p>Validation is as strict as the reference implementation (huggingface/safetensors): every entry
 * has a known dtype, a shape of non-negative integers and {@code data_offsets [begin, end]} with
 * {@code begin <= end}; each tensor's byte length equals its element count times its dtype size; and
 * the tensors, sorted by offset, cover the data section exactly, without overlaps, holes or trailing
 * bytes. Duplicate keys are rejected too, since a JSON reader would silently keep only one of them.
 *
 * @param tensors  the tensors in the order their data appears in the file
 * @param metadata the {@code __metadata__} string pairs, empty if the header has none
 */
record SafetensorsHeader(List<TensorInfo> tensors, Map<String, String> metadata) {

    /** The header key that holds free-form string metadata instead of a tensor. */
    static final String METADATA_KEY = "__metadata__";

    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private static final String CORRUPT = "the file is corrupt or not a safetensors file; download or export it again";

    SafetensorsHeader {
        tensors = List.copyOf(tensors);
        metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
    }

    /**
     * Parses and validates a header.
     *
     * @param file        the file it came from, named in error messages
     * @param headerBytes the header's bytes (UTF-8 JSON, possibly padded with trailing spaces)
     * @param dataLength  bytes in the data section that follows the header
     * @throws SafetensorsException naming the file, the tensor where there is one, and the problem
     */
    static SafetensorsHeader parse(Path file, byte[] headerBytes, long dataLength) {
        JsonNode root = readJson(file, headerBytes);
        Map<String, String> metadata = new LinkedHashMap<>();
        List<TensorInfo> tensors = new ArrayList<>();
        for (Map.Entry<String, JsonNode> entry : root.properties()) {
            if (entry.getKey().equals(METADATA_KEY)) {
                readMetadata(file, entry.getValue(), metadata);
            } else {
                TensorInfo info = readTensor(file, entry.getKey(), entry.getValue());
                checkSize(file, info, dataLength);
                tensors.add(info);
            }
        }
        tensors.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end));
        checkCoverage(file, tensors, dataLength);
        return new SafetensorsHeader(tensors, metadata);
    }

    private static JsonNode readJson(Path file, byte[] headerBytes) {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(headerBytes))
                    .toString();
        } catch (CharacterCodingException e) {
            throw fail(file, "its header is not valid UTF-8 text; " + CORRUPT);
        }
        JsonNode root;
        try {
            root = JSON.readTree(text);
        } catch (JsonProcessingException e) {
            throw new SafetensorsException(prefix(file) + "its header is not valid JSON ("
                    + e.getOriginalMessage() + "); " + CORRUPT, e);
        }
        if (root == null || !root.isObject()) {
            throw fail(file, "its header is not a JSON object; " + CORRUPT);
        }
        return root;
    }

    private static void readMetadata(Path file, JsonNode node, Map<String, String> into) {
        if (node.isNull()) {
            return;
        }
        if (!node.isObject()) {
            throw fail(file, "its \"" + METADATA_KEY + "\" entry must be an object of strings; " + CORRUPT);
        }
        for (Map.Entry<String, JsonNode> e : node.properties()) {
            if (!e.getValue().isTextual()) {
                throw fail(file, "metadata key '" + e.getKey() + "' has a non-string value (" + e.getValue().getNodeType()
                        + "); safetensors metadata maps strings to strings. " + CORRUPT);
            }
            into.put(e.getKey(), e.getValue().textValue());
        }
    }

    private static TensorInfo readTensor(Path file, String name, JsonNode node) {
        if (!node.isObject()) {
            throw failTensor(file, name, "its header entry is not an object; " + CORRUPT);
        }
        JsonNode dtypeNode = required(file, name, node, "dtype");
        JsonNode shapeNode = required(file, name, node, "shape");
        JsonNode offsetsNode = required(file, name, node, "data_offsets");

        if (!dtypeNode.isTextual()) {
            throw failTensor(file, name, "its \"dtype\" is not a string; " + CORRUPT);
        }
        DType dtype = DType.fromSafetensorsName(dtypeNode.textValue()).orElseThrow(() -> failTensor(file, name,
                "unknown dtype '" + dtypeNode.textValue() + "'; Scalpel knows " + DType.knownNames()
                        + ". Re-save the model in F32, F16 or BF16"));

        if (!shapeNode.isArray()) {
            throw failTensor(file, name, "its \"shape\" is not a list of dimensions; " + CORRUPT);
        }
        List<Long> shape = new ArrayList<>();
        for (JsonNode dim : shapeNode) {
            if (!dim.isIntegralNumber() || !dim.canConvertToLong()) {
                throw failTensor(file, name, "its shape " + shapeNode + " holds something other than whole numbers; " + CORRUPT);
            }
            if (dim.longValue() < 0) {
                throw failTensor(file, name, "its shape " + shapeNode + " has a negative dimension; " + CORRUPT);
            }
            shape.add(dim.longValue());
        }

        if (!offsetsNode.isArray() || offsetsNode.size() != 2
                || !isNonNegativeLong(offsetsNode.get(0)) || !isNonNegativeLong(offsetsNode.get(1))) {
            throw failTensor(file, name, "its data_offsets " + offsetsNode
                    + " must be two non-negative whole numbers [begin, end]; " + CORRUPT);
        }
        long begin = offsetsNode.get(0).longValue();
        long end = offsetsNode.get(1).longValue();
        if (begin > end) {
            throw failTensor(file, name, "its data_offsets [" + begin + ", " + end + "] end before they begin (need begin <= end); " + CORRUPT);
        }
        return new TensorInfo(name, dtype, shape, begin, end);
    }

    private static void checkSize(Path file, TensorInfo info, long dataLength) {
        if (info.end() > dataLength) {
            throw failTensor(file, info.name(), "its data ends at byte " + info.end() + " of the data section, but the data section holds only "
                    + dataLength + " bytes: the file is truncated (an interrupted download or write?); download or export it again");
        }
        long expected;
        try {
            expected = Math.multiplyExact(info.numel(), info.dtype().byteSize());
        } catch (ArithmeticException e) {
            throw failTensor(file, info.name(), "its shape " + info.shape() + " has more elements than a file can hold; " + CORRUPT);
        }
        if (expected != info.byteLength()) {
            throw failTensor(file, info.name(), "shape " + info.shape() + " of " + info.dtype().safetensorsName() + " needs "
                    + expected + " bytes but its data_offsets [" + info.begin() + ", " + info.end() + "] span "
                    + info.byteLength() + " bytes (size mismatch); " + CORRUPT);
        }
    }

    /** Tensors are sorted by offset; they must tile {@code [0, dataLength)} exactly, as the reference implementation requires. */
    private static void checkCoverage(Path file, List<TensorInfo> sorted, long dataLength) {
        long covered = 0;
        String previous = null;
        for (TensorInfo t : sorted) {
            if (t.begin() < covered) {
                throw fail(file, "tensors '" + previous + "' and '" + t.name() + "' overlap: '" + t.name() + "' begins at byte "
                        + t.begin() + " but '" + previous + "' ends at byte " + covered + "; " + CORRUPT);
            }
            if (t.begin() > covered) {
                throw fail(file, "there is a gap of " + (t.begin() - covered) + " bytes before tensor '" + t.name() + "' (bytes "
                        + covered + " to " + t.begin() + " of the data section belong to no tensor); safetensors requires the tensors "
                        + "to cover the data section without holes, as the reference implementation does. " + CORRUPT);
            }
            covered = t.end();
            previous = t.name();
        }
        if (covered != dataLength) {
            throw fail(file, "its data section holds " + dataLength + " bytes but the tensors cover only the first " + covered
                    + "; safetensors requires the tensors to cover the data section without holes or trailing bytes, "
                    + "as the reference implementation does. " + CORRUPT);
        }
    }

    private static JsonNode required(Path file, String name, JsonNode entry, String field) {
        JsonNode value = entry.get(field);
        if (value == null) {
            throw failTensor(file, name, "its header entry has no \"" + field + "\" (each tensor needs dtype, shape and data_offsets); " + CORRUPT);
        }
        return value;
    }

    private static boolean isNonNegativeLong(JsonNode n) {
        return n.isIntegralNumber() && n.canConvertToLong() && n.longValue() >= 0;
    }

    private static String prefix(Path file) {
        return "Cannot read " + file + ": ";
    }

    private static SafetensorsException fail(Path file, String problem) {
        return new SafetensorsException(prefix(file) + problem + ".");
    }

    private static SafetensorsException failTensor(Path file, String tensor, String problem) {
        return new SafetensorsException(prefix(file) + "tensor '" + tensor + "': " + problem + ".");
    }
}
