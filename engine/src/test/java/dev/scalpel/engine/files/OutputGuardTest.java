package dev.scalpel.engine.files;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.scalpel.engine.api.ScalpelException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Where {@link OutputGuard} lets Scalpel write, and where it refuses, with the paths resolved as the OS sees them. */
class OutputGuardTest {
    @TempDir
    Path tmp;

    private Path model() throws IOException {
        Path m = Files.createDirectories(tmp.resolve("model"));
        Files.writeString(m.resolve("config.json"), "{}");
        Files.write(m.resolve("model.safetensors"), new byte[16]);
        return m;
    }

    @Test
    void nothingGoesIntoOrUnderACheckpointFolderEvenWhenNoModelIsNamed() throws IOException {
        Path m = model();
        for (Path p : List.of(m.resolve("x.json"), m.resolve("deep").resolve("er").resolve("x.json"))) {
            var e = assertThrows(ScalpelException.class, () -> OutputGuard.files(OutputKind.EDITS, List.of(), p));
            assertTrue(e.getMessage().contains("inside the model folder " + m.toRealPath()), e.getMessage());
        }
        assertThrows(ScalpelException.class, () -> OutputGuard.folder(OutputKind.HF_CHECKPOINT, m, List.of()));
        assertThrows(ScalpelException.class, () -> OutputGuard.folder(OutputKind.PEFT_ADAPTER, m.resolve("adapter"), List.of()));
    }

    @Test
    void aNamedModelIsProtectedWithoutWeightsToRecogniseItBy() throws IOException {
        Path m = Files.createDirectories(tmp.resolve("bare"));
        assertNull(OutputGuard.problem(OutputKind.EDITS, m.resolve("e.json"), List.of()));
        String refused = OutputGuard.problem(OutputKind.EDITS, m.resolve("e.json"), List.of(m));
        assertTrue(refused != null && refused.contains("model folder"), refused);
    }

    @Test
    void aSymlinkedFileIntoAModelIsResolvedBeforeTheCheck() throws IOException {
        Path m = model();
        Path link = Files.createSymbolicLink(tmp.resolve("e.json"), m.resolve("config.json"));
        assertThrows(ScalpelException.class, () -> OutputGuard.files(OutputKind.EDITS, List.of(), link));
        assertEquals("{}", Files.readString(m.resolve("config.json")));
    }

    @Test
    void aFolderOutputClaimsItsFolderAndMayRewriteOnlyItsOwnKind() throws IOException {
        Path out = tmp.resolve("export");
        Output first = OutputGuard.folder(OutputKind.HF_CHECKPOINT, out, List.of());
        first.writeBytes(out.resolve("config.json"), "{}".getBytes(StandardCharsets.UTF_8));
        first.writeBytes(out.resolve("model.safetensors"), new byte[16]);
        assertTrue(Files.isRegularFile(out.resolve(OutputGuard.MARKER)));
        OutputGuard.folder(OutputKind.HF_CHECKPOINT, out, List.of());   // an earlier export of the same kind: fine
        var other = assertThrows(ScalpelException.class, () -> OutputGuard.folder(OutputKind.PEFT_ADAPTER, out, List.of()));
        assertTrue(other.getMessage().contains("hf-checkpoint"), other.getMessage());
        assertThrows(ScalpelException.class, () -> OutputGuard.folder(OutputKind.HF_CHECKPOINT, out, List.of(out)),
                "not while it is the loaded model");
        assertThrows(ScalpelException.class, () -> OutputGuard.files(OutputKind.EDITS, List.of(), out.resolve("e.json")),
                "a file output never goes into a checkpoint, even one Scalpel wrote");

        Path users = Files.createDirectories(tmp.resolve("mine"));
        Files.writeString(users.resolve("notes.txt"), "keep me");
        var e = assertThrows(ScalpelException.class, () -> OutputGuard.folder(OutputKind.HF_CHECKPOINT, users, List.of()));
        assertTrue(e.getMessage().contains("not empty and was not written by Scalpel"), e.getMessage());
    }

