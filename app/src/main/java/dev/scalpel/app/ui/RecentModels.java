package dev.scalpel.app.ui;

import dev.scalpel.engine.files.OutputGuard;
import dev.scalpel.engine.files.OutputKind;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** File ▸ Recent models: the last {@value #KEEP} model folders opened, most recent first, kept in a text file. */
public final class RecentModels {
    static final int KEEP = 8;
    private static final Logger LOG = LoggerFactory.getLogger(RecentModels.class);

    private final Path file;

    public RecentModels(Path file) {
        this.file = file;
    }

    /** The folders, most recent first; folders that no longer exist are left out. An unreadable list is empty. */
    public List<Path> list() {
        if (!Files.isRegularFile(file)) {
            return List.of();
        }
        try {
            return Files.readAllLines(file, StandardCharsets.UTF_8).stream().filter(l -> !l.isBlank()).map(Path::of)
                    .filter(Files::isDirectory).distinct().limit(KEEP).toList();
        } catch (IOException e) {
            LOG.warn("Cannot read the recent models list {}: {}", file, e.getMessage());
            return List.of();
        }
    }

    /** Puts {@code dir} first. A list that cannot be written is logged, not fatal: it is a convenience. */
    public void opened(Path dir) {
        List<Path> next = new ArrayList<>();
        next.add(dir.toAbsolutePath().normalize());
        list().stream().filter(p -> !p.equals(next.get(0))).limit(KEEP - 1).forEach(next::add);
        try {
            byte[] text = String.join("\n", next.stream().map(Path::toString).toList()).getBytes(StandardCharsets.UTF_8);
            OutputGuard.files(OutputKind.APP_STATE, List.of(), file).writeBytes(file, text);
        } catch (RuntimeException e) {
            LOG.warn("Cannot write the recent models list {}: {}", file, e.getMessage());
        }
    }
}
