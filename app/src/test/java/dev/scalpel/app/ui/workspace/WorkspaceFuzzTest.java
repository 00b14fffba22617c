package dev.scalpel.app.ui.workspace;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.scalpel.engine.testing.HostileInput;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

/**
 * Jazzer target: any workspace file either reads (model, marks, maps, edits, groups, component) or is refused with a
 * readable message. Seeds: a saved workspace ({@code WorkspaceFuzzTestInputs}).
 */
class WorkspaceFuzzTest {
    @TempDir
    static Path dir;

    @FuzzTest(maxExecutions = 1_000_000, maxDuration = "3h")
    void anyWorkspaceReadsOrIsRefused(byte[] input) throws IOException {
        Path file = dir.resolve("workspace.json");
        Files.write(file, input);
        HostileInput.readOrRefuse(() -> Workspace.read(file));
    }
}
