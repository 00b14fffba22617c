package dev.scalpel.app.ui.workspace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.scalpel.app.ui.Session;
import dev.scalpel.engine.api.HeadId;
import dev.scalpel.engine.api.HeadSet;
import dev.scalpel.engine.api.HeadMark;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Crash detection with a lock file and an autosave: a run that starts and never stops leaves both behind. */
class AutosaveTest {
    private static Session session;

    @TempDir
    Path dir;

    @BeforeAll
    static void open() {
        session = SessionFixtures.sampleSession();
    }

    @AfterAll
    static void close() {
        session.close();
    }

    @BeforeEach
    void mark() {
        session.marks().clear();
        session.marks().put(new HeadId(2, 3), HeadMark.TRAIN);
    }

    @Test
    void aRunningSessionIsNotACrash() {
        Autosave run = new Autosave(dir);
        assertFalse(run.previousRunCrashed(), "first run ever");
        run.start();
        run.save(session);
        assertFalse(run.previousRunCrashed(), "the run asking is the one running");
        assertTrue(Files.isRegularFile(run.autosaveFile()));
    }

    @Test
    void aRunThatNeverStoppedIsACrashAndItsAutosaveRestoresItsWork() throws IOException {
        Autosave crashed = new Autosave(dir);
        crashed.start();
        session.addEdit(SessionFixtures.headLora(session, HeadSet.of(new HeadId(1, 1))));
        crashed.save(session);
        session.removeEdit(session.edits().get(0));

        Autosave next = new Autosave(dir);
        assertTrue(next.previousRunCrashed());
        Workspace saved = Workspace.read(next.autosaveFile());
        assertEquals(Map.of(new HeadId(2, 3), HeadMark.TRAIN), saved.marks());
        assertTrue(Files.isRegularFile(saved.editsFile()), "the edits file lies beside the autosave");
        var lock = new ObjectMapper().readTree(crashed.lockFile().toFile());
        assertEquals(ProcessHandle.current().pid(), lock.get("pid").asLong());
        assertTrue(Instant.parse(lock.get("started").asText()).isBefore(Instant.now()));
    }

    @Test
    void aCleanStopLeavesNothingToRestore() throws IOException {
        Autosave run = new Autosave(dir);
        run.start();
        run.save(session);
        run.stop();
        assertFalse(new Autosave(dir).previousRunCrashed());
        try (var left = Files.list(dir)) {
            assertEquals(0, left.count(), "lock and autosave removed");
        }
    }

    @Test
    void aLockHeldByAnotherLiveProcessIsNotACrashButOneWithAReusedIdIs() throws IOException {
        Autosave run = new Autosave(dir);
        run.start();
        run.save(session);
        ProcessHandle parent = ProcessHandle.current().parent().orElseThrow();
        String parentStart = parent.info().startInstant().orElseThrow().toString();
        Files.writeString(run.lockFile(), "{\"pid\": " + parent.pid() + ", \"started\": \"" + parentStart + "\"}");
        assertFalse(new Autosave(dir).previousRunCrashed(), "another workbench is running");
        Files.writeString(run.lockFile(), "{\"pid\": " + parent.pid() + ", \"started\": \"2001-01-01T00:00:00Z\"}");
        assertTrue(new Autosave(dir).previousRunCrashed(), "the process that wrote the lock is gone; its id was reused");
    }

    @Test
    void anUnchangedSessionIsNotWrittenAgain() {
        Autosave run = new Autosave(dir);
        run.start();
        run.save(session);
        run.autosaveFile().toFile().delete();
        run.save(session);
        assertFalse(Files.exists(run.autosaveFile()), "nothing changed, nothing written");
        session.marks().put(new HeadId(0, 1), HeadMark.FREEZE);
        run.save(session);
        assertEquals(2, Workspace.read(run.autosaveFile()).marks().size());
    }
}
