package dev.scalpel.app.cli;

import dev.scalpel.engine.files.TextFiles;
import dev.scalpel.engine.api.ScalpelException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import picocli.CommandLine.Option;

/** --data NAME=FILE, repeatable, defaulting to the eval/*.txt texts that ship with the model. */
public final class DataOptions {
    @Option(names = "--data", paramLabel = "NAME=FILE",
            description = "A UTF-8 text under a name, e.g. de=de/valid.txt; repeat for more. "
                    + "Default: every eval/<name>.txt that ships with the model (the sample model has en, de, fr, es, code).")
    Map<String, Path> data = new LinkedHashMap<>();

    /** Name → text of --data, or of the model's bundled eval/*.txt when none was given. */
    public Map<String, String> texts(Path modelDir) {
        Map<String, String> texts = new LinkedHashMap<>();
        files(modelDir).forEach((name, file) -> texts.put(name, TextFiles.readUtf8(file)));
        return texts;
    }

    private Map<String, Path> files(Path modelDir) {
        if (!data.isEmpty()) {
            return data;
        }
        Map<String, Path> bundled = new TreeMap<>();
        Path evalDir = modelDir.resolve("eval");
        if (Files.isDirectory(evalDir)) {
            try (var files = Files.list(evalDir)) {
                files.filter(f -> f.getFileName().toString().endsWith(".txt"))
                        .forEach(f -> bundled.put(f.getFileName().toString().replaceFirst("\\.txt$", ""), f));
            } catch (IOException e) {
                throw new ScalpelException("Cannot list " + evalDir + ": " + e.getMessage());
            }
        }
        if (bundled.isEmpty()) {
            throw new ScalpelException("No texts given: pass --data NAME=FILE (this model ships no eval/*.txt).");
        }
        return bundled;
    }
}
