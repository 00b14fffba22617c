package dev.scalpel.engine.importance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.scalpel.engine.api.ImportanceMap;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImportanceCacheTest {
    private static final String OPTIONS = "tokens=8192,context=256";
    private static final ImportanceMap MAP = new ImportanceMap("model", "data", "de", "gradient", 8192,
            new double[][] {{0.5, 0.25}, {1, 2}});

    @TempDir
    Path dir;

    private List<Path> files() throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.toList();
        }
    }

    @Test
    void missBeforePutHitAfter() throws IOException {
        ImportanceCache cache = new ImportanceCache(dir.resolve("cache"));
        assertEquals(Optional.empty(), cache.get("model", "data", "gradient", OPTIONS));

        cache.put(MAP, OPTIONS);

        assertEquals(Optional.of(MAP), cache.get("model", "data", "gradient", OPTIONS));
        assertEquals(Optional.of(MAP), new ImportanceCache(dir.resolve("cache")).get("model", "data", "gradient", OPTIONS));
        try (Stream<Path> files = Files.list(dir.resolve("cache"))) {
            assertTrue(files.allMatch(f -> f.getFileName().toString().matches("[0-9a-f]{64}\\.json")));
        }
    }

    @Test
    void everyPartOfTheKeyMatters() {
        ImportanceCache cache = new ImportanceCache(dir);
        cache.put(MAP, OPTIONS);

        assertEquals(Optional.empty(), cache.get("other", "data", "gradient", OPTIONS));
        assertEquals(Optional.empty(), cache.get("model", "other", "gradient", OPTIONS));
        assertEquals(Optional.empty(), cache.get("model", "data", "ablation-zero", OPTIONS));
        assertEquals(Optional.empty(), cache.get("model", "data", "gradient", "tokens=4096,context=256"));
    }

    @Test
    void separateEntriesForSeparateKeys() throws IOException {
        ImportanceCache cache = new ImportanceCache(dir);
        ImportanceMap ablation = new ImportanceMap("model", "data", "de", "ablation-zero", 8192, new double[][] {{3}});
        cache.put(MAP, OPTIONS);
        cache.put(ablation, OPTIONS);

        assertEquals(2, files().size());
        assertEquals(Optional.of(MAP), cache.get("model", "data", "gradient", OPTIONS));
        assertEquals(Optional.of(ablation), cache.get("model", "data", "ablation-zero", OPTIONS));
    }

    @Test
    void corruptFileIsAMissAndIsReplacedByTheNextPut() throws IOException {
        ImportanceCache cache = new ImportanceCache(dir);
        cache.put(MAP, OPTIONS);
        Path file = files().get(0);
        Files.writeString(file, "{\"model_hash\": \"model\", \"scores\": [[1,");

        assertEquals(Optional.empty(), cache.get("model", "data", "gradient", OPTIONS));

        cache.put(MAP, OPTIONS);
        assertEquals(Optional.of(MAP), cache.get("model", "data", "gradient", OPTIONS));
    }

    @Test
    void fileHoldingAnotherMapIsAMiss() throws IOException {
        ImportanceCache cache = new ImportanceCache(dir);
        cache.put(MAP, OPTIONS);
        Path file = files().get(0);
        ImportanceMapFile.write(new ImportanceMap("someone-else", "data", "de", "gradient", 1, new double[][] {{1}}), file, java.util.List.of());

        assertEquals(Optional.empty(), cache.get("model", "data", "gradient", OPTIONS));
    }

    @Test
    void defaultDirFollowsXdgCacheHome() {
        assertEquals(Path.of("/xdg/scalpel/importance"), ImportanceCache.defaultDir(Map.of("XDG_CACHE_HOME", "/xdg"), "/home/u"));
        assertEquals(Path.of("/home/u/.cache/scalpel/importance"), ImportanceCache.defaultDir(Map.of(), "/home/u"));
        assertEquals(Path.of("/home/u/.cache/scalpel/importance"),
                ImportanceCache.defaultDir(Map.of("XDG_CACHE_HOME", "relative"), "/home/u"));
        assertEquals(Path.of("/home/u/.cache/scalpel/importance"), ImportanceCache.defaultDir(Map.of("XDG_CACHE_HOME", ""), "/home/u"));
    }
}
