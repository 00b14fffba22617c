package dev.scalpel.app.ui.workspace;

import dev.scalpel.engine.files.OutputGuard;
import dev.scalpel.engine.files.OutputKind;
import java.util.ArrayList;
import java.util.List;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.scalpel.app.ui.Session;
import dev.scalpel.engine.api.ScalpelException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import javafx.util.Duration;

/**
 * Crash protection for the workbench: while it runs, a lock file ({@code running.lock}: the process id and when it
 * started) sits in the autosave folder, and the session is saved there as a workspace ({@code autosave.json}) every
 * {@link #INTERVAL}. A clean exit ({@link #stop()}) removes the lock and the autosave; a lock left behind by a process
 * that is gone, next to an autosave, means the last run crashed and its work can be restored from
 * {@link #autosaveFile()}.
 *
 * <p>Use: {@code previousRunCrashed()} first (offer to restore), then {@code start()}, {@code save(session)} from a
 * Timeline every {@link #INTERVAL} on the FX thread, {@code stop()} on exit.
 */
public final class Autosave {
    /** How often the app saves. */
    public static final Duration INTERVAL = Duration.seconds(60);

    private static final String LOCK = "running.lock";
    private static final String AUTOSAVE = "autosave.json";

    private final Path dir;
    private boolean running;
    private Workspace lastSaved;

    /** @param dir the autosave folder, e.g. {@link dev.scalpel.app.ui.UserFolders#autosave()}; created when needed */
    public Autosave(Path dir) {
        this.dir = dir.toAbsolutePath();
    }

    /** Where the session is autosaved (a workspace; its edits file lies beside it). */
    public Path autosaveFile() {
        return dir.resolve(AUTOSAVE);
    }

    Path lockFile() {
        return dir.resolve(LOCK);
    }

    /** Marks this run as running: writes the lock file with this process's id and start time. */
    public void start() {
        ProcessHandle self = ProcessHandle.current();
        Map<String, Object> lock = new LinkedHashMap<>();
        lock.put("pid", self.pid());
        lock.put("started", self.info().startInstant().orElseGet(Instant::now).toString());
        byte[] bytes;
        try {
            bytes = WorkspaceJson.MAPPER.writeValueAsBytes(lock);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("A map of a number and a string always maps to JSON", e);
        }
        OutputGuard.files(OutputKind.APP_STATE, List.of(), lockFile()).writeBytes(lockFile(), bytes);
        running = true;
    }

    /**
     * Whether the previous run did not stop cleanly and left an autosave: the lock file is there, no process that is
     * still running wrote it (another open workbench is not a crash), and {@link #autosaveFile()} exists. False once
     * this object has {@link #start()}ed.
     */
    public boolean previousRunCrashed() {
        return !running && Files.isRegularFile(lockFile()) && Files.isRegularFile(autosaveFile()) && !lockHeldByLiveProcess();
    }

    /** Whether the lock names another process that is alive and is the one that wrote it (not a reused id). */
    private boolean lockHeldByLiveProcess() {
        Optional<JsonNode> lock = readLock();
        if (lock.isEmpty() || !lock.get().path("pid").canConvertToLong()) {
            return false;   // unreadable: treat as left behind
        }
        long pid = lock.get().path("pid").asLong();
        if (pid == ProcessHandle.current().pid()) {
            return false;   // an earlier run inside this process: only tests do that
        }
        String started = lock.get().path("started").asText();
        return ProcessHandle.of(pid).filter(ProcessHandle::isAlive)
                .map(p -> p.info().startInstant().map(s -> s.toString().equals(started)).orElse(true))
                .orElse(false);
    }

    private Optional<JsonNode> readLock() {
        try {
            return Optional.of(WorkspaceJson.MAPPER.readTree(lockFile().toFile()));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /**
     * Saves {@code session} to {@link #autosaveFile()} (atomically, edits file first). Call on the FX thread: the
     * capture reads the session, and the write is a few small files. Skipped when nothing changed since the last save.
     *
     * @throws ScalpelException when the folder cannot be written
     */
    public void save(Session session) {
        Workspace now = Workspace.capture(session);
        if (now.equals(lastSaved)) {
            return;
        }
        now.write(autosaveFile());
        lastSaved = now;
    }

    /** A clean exit: removes the lock and the autosave (nothing is left to restore). */
    public void stop() {
        Path autosave = autosaveFile();
        try {
            List<Path> files = new ArrayList<>(List.of(lockFile(), autosave));
            files.addAll(Workspace.editsFilesOf(autosave));
            for (Path f : files) {
                Files.deleteIfExists(f);
            }
        } catch (IOException e) {
            throw new ScalpelException("Could not remove the autosave files in " + dir + " (" + e + "); delete them by hand.", e);
        }
        running = false;
        lastSaved = null;
    }
}
