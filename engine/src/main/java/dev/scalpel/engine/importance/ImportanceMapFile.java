package dev.scalpel.engine.importance;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.scalpel.engine.api.HeadId;
import dev.scalpel.engine.api.ImportanceMap;
import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.files.OutputGuard;
import dev.scalpel.engine.files.OutputKind;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;

/**
 * Reads and writes an {@link ImportanceMap} as JSON:
 * <pre>{@code
 * {
 *   "model_hash" : "…", "data_hash" : "…", "domain" : "de", "method" : "gradient",
 *   "tokens" : 8192, "layers" : 2, "heads" : 3,
 *   "scores" : [
 *     [0.1,0.25,0.0],
 *     [1.5,0.75,0.5]
 *   ]
 * }
 * }</pre>
 * One row of {@code scores} per layer, one number per head, {@code heads} (the most heads of any layer) entries per
 * row: a hybrid whose Gated DeltaNet layers have more heads than its attention layers (or fewer) fills each shorter
 * row up with {@code null}, an absent head (never a score of 0), e.g. {@code [0.5,0.25,null,null]} for a 2-head layer
 * of a 4-wide map. Files are written atomically (readers see the old file or the new one, never a part) and numbers
 * are written so they read back exactly.
 */
public final class ImportanceMapFile {
    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)   // so a NaN score is reported as such, not as "not JSON"
            .build();

    private ImportanceMapFile() {}

    /**
     * Writes {@code map} to {@code file}, replacing it atomically (only an earlier importance map) and creating its
     * folder if needed; never into {@code models} (the model folders the command refers to) or any other model folder.
     *
     * @throws ScalpelException if the file cannot be written or the guard refuses it
     */
    public static void write(ImportanceMap map, Path file, Collection<Path> models) {
        OutputGuard.files(OutputKind.IMPORTANCE_MAP, models, file).writeBytes(file, toJson(map));
    }

    /**
     * Reads the map in {@code file}.
     *
     * @throws ScalpelException naming the file and what is wrong: unreadable, not JSON, a missing or
     *                          mistyped field, {@code layers}/{@code heads} disagreeing with the scores,
     *                          rows of another length, a null before a score, or a score that is not a finite number
     */
    public static ImportanceMap read(Path file) {
        JsonNode root = parse(file);
        if (!root.isObject()) {
            throw invalid(file, "it is not a JSON object");
        }
        String modelHash = text(root, "model_hash", file);
        String dataHash = text(root, "data_hash", file);
        String domain = text(root, "domain", file);
        String method = text(root, "method", file);
        long tokens = integer(root, "tokens", file);
        long layers = integer(root, "layers", file);
        long heads = integer(root, "heads", file);
        JsonNode rows = field(root, "scores", file);
        if (!rows.isArray()) {
            throw invalid(file, "\"scores\" must be an array with one array of head scores per layer");
        }
        if (rows.size() != layers) {
            throw invalid(file, "\"layers\" is " + layers + " but \"scores\" has " + rows.size() + " rows");
        }
        double[][] scores = new double[rows.size()][];
        for (int layer = 0; layer < rows.size(); layer++) {
            scores[layer] = row(rows.get(layer), layer, heads, file);
        }
        if (heads > 0 && java.util.Arrays.stream(scores).noneMatch(row -> row.length == heads)) {
            throw invalid(file, "\"heads\" is " + heads + " but no row of \"scores\" has that many scores (the rest null)");
        }
        try {
            return new ImportanceMap(modelHash, dataHash, domain, method, tokens, scores);
        } catch (IllegalArgumentException e) {
            throw invalid(file, e.getMessage());
        }
    }

    static byte[] toJson(ImportanceMap map) {
        DefaultPrettyPrinter printer = new DefaultPrettyPrinter().withArrayIndenter(new DefaultIndenter("  ", "\n"))
                .withObjectIndenter(new DefaultIndenter("  ", "\n"));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (JsonGenerator g = JSON.createGenerator(out)) {
            g.setPrettyPrinter(printer);
            g.writeStartObject();
            g.writeStringField("model_hash", map.modelHash());
            g.writeStringField("data_hash", map.dataHash());
            g.writeStringField("domain", map.domain());
            g.writeStringField("method", map.method());
            g.writeNumberField("tokens", map.tokens());
            g.writeNumberField("layers", map.layers());
            g.writeNumberField("heads", map.heads());
            g.writeArrayFieldStart("scores");
            for (double[] row : map.scores()) {
                Double[] padded = new Double[map.heads()];                  // absent heads stay null
                for (int head = 0; head < row.length; head++) {
                    padded[head] = row[head];
                }
                g.writeRawValue(JSON.writeValueAsString(padded));   // one compact line per layer
            }
            g.writeEndArray();
            g.writeEndObject();
            g.writeRaw('\n');
        } catch (IOException e) {
            throw new IllegalStateException("Writing JSON to memory cannot fail", e);
        }
        return out.toByteArray();
    }

    private static JsonNode parse(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new ScalpelException("No importance map file " + file + "; check the path.", e);
        } catch (IOException e) {
            throw new ScalpelException("Could not read the importance map " + file + " (" + e + ").", e);
        }
        try {
            JsonNode root = JSON.readTree(bytes);
            if (root == null || root.isMissingNode()) {
                throw invalid(file, "it is empty");
            }
            return root;
        } catch (JsonProcessingException e) {
            throw new ScalpelException("The importance map " + file + " is not valid JSON (" + e.getOriginalMessage()
                    + " at line " + e.getLocation().getLineNr() + "); it may be truncated or not an importance map. "
                    + "Compute the map again.", e);
        } catch (IOException e) {
            throw new ScalpelException("Could not read the importance map " + file + " (" + e + ").", e);
        }
    }

    private static JsonNode field(JsonNode root, String name, Path file) {
        JsonNode node = root.get(name);
        if (node == null || node.isNull()) {
            throw invalid(file, "the field \"" + name + "\" is missing");
        }
        return node;
    }

    private static String text(JsonNode root, String name, Path file) {
        JsonNode node = field(root, name, file);
        if (!node.isTextual()) {
            throw invalid(file, "\"" + name + "\" must be a string, got " + node);
        }
        return node.textValue();
    }

    private static long integer(JsonNode root, String name, Path file) {
        JsonNode node = field(root, name, file);
        if (!node.isIntegralNumber() || !node.canConvertToLong() || node.longValue() < 0) {
            throw invalid(file, "\"" + name + "\" must be a whole number >= 0, got " + node);
        }
        return node.longValue();
    }

    private static double[] row(JsonNode row, int layer, long heads, Path file) {
        if (!row.isArray()) {
            throw invalid(file, "row " + layer + " of \"scores\" must be an array of head scores, got " + row);
        }
        if (row.size() != heads) {
            throw invalid(file, "\"heads\" is " + heads + " but row " + layer + " of \"scores\" has " + row.size() + " scores");
        }
        int present = row.size();
        while (present > 0 && row.get(present - 1).isNull()) {     // the absent heads of a layer with fewer
            present--;
        }
        double[] values = new double[present];
        for (int head = 0; head < values.length; head++) {
            JsonNode value = row.get(head);
            if (value.isNull()) {
                throw invalid(file, "the score of " + new HeadId(layer, head) + " is null but a later head of layer " + layer
                        + " has a score; null (an absent head) may only follow a layer's last head");
            }
            if (!value.isNumber()) {
                throw invalid(file, "the score of " + new HeadId(layer, head) + " must be a number, got " + value);
            }
            values[head] = value.doubleValue();
            if (!Double.isFinite(values[head])) {
                throw invalid(file, "the score of " + new HeadId(layer, head) + " is " + value.asText()
                        + "; scores must be finite numbers");
            }
        }
        return values;
    }

    private static ScalpelException invalid(Path file, String problem) {
        return new ScalpelException("The importance map " + file + " is invalid: " + problem + ". Compute the map again or "
                + "fix the file.");
    }
}
