package dev.scalpel.app.ui.groups;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.scalpel.app.ui.Session;
import dev.scalpel.engine.api.HeadId;
import dev.scalpel.engine.api.HeadSet;
import dev.scalpel.engine.groups.HeadGroupRegistry.OnConflict;
import dev.scalpel.engine.model.ComputeDevice;
import dev.scalpel.engine.model.LoadedModel;
import dev.scalpel.engine.testing.Fixtures;
import dev.scalpel.engine.testing.Logits;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Applying, conflicting, swapping out and undoing head groups, without a UI. */
class HeadGroupsViewModelTest {
    private static final long[][] IDS = {{1, 400, 23, 77, 1200, 5, 9, 300}};

    @TempDir
    static Path dir;
    static Path groupA;
    static Path groupB;

    @BeforeAll
    static void writeGroups() {
        groupA = GroupFiles.write(dir, "a", "L1H1,L1H2", 1.5);
        groupB = GroupFiles.write(dir, "b", "L1H2,L3H0", 0.5);
    }

    @Test
    void applyChangesTheModelAndUndoRestoresItBitForBit() {
        try (Session s = new Session(LoadedModel.open(Fixtures.sampleModel(), ComputeDevice.CPU))) {
            var vm = new HeadGroupsViewModel(s, (g, c) -> {
                throw new AssertionError("no conflict expected");
            });
            float[] base = Logits.of(s.model().model(), IDS, null);
            vm.addToLibrary(groupA);
            assertEquals("added head group a (2 heads) to the library", vm.statusProperty().get());
            vm.apply("a");
            assertEquals(Map.of("a", HeadSet.parse("L1H1,L1H2")), s.loadedGroups());
            float[] applied = Logits.of(s.model().model(), IDS, null);
            assertTrue(Logits.maxAbsDiff(base, applied) > 1e-3, "the group's scaled weights change the logits");
            s.undo().undo();
            assertEquals(0.0, Logits.maxAbsDiff(base, Logits.of(s.model().model(), IDS, null)), "undo restores the weights exactly");
            s.undo().redo();
            assertEquals(0.0, Logits.maxAbsDiff(applied, Logits.of(s.model().model(), IDS, null)), "redo swaps it in again");
            vm.swapOut("a");
            assertEquals(0.0, Logits.maxAbsDiff(base, Logits.of(s.model().model(), IDS, null)));
            assertTrue(s.loadedGroups().isEmpty());
        }
    }

    @Test
    void aConflictAsksTheResolverAndHonoursReplaceKeepAndCancel() {
        try (Session s = new Session(LoadedModel.open(Fixtures.sampleModel(), ComputeDevice.CPU))) {
            List<Map<HeadId, String>> asked = new ArrayList<>();
            OnConflict[] answer = {OnConflict.CANCEL};
            var vm = new HeadGroupsViewModel(s, (g, contested) -> {
                asked.add(contested);
                return Optional.of(answer[0]);
            });
            vm.addToLibrary(groupA);
            vm.addToLibrary(groupB);
            vm.apply("a");
            assertEquals(Map.of(new HeadId(1, 2), "a"), vm.conflicts("b"), "the drag preview's red slots");

            vm.apply("b");
            assertEquals(List.of(Map.of(new HeadId(1, 2), "a")), asked);
            assertEquals(List.of("a"), List.copyOf(s.loadedGroups().keySet()), "cancel changes nothing");
            assertEquals("did not apply b: it conflicts with L1H2", vm.statusProperty().get());

            answer[0] = OnConflict.KEEP;
            vm.apply("b");
            assertEquals(HeadSet.parse("L3H0"), s.loadedGroups().get("b"), "keep takes only the free heads");
            assertEquals(HeadSet.parse("L1H1,L1H2"), s.loadedGroups().get("a"));
            s.undo().undo();

            answer[0] = OnConflict.REPLACE;
            vm.apply("b");
            assertEquals(Map.of("b", HeadSet.parse("L1H2,L3H0")), s.loadedGroups(), "replace swaps a out");
            assertEquals("swapped in b: 2 heads (replaced a)", vm.statusProperty().get());
            s.undo().undo();
            assertEquals(Map.of("a", HeadSet.parse("L1H1,L1H2")), s.loadedGroups(), "undo brings a back");
        }
    }

    @Test
    void badFilesAndUnknownGroupsBecomeStatusLines(@TempDir Path empty) {
        try (Session s = new Session(LoadedModel.open(Fixtures.sampleModel(), ComputeDevice.CPU))) {
            var vm = new HeadGroupsViewModel(s, (g, c) -> Optional.empty());
            vm.addToLibrary(empty.resolve("missing.json"));
            assertTrue(vm.statusProperty().get().startsWith("cannot add missing.json: Cannot read head group"), vm.statusProperty().get());
            vm.apply("nope");
            assertEquals("no head group named 'nope' is in the library", vm.statusProperty().get());
            assertTrue(s.library().isEmpty());
        }
    }
}
