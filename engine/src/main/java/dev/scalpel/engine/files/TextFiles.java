package dev.scalpel.engine.files;

import dev.scalpel.engine.api.ScalpelException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** Reads the text files users point Scalpel at (CLI and workbench), strictly as UTF-8. */
public final class TextFiles {
    private TextFiles() {}

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
