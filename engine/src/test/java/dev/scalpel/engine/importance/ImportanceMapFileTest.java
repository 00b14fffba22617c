package dev.scalpel.engine.importance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.scalpel.engine.api.ImportanceMap;
import dev.scalpel.engine.api.ScalpelException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ImportanceMapFileTest {
    private static final ImportanceMap MAP = new ImportanceMap("abc123", "def456", "de", "gradient", 8192,
            new double[][] {{0.1 + 0.2, 1e-300, -0.0}, {Math.PI, -1.5e10, 4}});

    @TempDir
    Path dir;

    @Test
    void roundTripIsExact() {
        Path file = dir.resolve("sub").resolve("de.json");
        ImportanceMapFile.write(MAP, file, java.util.List.of());

        assertEquals(MAP, ImportanceMapFile.read(file));
    }

    /** A hybrid's map: two Gated DeltaNet layers of 4 value heads, then an attention layer of 2 heads. */
    private static final ImportanceMap RAGGED = new ImportanceMap("abc123", "def456", "de", "gradient", 8192,
            new double[][] {{0.5, 0.25, 0, -1}, {1, 2, 3, 4}, {0.125, 7}});

    @Test
    void aRaggedMapWritesItsAbsentHeadsAsNullAndReadsThemBackAbsent() throws IOException {
        Path file = dir.resolve("ragged.json");
        ImportanceMapFile.write(RAGGED, file, java.util.List.of());

        List<String> lines = Files.readAllLines(file);
        assertTrue(lines.contains("    [0.125,7.0,null,null]"), String.join("\n", lines));
        assertTrue(lines.contains("  \"heads\" : 4,"), String.join("\n", lines));
        ImportanceMap read = ImportanceMapFile.read(file);
        assertEquals(RAGGED, read);
        assertEquals(List.of(4, 4, 2), read.grid().headsPerLayer());
        assertEquals(false, read.has(new dev.scalpel.engine.api.HeadId(2, 2)), "L2H2 is absent, not a score of 0");
    }

    @Test
    void aFileWithoutNullsReadsAsBefore() throws IOException {
        Path file = dir.resolve("old.json");
        Files.writeString(file, "{\"model_hash\":\"m\",\"data_hash\":\"d\",\"domain\":\"de\",\"method\":\"gradient\",\"tokens\":5,"
                + "\"layers\":2,\"heads\":2,\"scores\":[[1,2],[3,4]]}");

        assertEquals(new ImportanceMap("m", "d", "de", "gradient", 5, new double[][] {{1, 2}, {3, 4}}), ImportanceMapFile.read(file));
    }

    @Test
    void writesTheDocumentedFields() throws IOException {
        Path file = dir.resolve("de.json");
        ImportanceMapFile.write(MAP, file, java.util.List.of());

        JsonNode json = new ObjectMapper().readTree(file.toFile());
        assertEquals(List.of("model_hash", "data_hash", "domain", "method", "tokens", "layers", "heads", "scores"),
                iterableToList(json.fieldNames()));
        assertEquals("abc123", json.get("model_hash").textValue());
        assertEquals(8192, json.get("tokens").longValue());
        assertEquals(2, json.get("layers").intValue());
        assertEquals(3, json.get("heads").intValue());
        assertEquals(Math.PI, json.get("scores").get(1).get(0).doubleValue());
        List<String> lines = Files.readAllLines(file);
        assertTrue(lines.contains("    [0.30000000000000004,1.0E-300,-0.0],"), String.join("\n", lines));
    }

    @Test
    void overwritesAtomicallyLeavingNoTempFiles() throws IOException {
        Path file = dir.resolve("de.json");
        ImportanceMapFile.write(MAP, file, java.util.List.of());
        ImportanceMap other = MAP.withScores(new double[][] {{1}}, "ablation-zero", "en");
        ImportanceMapFile.write(other, file, java.util.List.of());

        assertEquals(other, ImportanceMapFile.read(file));
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of("de.json"), files.map(p -> p.getFileName().toString()).toList());
        }
    }

    static Stream<Arguments> malformedFiles() {
        String fields = "\"model_hash\":\"m\",\"data_hash\":\"d\",\"domain\":\"de\",\"method\":\"gradient\",\"tokens\":5,";
        return Stream.of(
                Arguments.of("{" + fields.replace("\"data_hash\":\"d\",", "") + "\"layers\":1,\"heads\":2,\"scores\":[[1,2]]}",
                        "is invalid: the field \"data_hash\" is missing"),
                Arguments.of("{" + fields + "\"layers\":1,\"heads\":2}", "is invalid: the field \"scores\" is missing"),
                Arguments.of("{" + fields + "\"layers\":3,\"heads\":2,\"scores\":[[1,2],[3,4]]}",
                        "is invalid: \"layers\" is 3 but \"scores\" has 2 rows"),
                Arguments.of("{" + fields + "\"layers\":2,\"heads\":3,\"scores\":[[1,2,3],[3,4]]}",
                        "is invalid: \"heads\" is 3 but row 1 of \"scores\" has 2 scores"),
                Arguments.of("{" + fields + "\"layers\":2,\"heads\":2,\"scores\":[[1,2],[NaN,4]]}",
                        "is invalid: the score of L1H0 is NaN; scores must be finite numbers"),
                Arguments.of("{" + fields + "\"layers\":1,\"heads\":2,\"scores\":[[1,1e999]]}",
                        "is invalid: the score of L0H1 is Infinity; scores must be finite numbers"),
                Arguments.of("{" + fields + "\"layers\":1,\"heads\":2,\"scores\":[[1,\"2\"]]}",
                        "is invalid: the score of L0H1 must be a number, got \"2\""),
                Arguments.of("{" + fields.replace("\"tokens\":5", "\"tokens\":-5") + "\"layers\":1,\"heads\":1,\"scores\":[[1]]}",
                        "is invalid: \"tokens\" must be a whole number >= 0, got -5"),
                Arguments.of("{" + fields + "\"layers\":0,\"heads\":0,\"scores\":[]}",
                        "is invalid: An importance map needs at least one layer of scores, got none"),
                Arguments.of("{" + fields + "\"layers\":2,\"heads\":3,\"scores\":[[1,null,3],[3,4,5]]}",
                        "is invalid: the score of L0H1 is null but a later head of layer 0 has a score"),
                Arguments.of("{" + fields + "\"layers\":2,\"heads\":3,\"scores\":[[1,2,null],[3,4,null]]}",
                        "is invalid: \"heads\" is 3 but no row of \"scores\" has that many scores"),
                Arguments.of("{" + fields + "\"layers\":2,\"heads\":2,\"scores\":[[1,2],[null,null]]}",
                        "is invalid: An importance map needs at least one head per layer, layer 1 has none"),
                Arguments.of("[1, 2]", "is invalid: it is not a JSON object"),
                Arguments.of("", "is invalid: it is empty"),
                Arguments.of("{" + fields + "\"layers\":1,\"heads\":2,\"scores\":[[1,", "is not valid JSON"));
    }

    @ParameterizedTest
    @MethodSource("malformedFiles")
    void malformedFileIsReportedWithItsName(String content, String problem) throws IOException {
        Path file = dir.resolve("broken.json");
        Files.writeString(file, content, StandardCharsets.UTF_8);

        ScalpelException e = assertThrows(ScalpelException.class, () -> ImportanceMapFile.read(file));
        assertTrue(e.getMessage().startsWith("The importance map " + file + " " + problem), e.getMessage());
    }

    @Test
    void missingFileIsReported() {
        Path file = dir.resolve("nope.json");

        ScalpelException e = assertThrows(ScalpelException.class, () -> ImportanceMapFile.read(file));
        assertEquals("No importance map file " + file + "; check the path.", e.getMessage());
    }

    private static List<String> iterableToList(Iterator<String> names) {
        List<String> list = new ArrayList<>();
        names.forEachRemaining(list::add);
        return list;
    }
}
