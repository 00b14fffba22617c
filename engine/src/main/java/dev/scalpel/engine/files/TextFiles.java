package dev.scalpel.engine.files;

import dev.scalpel.engine.api.ScalpelException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

/** Reads the text files users point Scalpel at (CLI and workbench), strictly as UTF-8. */
public final class TextFiles {
    private TextFiles() {}

    /** Name → file of every {@code NAME.txt} in {@code dir}, sorted by name; empty when {@code dir} is not a folder. */
    public static Map<String, Path> inFolder(Path dir) {
        Map<String, Path> files = new TreeMap<>();
        if (!Files.isDirectory(dir)) {
            return files;
        }
        try (var list = Files.list(dir)) {
            list.filter(f -> f.getFileName().toString().endsWith(".txt"))
                    .forEach(f -> files.put(f.getFileName().toString().replaceFirst("\\.txt$", ""), f));
        } catch (IOException e) {
            throw new ScalpelException("Cannot list " + dir + ": " + e.getMessage());
        }
        return files;
    }

    /**
     * The text of {@code file}, decoded strictly.
     *
     * @throws ScalpelException when the file is missing, not a regular file (a named pipe or device would block or
     *                          never end), unreadable, or not valid UTF-8
     */
    public static String readUtf8(Path file) {
        if (Files.exists(file) && !Files.isRegularFile(file)) {
            throw new ScalpelException("Text file " + file + " is not a regular file (a folder, pipe or device); give a text file.");
        }
        try {
            // A strict decoder: malformed input is an error, not silently replaced characters.
            return StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(Files.readAllBytes(file))).toString();
        } catch (NoSuchFileException e) {
            throw new ScalpelException("Text file " + file + " does not exist; check the path.");
        } catch (CharacterCodingException e) {
            throw new ScalpelException("Text file " + file + " is not valid UTF-8; convert it (e.g. iconv -t UTF-8).");
        } catch (IOException e) {
            throw new ScalpelException("Cannot read text file " + file + ": " + e.getMessage());
        }
    }
}