    @Test
    void aStagedFolderAppearsAllAtOnceOrNotAtAll() throws IOException {
        Path out = tmp.resolve("export");
        try (Output first = OutputGuard.stagedFolder(OutputKind.HF_CHECKPOINT, out, List.of())) {
            first.writeBytes(out.resolve("config.json"), "{\"v\": 1}".getBytes(StandardCharsets.UTF_8));
            first.writeBytes(out.resolve("model-00001-of-00002.safetensors"), new byte[] {1});
            first.writeBytes(out.resolve("model-00002-of-00002.safetensors"), new byte[] {2});
            assertFalse(Files.exists(out), "nothing is visible before the commit");
            first.commit();
        }
        List<String> old = names(out);
        assertEquals(List.of("config.json", "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors",
                OutputGuard.MARKER), old);

        // a second export that fails half-way (an exception, a kill): the first stays exactly as it was
        assertThrows(IllegalStateException.class, () -> {
            try (Output second = OutputGuard.stagedFolder(OutputKind.HF_CHECKPOINT, out, List.of())) {
                second.writeBytes(out.resolve("config.json"), "{\"v\": 2}".getBytes(StandardCharsets.UTF_8));
                second.writeBytes(out.resolve("model.safetensors"), new byte[] {3});
                throw new IllegalStateException("interrupted before the commit");
            }
        });
        assertEquals(old, names(out));
        assertEquals("{\"v\": 1}", Files.readString(out.resolve("config.json")));
        assertEquals(List.of("export"), names(tmp), "no staging folder is left behind");

        // a crashed run's staging folder is cleaned up; a committed export replaces every old file (no torn mix)
        Path crashed = Files.createDirectories(tmp.resolve(".export.staging-crashed"));
        Files.setLastModifiedTime(crashed, java.nio.file.attribute.FileTime.from(java.time.Instant.now().minus(
                FolderStaging.LEFTOVER_AGE.plusMinutes(1))));
        Path running = Files.createDirectories(tmp.resolve(".export.staging-still-writing"));   // young: another export's
        try (Output third = OutputGuard.stagedFolder(OutputKind.HF_CHECKPOINT, out, List.of())) {
            third.writeBytes(out.resolve("config.json"), "{\"v\": 3}".getBytes(StandardCharsets.UTF_8));
            third.writeBytes(out.resolve("model.safetensors"), new byte[] {4});
            third.commit();
        }
        assertEquals(List.of("config.json", "model.safetensors", OutputGuard.MARKER), names(out));
        assertEquals(List.of(".export.staging-still-writing", "export"), names(tmp), "the old leftover is gone, a young one stays");
        Files.delete(running);
    }

    private static List<String> names(Path dir) throws IOException {
        try (var files = Files.list(dir)) {
            return files.map(f -> f.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void anExistingFileIsReplacedOnlyWhenScalpelWroteItAsTheSameKind() throws IOException {
        Path json = tmp.resolve("x.json");
        Files.writeString(json, "{\"format\": \"scalpel-edits/2\"}");
        OutputGuard.files(OutputKind.EDITS, List.of(), json);
        assertThrows(ScalpelException.class, () -> OutputGuard.files(OutputKind.HEAD_GROUP, List.of(), json));
        Files.writeString(json, "{\"mine\": 1}");
        assertThrows(ScalpelException.class, () -> OutputGuard.files(OutputKind.EDITS, List.of(), json));
        assertThrows(ScalpelException.class, () -> OutputGuard.files(OutputKind.EDITS, List.of(), tmp),
                "a folder is not a file to replace");
    }

    @Test
    void aPermitCoversOnlyWhatWasChecked() {
        Output out = OutputGuard.files(OutputKind.EDITS, List.of(), tmp.resolve("a.json"));
        out.writeBytes(tmp.resolve("a.json"), new byte[] {'{', '}'});
        assertThrows(IllegalStateException.class, () -> out.writeBytes(tmp.resolve("b.json"), new byte[1]));
    }

    @Test
    void nonFiniteValuesAreRefusedUnlessAllowed() {
        Output out = OutputGuard.files(OutputKind.EDITS, List.of(), tmp.resolve("a.json"));
        float[] values = {1f, Float.POSITIVE_INFINITY, Float.NaN};
        var e = assertThrows(ScalpelException.class, () -> out.requireFinite("w", values));
        assertTrue(e.getMessage().contains("tensor 'w' has 2 non-finite value(s) of 3"), e.getMessage());
        out.allowingNonFinite(true).requireFinite("w", values);
    }
}
