package dev.scalpel.engine.importance;

import dev.scalpel.engine.api.ImportanceMap;
import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.files.OutputGuard;
import dev.scalpel.engine.files.OutputKind;
import dev.scalpel.engine.model.ModelHash;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Importance maps already computed, kept as {@link ImportanceMapFile} JSON files in one folder so that
 * the same map is not measured twice. A map is found by what determines it: the model's hash, the
 * data's hash, the method and an options string (e.g. {@code tokens=8192,context=256}); the file is
 * named by the SHA-256 of those. A cache file that cannot be read is a miss, never an error.
 */
public final class ImportanceCache {
    private static final Logger LOG = LoggerFactory.getLogger(ImportanceCache.class);

    private final Path dir;

    /** A cache in {@code dir}, created on the first {@link #put}. */
    public ImportanceCache(Path dir) {
        this.dir = dir;
    }

    /** {@code $XDG_CACHE_HOME/scalpel/importance}, or {@code ~/.cache/scalpel/importance} when that is not set. */
    public static Path defaultDir() {
        return defaultDir(System.getenv(), System.getProperty("user.home"));
    }

    /** {@link #defaultDir()} for a given environment and home folder. */
    static Path defaultDir(Map<String, String> env, String home) {
        String xdg = env.get("XDG_CACHE_HOME");
        // the XDG spec says to ignore a relative path
        Path cacheRoot = xdg != null && !xdg.isBlank() && Path.of(xdg).isAbsolute() ? Path.of(xdg) : Path.of(home, ".cache");
        return cacheRoot.resolve("scalpel").resolve("importance");
    }

    /**
     * The cached map for this model, data, method and options, if there is one. A corrupt file, or one
     * holding a map of another model, data or method, is logged and reported as a miss.
     */
    public Optional<ImportanceMap> get(String modelHash, String dataHash, String method, String options) {
        Path file = fileFor(modelHash, dataHash, method, options);
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        ImportanceMap map;
        try {
            map = ImportanceMapFile.read(file);
        } catch (ScalpelException e) {
            LOG.warn("Ignoring the unreadable cached importance map {}; it will be computed again. {}", file, e.getMessage());
            return Optional.empty();
        }
        if (!map.modelHash().equals(modelHash) || !map.dataHash().equals(dataHash) || !map.method().equals(method)) {
            LOG.warn("Ignoring the cached importance map {}: it is a {} map of model {} on data {}, not the one asked for; "
                    + "it will be computed again.", file, map.method(), ModelHash.shortHash(map.modelHash()),
                    ModelHash.shortHash(map.dataHash()));
            return Optional.empty();
        }
        return Optional.of(map);
    }

    /**
     * Stores {@code map} under its model hash, data hash and method and the given options, replacing an
     * earlier entry (even a corrupt one: the cache folder is Scalpel's own) atomically.
     *
     * @throws ScalpelException if the cache folder cannot be written
     */
    public void put(ImportanceMap map, String options) {
        Path file = fileFor(map.modelHash(), map.dataHash(), map.method(), options);
        OutputGuard.files(OutputKind.APP_STATE, List.of(), file).writeBytes(file, ImportanceMapFile.toJson(map));
    }

    private Path fileFor(String modelHash, String dataHash, String method, String options) {
        String key = String.join("\n", modelHash, dataHash, method, options);
        return dir.resolve(ModelHash.ofText(key) + ".json");
    }

    @Override
    public String toString() {
        return "ImportanceCache[" + dir + "]";
    }
}
