package dev.scalpel.app.ui.workspace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.scalpel.app.ui.Session;
import dev.scalpel.engine.api.HeadId;
import dev.scalpel.engine.api.HeadMark;
import dev.scalpel.engine.api.HeadSet;
import dev.scalpel.engine.edit.Edit;
import dev.scalpel.engine.edit.EditsFile;
import dev.scalpel.engine.testing.ChildJvm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Crash safety of the workbench's autosave: a process that autosaves two alternating sessions as fast as it can
 * (marks and an edit on layer 1, then marks and an edit on layer 4) is killed with SIGKILL at random moments; every time,
 * the autosave reads back as one whole save — its marks and the edits file it names belong to the same version, and
 * the edits load on the model — never the marks of one save with the edits of another. At most one extra pair of
 * edits files (of the save the kill interrupted) lies beside it. A plain build runs {@value #DEFAULT_TRIALS} kills;
 * {@code -Dscalpel.killTrials=50} runs the campaign the README reports.
 */
class AutosaveKillTest {
    private static final int DEFAULT_TRIALS = 2;
    private static final int TRIALS = Integer.getInteger("scalpel.killTrials", DEFAULT_TRIALS);
    /** Version v marks this head for training and carries a head-LoRA on it. */
    private static final HeadId[] HEAD_OF_VERSION = {new HeadId(1, 1), new HeadId(4, 2)};

    @TempDir
    static Path dir;
    private static Session session;

    /** Autosaves versions 0, 1, 0, 1, … into args[0], printing "saved N" after each save, until killed. */
    public static final class Child {
        public static void main(String[] args) {
            try (Session s = SessionFixtures.sampleSession()) {
                Autosave autosave = new Autosave(Path.of(args[0]));
                autosave.start();
                Edit[] edits = {SessionFixtures.headLora(s, HeadSet.of(HEAD_OF_VERSION[0])),
                        SessionFixtures.headLora(s, HeadSet.of(HEAD_OF_VERSION[1]))};
                for (long i = 0; ; i++) {
                    int version = (int) (i % 2);
                    s.marks().clear();
                    s.marks().put(HEAD_OF_VERSION[version], HeadMark.TRAIN);
                    List.copyOf(s.edits()).forEach(s::removeEdit);
                    s.addEdit(edits[version]);
                    autosave.save(s);
                    System.out.println("saved " + i);
                }
            }
        }
    }

    @BeforeAll
    static void openModel() {
        session = SessionFixtures.sampleSession();
    }

    @AfterAll
    static void closeModel() {
        session.close();
    }

    @Test
    void aKilledAutosaveAlwaysReadsBackAsOneWholeSave() throws Exception {
        Path autosaveDir = dir.resolve("autosave");
        Random random = new Random(31);
        int[] seen = new int[2];
        for (int trial = 0; trial < TRIALS; trial++) {
            long delay = 200 + random.nextInt(1800);
            assertTrue(ChildJvm.killAfterReady(Child.class, List.of(autosaveDir.toString()), "saved", delay),
                    "the autosaving child never stops by itself");
            Path file = new Autosave(autosaveDir).autosaveFile();
            Workspace saved = Workspace.read(file);
            assertEquals(1, saved.marks().size(), "trial " + trial + ": " + saved.marks());
            HeadId marked = saved.marks().keySet().iterator().next();
            int version = marked.equals(HEAD_OF_VERSION[0]) ? 0 : 1;
            assertEquals(Map.of(HEAD_OF_VERSION[version], HeadMark.TRAIN), saved.marks());
            assertTrue(Files.isRegularFile(saved.editsFile()), "trial " + trial + ": the edits file it names is there");
            List<Edit> edits = EditsFile.read(saved.editsFile(), session.model().model(), session.modelHash());
            String layer = "layers." + HEAD_OF_VERSION[version].layer() + ".";
            assertEquals(1, edits.size());
            for (String tensor : edits.get(0).tensors().keySet()) {
                assertTrue(tensor.contains(layer), "trial " + trial + ": version " + version + "'s marks with an edit tensor "
                        + tensor + " of the other version");
            }
            edits.forEach(Edit::close);
            int files = Workspace.editsFilesOf(file).size();
            assertTrue(files <= 4, "trial " + trial + ": " + files + " edits files beside the autosave (at most two pairs)");
            seen[version]++;
        }
        System.out.printf("kill -9 during autosave: %d trials, version 0 found %d, version 1 found %d, 0 torn%n",
                TRIALS, seen[0], seen[1]);
    }
}
