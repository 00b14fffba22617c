package dev.scalpel.app.ui.export;

import static dev.scalpel.app.ui.workspace.SessionFixtures.IDS;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.scalpel.app.ui.Session;
import dev.scalpel.app.ui.jobs.DirectJobRunner;
import dev.scalpel.app.ui.workspace.SessionFixtures;
import dev.scalpel.engine.api.HeadId;
import dev.scalpel.engine.api.HeadSet;
import dev.scalpel.engine.edit.Edit;
import dev.scalpel.engine.edit.EditOverlay;
import dev.scalpel.engine.edit.EditsFile;
import dev.scalpel.engine.edit.HeadFinetuneEdit;
import dev.scalpel.engine.groups.HeadGroupRegistry;
import dev.scalpel.engine.model.ComputeDevice;
import dev.scalpel.engine.model.LoadedModel;
import dev.scalpel.engine.testing.Logits;
import dev.scalpel.engine.api.HeadMark;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Export dialog's logic with a runner that runs each job at once on the test thread. */
class ExportViewModelTest {
    private static final HeadId L1H2 = new HeadId(1, 2);

    private static HeadFinetuneEdit finetune(Session s, HeadSet heads) {
        return SessionFixtures.randomize(HeadFinetuneEdit.of(s.model().model(), heads, SessionFixtures.QKVO, h -> 1.0));
    }

    private static long folderBytes(Path folder) throws IOException {
        try (Stream<Path> files = Files.list(folder)) {
            return files.mapToLong(f -> f.toFile().length()).sum();
        }
    }

    @Test
    void anHfExportHoldsTheSwappedInGroupAndTheMergedEditAndReloadsToTheSameLogits(@TempDir Path tmp) throws IOException {
        Path out = tmp.resolve("hf");
        try (Session s = SessionFixtures.sampleSession()) {
            float[] base = Logits.of(s.model().model(), IDS, null);
            s.addEdit(SessionFixtures.headLora(s, HeadSet.of(L1H2)));
            s.applyGroup(s.addToLibrary(SessionFixtures.scaledGroup(s, HeadSet.of(new HeadId(3, 5)), "l3-scaled",
                    tmp.resolve("l3.json"))), HeadGroupRegistry.OnConflict.CANCEL);
            float[] edited = Logits.of(s.model().model(), IDS, s.overlay());
            DirectJobRunner jobs = new DirectJobRunner();
            ExportViewModel vm = new ExportViewModel(s, jobs);
            assertEquals("Choose where to export to (Browse…).", vm.problemProperty().get());
            vm.destinationProperty().set(out.toString());
            assertEquals("", vm.problemProperty().get());
            assertEquals("The model's weights as they are in memory (head groups swapped in: l3-scaled), with the edit on the "
                    + "stack merged, as F32 safetensors, with the model's config and tokenizer.", vm.summaryProperty().get());

            vm.export();

            Matcher status = Pattern.compile("exported HF merged checkpoint \\((\\d+\\.\\d) MB\\) to (.+)").matcher(vm.statusProperty().get());
            assertTrue(status.matches(), vm.statusProperty().get());
            assertEquals(out.toString(), status.group(2));
            assertEquals(folderBytes(out) / 1e6, Double.parseDouble(status.group(1)), 0.05);
            assertEquals(List.of("writing HF merged checkpoint …", "wrote " + out), jobs.messages());
            assertFalse(vm.busyProperty().get());
            try (LoadedModel exported = LoadedModel.open(out, ComputeDevice.CPU)) {
                float[] reloaded = Logits.of(exported.model(), IDS, null);
                assertTrue(Logits.maxAbsDiff(edited, reloaded) < 1e-4, "max diff " + Logits.maxAbsDiff(edited, reloaded));
                assertTrue(Logits.maxAbsDiff(base, reloaded) > 1e-3, "the export is not the base model");
            }
            assertEquals("", vm.problemProperty().get(), "an earlier export of the same kind may be written again");
            Path users = Files.createDirectories(out.resolveSibling("mine"));
            Files.writeString(users.resolve("notes.txt"), "keep");
            vm.destinationProperty().set(users.toString());
            assertTrue(vm.problemProperty().get().contains("is not empty and was not written by Scalpel"), vm.problemProperty().get());
        }
    }

    @Test
    void aPeftAdapterNeedsExactlyOneLoraEditOnTheStack(@TempDir Path tmp) throws IOException {
        Path out = tmp.resolve("adapter");
        try (Session s = SessionFixtures.sampleSession()) {
            ExportViewModel vm = new ExportViewModel(s, new DirectJobRunner());
            vm.formatProperty().set(ExportFormat.PEFT_ADAPTER);
            vm.destinationProperty().set(out.toString());
            assertEquals("A PEFT adapter holds exactly one LoRA or head-LoRA edit; the stack has none. Export an HF merged "
                    + "checkpoint for other edits.", vm.problemProperty().get());
            Edit tuned = finetune(s, HeadSet.of(L1H2));
            s.addEdit(tuned);
            assertEquals("A PEFT adapter holds exactly one LoRA or head-LoRA edit; the stack has [head-finetune]. Export an HF "
                    + "merged checkpoint for other edits.", vm.problemProperty().get(), "the line follows the edit stack");
            assertFalse(vm.canExportProperty().get());
            vm.export();
            assertEquals("", vm.statusProperty().get());
            assertFalse(Files.exists(out), "refused, nothing written");

            s.addEdit(SessionFixtures.headLora(s, HeadSet.of(L1H2)));
            assertTrue(vm.problemProperty().get().contains("the stack has [head-finetune, head-lora]"), vm.problemProperty().get());
            s.removeEdit(tuned);
            assertEquals("", vm.problemProperty().get());
            vm.export();
            assertTrue(vm.statusProperty().get().startsWith("exported PEFT adapter ("), vm.statusProperty().get());
            var config = new ObjectMapper().readTree(out.resolve("adapter_config.json").toFile());
            assertEquals(2, config.get("r").asInt());
            assertTrue(Files.isRegularFile(out.resolve("adapter_model.safetensors")));
        }
    }

