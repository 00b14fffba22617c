package dev.scalpel.app.cli;

import dev.scalpel.engine.api.ScalpelException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
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
        files(modelDir).forEach((name, file) -> texts.put(name, read(file)));
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

    private static String read(Path file) {
        try {
            // A strict decoder: malformed input is an error, not silently replaced characters.
            return StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(Files.readAllBytes(file))).toString();
        } catch (NoSuchFileException e) {
            throw new ScalpelException("Data file " + file + " does not exist; pass --data NAME=FILE with a text file.");
        } catch (CharacterCodingException e) {
            throw new ScalpelException("Data file " + file + " is not valid UTF-8; convert it (e.g. iconv -t UTF-8).");
        } catch (IOException e) {
            throw new ScalpelException("Cannot read data file " + file + ": " + e.getMessage());
        }
    }
}
