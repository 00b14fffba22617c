package dev.scalpel.app.ui.workspace;

import static dev.scalpel.app.ui.workspace.SessionFixtures.IDS;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.scalpel.app.ui.Session;
import dev.scalpel.engine.api.HeadId;
import dev.scalpel.engine.api.HeadSet;
import dev.scalpel.engine.api.ImportanceMap;
import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.edit.Edit;
import dev.scalpel.engine.groups.HeadGroupRegistry;
import dev.scalpel.engine.model.ComputeDevice;
import dev.scalpel.engine.model.LoadedModel;
import dev.scalpel.engine.model.ModelHash;
import dev.scalpel.engine.testing.Logits;
import dev.scalpel.engine.api.HeadMark;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Saving a session as a workspace and opening it into a fresh session on the same model. */
class WorkspaceTest {
    private static final HeadId L0H0 = new HeadId(0, 0);
    private static final HeadId L1H2 = new HeadId(1, 2);
    private static final HeadId L3H5 = new HeadId(3, 5);

    /** A 6 × 8 map (the sample model's shape) whose scores encode {@code seed}, layer and head. */
    private static ImportanceMap map(Session s, String domain, String method, double seed) {
        double[][] scores = new double[6][8];
        for (int l = 0; l < 6; l++) {
            for (int h = 0; h < 8; h++) {
                scores[l][h] = seed + l * 0.1 + h * 0.013 + 1e-9 * h;   // digits that must survive JSON exactly
            }
        }
        return new ImportanceMap(s.modelHash(), ModelHash.ofText(domain), domain, method, 4096, scores);
    }

    @Test
    void aWorkspaceRoundTripsMarksMapsEditsGroupsAndTheComponentToIdenticalLogits(@TempDir Path tmp) throws IOException {
        Path json = tmp.resolve("ws").resolve("study.json");
        float[] base;
        float[] edited;
        ImportanceMap de;
        ImportanceMap fr;
        Session.ComponentChoice component = new Session.ComponentChoice("model.layers.1.mlp.down_proj", List.of(2, 5), 8, null);
        try (Session s = SessionFixtures.sampleSession()) {
            base = Logits.of(s.model().model(), IDS, null);
            s.marks().put(L1H2, HeadMark.TRAIN);
            s.marks().put(L0H0, HeadMark.FREEZE);
            s.marks().put(new HeadId(2, 2), HeadMark.NONE);
            de = map(s, "de", "gradient", 1);
            fr = map(s, "fr", "ablation", -2);
            s.showMap(de);
            s.showMap(fr);
            s.mapProperty().set(de);
            s.addEdit(SessionFixtures.headLora(s, HeadSet.of(L1H2, new HeadId(4, 1))));
            Path group = SessionFixtures.scaledGroup(s, HeadSet.of(L3H5), "l3-scaled", tmp.resolve("groups").resolve("l3.json"));
            s.applyGroup(s.addToLibrary(group), HeadGroupRegistry.OnConflict.CANCEL);
            s.componentProperty().set(component);
            edited = Logits.of(s.model().model(), IDS, s.overlay());
            Workspace.capture(s).write(json);
        }
        assertTrue(Logits.maxAbsDiff(base, edited) > 1e-3, "the edit and the group change the logits");
        List<Path> editsFiles = Workspace.editsFilesOf(json);
        assertEquals(2, editsFiles.size(), "the edits JSON and its tensors file: " + editsFiles);
        JsonNode file = new ObjectMapper().readTree(json.toFile());
        assertEquals("scalpel-workspace/1", file.get("format").asText());
        assertEquals("{\"L0H0\":\"freeze\",\"L1H2\":\"train\"}", file.get("marks").toString(), "unmarked heads are left out");
        assertEquals(List.of(file.get("edits").asText()), editsFiles.stream().map(f -> f.getFileName().toString())
                .filter(n -> n.endsWith(".json")).toList(), "the workspace names its edits manifest");
        assertEquals("de · gradient", file.get("shown_map").asText());
        assertEquals(List.of("l3-scaled"), List.of(file.get("loaded_groups").get(0).asText()));
        assertEquals(8, file.get("maps").get("fr · ablation").get("heads").asInt());

        Workspace read = Workspace.read(json);
        try (Session fresh = new Session(LoadedModel.open(read.modelToOpen(), ComputeDevice.CPU))) {
            read.restoreInto(fresh);
            assertFalse(fresh.undo().canUndoProperty().get(), "opening a workspace leaves nothing to undo");
            assertEquals(Map.of(L1H2, HeadMark.TRAIN, L0H0, HeadMark.FREEZE), Map.copyOf(fresh.marks()));
            assertEquals(List.of("de · gradient", "fr · ablation"), List.copyOf(fresh.maps().keySet()));
            assertEquals(de, fresh.maps().get("de · gradient"));
            assertEquals(fr, fresh.maps().get("fr · ablation"));
            assertEquals(de, fresh.mapProperty().get());
            assertEquals(Map.of("l3-scaled", HeadSet.of(L3H5)), Map.copyOf(fresh.loadedGroups()));
            assertEquals(List.of("head-lora"), fresh.edits().stream().map(Edit::kind).toList());
            assertEquals(component, fresh.componentProperty().get());
            assertArrayEquals(edited, Logits.of(fresh.model().model(), IDS, fresh.overlay()), 0f,
                    "the same group swapped in and the same edit rebuilt from its file give the same logits");
        }
        assertEquals("[2,5]", file.get("component").get("indices").toString());
        assertFalse(file.get("component").has("index"), file.get("component").toString());
        String older = Files.readString(json).replaceAll("\"indices\"\\s*:\\s*\\[[^]]*]", "\"index\" : 2");
        Files.writeString(json, older);
        assertEquals(new Session.ComponentChoice("model.layers.1.mlp.down_proj", 2, 8), Workspace.read(json).component(),
                "a workspace written before several components could be chosen names one \"index\"");
    }