    @Test
    void theBaseModelFolderIsRefusedAndNothingIsWritten() {
        try (Session s = SessionFixtures.sampleSession()) {
            s.addEdit(SessionFixtures.headLora(s, HeadSet.of(L1H2)));
            ExportViewModel vm = new ExportViewModel(s, new DirectJobRunner());
            for (ExportFormat f : List.of(ExportFormat.HF_CHECKPOINT, ExportFormat.EDITS_FILE)) {
                Path inside = s.modelDir().resolve(f.toFolder() ? "merged" : "edits.json");
                vm.formatProperty().set(f);
                vm.destinationProperty().set(inside.toString());
                assertTrue(vm.problemProperty().get().startsWith("Refusing to write " + inside)
                        && vm.problemProperty().get().contains("inside the model folder"), vm.problemProperty().get());
                vm.export();
                assertFalse(Files.exists(inside), f + " wrote nothing");
                assertEquals("", vm.statusProperty().get());
            }
        }
    }

    @Test
    void anEditsFileRoundTripsToTheSameLogits(@TempDir Path tmp) {
        Path file = tmp.resolve("stack.json");
        try (Session s = SessionFixtures.sampleSession()) {
            ExportViewModel vm = new ExportViewModel(s, new DirectJobRunner());
            vm.formatProperty().set(ExportFormat.EDITS_FILE);
            vm.destinationProperty().set(file.toString());
            assertEquals("The edit stack is empty; there is nothing to save as an edits file.", vm.problemProperty().get());
            s.addEdit(SessionFixtures.headLora(s, HeadSet.of(L1H2, new HeadId(4, 7))));
            s.addEdit(finetune(s, HeadSet.of(new HeadId(0, 3))));
            vm.destinationProperty().set(tmp.resolve("stack.txt").toString());
            assertEquals("Name the file NAME.json (its tensors go beside it as a .safetensors file).", vm.problemProperty().get());
            vm.destinationProperty().set(file.toString());
            vm.export();
            assertTrue(vm.statusProperty().get().matches("exported edits file \\(\\d+\\.\\d kB\\) to " + Pattern.quote(file.toString())),
                    vm.statusProperty().get());
            List<Edit> read = EditsFile.read(file, s.model().model(), s.modelHash());
            try {
                assertEquals(List.of("head-lora", "head-finetune"), read.stream().map(Edit::kind).toList());
                assertArrayEquals(Logits.of(s.model().model(), IDS, s.overlay()), Logits.of(s.model().model(), IDS, new EditOverlay(read)), 0f);
            } finally {
                read.forEach(Edit::close);
            }
        }
    }

    @Test
    void aHeadGroupHoldsTheMarkedHeadsWithTheEditsMergedAndLeavesTheModelAsItWas(@TempDir Path tmp) {
        Path file = tmp.resolve("l1h2.json");
        try (Session s = SessionFixtures.sampleSession()) {
            ExportViewModel vm = new ExportViewModel(s, new DirectJobRunner());
            vm.formatProperty().set(ExportFormat.HEAD_GROUP);
            vm.destinationProperty().set(file.toString());
            assertEquals("A head group holds the heads marked for training; mark some (click them in the heatmap) first.",
                    vm.problemProperty().get());
            s.marks().put(L1H2, HeadMark.TRAIN);
            assertEquals("Name the head group, e.g. code/rust.", vm.problemProperty().get());
            vm.groupNameProperty().set("l1h2-tuned");
            Edit tuned = finetune(s, HeadSet.of(L1H2));
            s.addEdit(tuned);
            assertEquals("The weights of the heads marked for training (L1H2) as they are in memory, with the edit on the stack "
                    + "merged, as a head group (NAME.json + NAME.<id>.safetensors).", vm.summaryProperty().get());
            float[] base = Logits.of(s.model().model(), IDS, null);
            float[] edited = Logits.of(s.model().model(), IDS, s.overlay());

            vm.export();

            assertTrue(vm.statusProperty().get().startsWith("exported head group ("), vm.statusProperty().get());
            assertArrayEquals(base, Logits.of(s.model().model(), IDS, null), 0f, "exporting did not touch the weights");
            s.removeEdit(tuned);
            s.applyGroup(s.addToLibrary(file), HeadGroupRegistry.OnConflict.CANCEL);
            float[] withGroup = Logits.of(s.model().model(), IDS, null);
            assertTrue(Logits.maxAbsDiff(edited, withGroup) < 1e-4, "the group is the fine-tuned head: " + Logits.maxAbsDiff(edited, withGroup));
            assertTrue(Logits.maxAbsDiff(base, withGroup) > 1e-3);
        }
    }

    @Test
    void sizesReadAsKilobytesOrMegabytes() {
        assertEquals("29.1 MB", ExportViewModel.size(29_140_000));
        assertEquals("412.5 kB", ExportViewModel.size(412_500));
    }
}