    @Test
    void savingWithoutEditsDropsTheEditsFileOfAnEarlierSave(@TempDir Path tmp) {
        Path json = tmp.resolve("w.json");
        try (Session s = SessionFixtures.sampleSession()) {
            Edit lora = SessionFixtures.headLora(s, HeadSet.of(L1H2));
            s.addEdit(lora);
            Workspace.capture(s).write(json);
            List<Path> pair = Workspace.editsFilesOf(json);
            assertEquals(2, pair.size(), "the edits JSON and the tensors file it names");
            s.addEdit(SessionFixtures.headLora(s, HeadSet.of(L1H2)));
            Workspace.capture(s).write(json);
            List<Path> second = Workspace.editsFilesOf(json);
            assertEquals(2, second.size(), "a new save writes its own edits files and drops the earlier ones: " + second);
            assertFalse(second.contains(pair.get(0)));
            s.removeEdit(s.edits().get(1));
            s.removeEdit(lora);
            Workspace.capture(s).write(json);
            assertFalse(Files.exists(pair.get(0)));
            assertFalse(Files.exists(pair.get(1)));
            assertEquals(List.of(), Workspace.editsFilesOf(json));
        }
        assertNull(Workspace.read(json).editsFile());
    }

    @Test
    void aWorkspaceForAnotherModelIsRefusedWithBothHashes(@TempDir Path tmp) {
        String other = "0123456789ab" + "c".repeat(52);
        try (Session s = SessionFixtures.sampleSession()) {
            Workspace w = new Workspace(s.modelDir(), other, Map.of(L1H2, HeadMark.TRAIN), Map.of(), null, List.of(), null,
                    List.of(), List.of(), null);
            var e = assertThrows(ScalpelException.class, () -> w.restoreInto(s));
            assertEquals("The workspace was saved for model 0123456789ab but " + s.modelDir() + " has "
                    + ModelHash.shortHash(s.modelHash()) + "; open the model it was saved with.", e.getMessage());
            assertTrue(s.marks().isEmpty(), "nothing was restored");
        }
    }

    @Test
    void aWorkspaceIsNeverWrittenIntoTheModelFolder() {
        try (Session s = SessionFixtures.sampleSession()) {
            Path inside = s.modelDir().resolve("workspace.json");
            var e = assertThrows(ScalpelException.class, () -> Workspace.capture(s).write(inside));
            assertTrue(e.getMessage().contains("inside the model folder"), e.getMessage());
            assertFalse(Files.exists(inside));
        }
    }

    @Test
    void badFilesGiveOneLineSayingWhatIsWrong(@TempDir Path tmp) throws IOException {
        Path cut = Files.writeString(tmp.resolve("cut.json"), "{\"format\": \"scalpel-workspace/1\", \"model_path\": \"/m\", \"marks\": {\"L1");
        var e = assertThrows(ScalpelException.class, () -> Workspace.read(cut));
        assertTrue(e.getMessage().startsWith("The workspace " + cut + " is not valid JSON ("), e.getMessage());
        assertTrue(e.getMessage().endsWith("at line 1); it may have been cut off. Open another workspace or the autosave."), e.getMessage());

        Path edits = Files.writeString(tmp.resolve("edits.json"), "{\"format\": \"scalpel-edits/1\", \"edits\": []}");
        assertEquals(edits + " is not a Scalpel workspace (format 'scalpel-edits/1', expected scalpel-workspace/1); open a file "
                + "that Scalpel saved as a workspace.", assertThrows(ScalpelException.class, () -> Workspace.read(edits)).getMessage());

        Path newer = Files.writeString(tmp.resolve("newer.json"), "{\"format\": \"scalpel-workspace/2\"}");
        assertEquals("The workspace " + newer + " was saved by a newer Scalpel (format scalpel-workspace/2; this one reads "
                + "scalpel-workspace/1); update Scalpel to open it.", assertThrows(ScalpelException.class, () -> Workspace.read(newer)).getMessage());

        Path missing = tmp.resolve("nope.json");
        assertEquals("No workspace file " + missing + "; check the path.",
                assertThrows(ScalpelException.class, () -> Workspace.read(missing)).getMessage());

        Path badMark = Files.writeString(tmp.resolve("mark.json"), "{\"format\": \"scalpel-workspace/1\", \"model_path\": \"/m\", "
                + "\"model_hash\": \"h\", \"marks\": {\"L1H2\": \"prune\"}}");
        assertEquals("The workspace " + badMark + " is invalid: the mark of L1H2 is 'prune'; marks are train or freeze. "
                + "Save the workspace again or fix the file.", assertThrows(ScalpelException.class, () -> Workspace.read(badMark)).getMessage());
    }

    @Test
    void aMissingModelFolderIsNamed(@TempDir Path tmp) {
        Path gone = tmp.resolve("models").resolve("gone");
        Workspace w = new Workspace(gone, "h", Map.of(), Map.of(), null, List.of(), null, List.of(), List.of(), null);
        assertEquals("The workspace was saved for the model in " + gone + ", which is missing; put the model back in that "
                + "folder to open the workspace.", assertThrows(ScalpelException.class, w::modelToOpen).getMessage());
    }
}
