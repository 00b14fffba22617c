package dev.scalpel.app.ui.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.scalpel.app.ui.Session;
import dev.scalpel.app.ui.jobs.DirectJobRunner;
import dev.scalpel.app.ui.jobs.Job;
import dev.scalpel.app.ui.jobs.JobHandle;
import dev.scalpel.app.ui.jobs.JobRunner;
import dev.scalpel.engine.api.HeadId;
import dev.scalpel.engine.api.HeadSet;
import dev.scalpel.engine.api.ImportanceMap;
import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.api.TrainingProgress;
import dev.scalpel.engine.edit.Edit;
import dev.scalpel.engine.edit.LiveEdit;
import dev.scalpel.engine.edit.LoraEdit;
import dev.scalpel.engine.edit.PrefactorEdit;
import dev.scalpel.engine.model.ComputeDevice;
import dev.scalpel.engine.model.LinearOverlay;
import dev.scalpel.engine.model.LoadedModel;
import dev.scalpel.engine.spec.EditSpec;
import dev.scalpel.engine.spec.TrainSpec;
import dev.scalpel.engine.testing.Fixtures;
import dev.scalpel.engine.train.FineTuner;
import dev.scalpel.engine.api.HeadMark;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import javafx.collections.ListChangeListener;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Train dialog's logic on the sample model (6 layers × 8 heads of width 32, hidden 256), jobs run in place. */
class TrainViewModelTest {
    /** head-LoRA r=4 on one head: q, k, v rows A [4, 256] + B [32, 4]; o columns A [4, 32] + B [256, 4]. */
    private static final long HEAD_LORA_PER_HEAD = 4 * (4 * 256 + 32 * 4);
    /** A head fine-tune of one head: [32, 256] deltas for q, k, v and a [256, 32] one for o. */
    private static final long FINETUNE_PER_HEAD = 4 * 32 * 256;
    private static final String MARK_HEADS = "Mark at least one head for training (click heads on the heatmap).";

    private static final JobHandle DONE = new JobHandle() {
        @Override
        public void cancel() {}

        @Override
        public boolean isDone() {
            return true;
        }
    };

    private Session session;
    private DirectJobRunner runner;
    private final List<String> titles = new ArrayList<>();
    private TrainViewModel vm;

    @BeforeEach
    void open() {
        session = new Session(LoadedModel.open(Fixtures.sampleModel(), ComputeDevice.CPU));
        runner = new DirectJobRunner();
        JobRunner recordingTitles = new JobRunner() {
            @Override
            public <T> JobHandle submit(Job<T> job, Consumer<? super T> onSuccess, Consumer<? super Throwable> onFailure) {
                titles.add(job.title());
                return runner.submit(job, onSuccess, onFailure);
            }
        };
        vm = new TrainViewModel(session, recordingTitles, Runnable::run);
        vm.steps().set(3);
        vm.batchSize().set(2);
        vm.context().set(32);
    }

    @AfterEach
    void close() {
        session.close();
    }

    private void mark(HeadMark mark, HeadId... heads) {
        for (HeadId h : heads) {
            session.marks().put(h, mark);
        }
    }

    @Test
    void theDialogsSettingsAreTheEngineSpecsFields() {
        mark(HeadMark.TRAIN, new HeadId(1, 1));
        vm.rank().set(3);
        assertEquals(6.0, vm.alpha().get(), "alpha follows 2 × rank while at its default");
        vm.alpha().set(5);
        vm.dropout().set(0.1);
        vm.projections().set("q,o");
        vm.frozenContext().set(4);
        TrainSpec spec = vm.trainSpec();
        assertEquals(new EditSpec.HeadLora("L1H1", List.of("q", "o"), 3, 5.0, 0.1, null), spec.edit());
        assertEquals(4, spec.frozenContext());
        assertEquals(2 * 3 * (256 + 32) , vm.trainableParameters().get(), "q rows and o columns of one head at rank 3");

        vm.method().set(TrainMethod.MODULE_LORA);
        vm.rankPattern().set("v_proj=8");
        assertEquals(Map.of("v_proj", 8), ((EditSpec.ModuleLora) vm.trainSpec().edit()).rankPattern());
        vm.rankPattern().set("v_proj8");
        assertEquals("Rank pattern entries are module=rank, e.g. v_proj=8; 'v_proj8' is not.", vm.problem().get());
        vm.rankPattern().set("");

        vm.objective().set(FineTuner.Objective.MATCH_TEACHER);
        assertEquals("match-teacher needs the teacher's steering vector: choose a .gguf control vector file.", vm.problem().get());
        vm.objective().set(FineTuner.Objective.LEARN);
        vm.frozenContext().set(31);
        assertTrue(vm.problem().get().startsWith("The frozen context must be at least 0 and below the context − 1 (31)"),
                vm.problem().get());
    }

    @Test
    void headLoraOnTheMarkedHeadsTrainsOneUndoableEditOfTheShownSize() {
        mark(HeadMark.TRAIN, new HeadId(1, 1), new HeadId(2, 1));
        mark(HeadMark.FREEZE, new HeadId(3, 3));
        assertEquals("", vm.problem().get());
        long shown = vm.trainableParameters().get();
        assertEquals(2 * HEAD_LORA_PER_HEAD, shown);

        JobHandle job = vm.launch();

        assertNotNull(job);
        assertTrue(job.isDone());
        assertEquals(List.of("Train head-LoRA on L1H1,L2H1"), titles);
        assertEquals(1, session.edits().size());
        Edit edit = session.edits().get(0);
        assertEquals("head-lora", edit.kind());
        assertEquals(shown, edit.parameterCount());
        assertEquals(List.of(1L, 2L, 3L), vm.lossHistory().stream().map(TrainingProgress::step).toList());
        vm.lossHistory().forEach(p -> assertTrue(p.loss() > 0 && p.loss() < session.uniformCe() * 2, p.toString()));
        assertEquals(3, runner.messages().size());
        assertTrue(runner.messages().get(2).matches("step 3/3 · loss \\d+\\.\\d{3}"), runner.messages().get(2));
        assertTrue(vm.status().get().matches("trained head-LoRA on L1H1,L2H1 in \\d+\\.\\d s, last loss \\d+\\.\\d\\d"), vm.status().get());
        assertTrue(vm.status().get().endsWith(String.format(Locale.ROOT, "%.2f", vm.lossHistory().get(2).loss())));
        assertFalse(vm.running().get());
        assertEquals(session.modelHash(), vm.lastWeightsKey().get(), "the run records the snapshot it trained on: no groups, the checkpoint");

        session.undo().undo();
        assertTrue(session.edits().isEmpty());
    }

    @Test
    void withoutMarkedHeadsTheProblemSaysSoAndLaunchRefuses() {
        mark(HeadMark.FREEZE, new HeadId(0, 0));
        assertEquals(MARK_HEADS, vm.problem().get());
        assertEquals(0, vm.trainableParameters().get());

        assertNull(vm.launch());
        assertTrue(titles.isEmpty());
        assertTrue(session.edits().isEmpty());
        assertEquals(MARK_HEADS, vm.status().get());

        mark(HeadMark.TRAIN, new HeadId(0, 0));            // the freeze mark becomes a train mark: recomputed at once
        assertEquals("", vm.problem().get());
        assertEquals(HEAD_LORA_PER_HEAD, vm.trainableParameters().get());
        vm.method().set(TrainMethod.HEAD_FINETUNE);
        assertEquals(FINETUNE_PER_HEAD, vm.trainableParameters().get());
    }

    @Test
    void aPrefactorNeedsAChosenComponentAndTrainsOneScalar() {
        vm.method().set(TrainMethod.PREFACTOR);
        assertEquals("Choose a component in the Components view first.", vm.problem().get());
        assertNull(vm.launch());

        session.componentProperty().set(new Session.ComponentChoice("model.layers.2.mlp.down_proj", 9, 8));
        assertTrue(vm.problem().get().startsWith("Component 9 of a rank-8 SVD does not exist"), vm.problem().get());

        session.componentProperty().set(new Session.ComponentChoice("model.layers.2.mlp.down_proj", 1, 8));
        assertEquals("", vm.problem().get());
        assertEquals(1, vm.trainableParameters().get());
        vm.lr().set(0.05);
        vm.launch();

        assertEquals(1, session.edits().size());
        PrefactorEdit edit = (PrefactorEdit) session.edits().get(0);
        assertEquals(1, edit.parameterCount());
        assertTrue(Math.abs(edit.prefactors()[0] - 1) > 1e-3, "the prefactor moved from 1: " + edit.prefactors()[0]);
        assertTrue(vm.status().get().startsWith("trained scalar prefactor on component 1 of model.layers.2.mlp.down_proj in "),
                vm.status().get());
    }

    @Test
    void aCancelAfterTwoStepsKeepsTheTwoStepsAndSaysSo() {
        mark(HeadMark.TRAIN, new HeadId(0, 5));
        vm.steps().set(5);
        runner.cancelAfterProgressReports(2);

        vm.launch();

        assertEquals(2, vm.lossHistory().size());
        assertEquals(1, session.edits().size());
        assertTrue(vm.status().get().matches("stopped after 2 of 5 steps: cancelled; kept head-LoRA on L0H5, last loss \\d+\\.\\d\\d"),
                vm.status().get());
        assertFalse(vm.running().get());
    }

    @Test
    void perHeadRatesComeFromTheRankedMapAndFrozenHeadsAreLeftOut() {
        vm.method().set(TrainMethod.HEAD_FINETUNE_PER_HEAD_LR);
        assertEquals(MARK_HEADS, vm.problem().get());
        mark(HeadMark.TRAIN, new HeadId(0, 0), new HeadId(3, 0), new HeadId(5, 7));
        assertEquals("Per-head learning rates come from the importance map: compute or open a map first.", vm.problem().get());
        assertNull(vm.launch());

        double[][] scores = new double[6][8];
        for (int l = 0; l < 6; l++) {
            for (int h = 0; h < 8; h++) {
                scores[l][h] = l * 8 + h;               // rank (h + 8l) / 47: L0H0 the weakest, L5H7 the strongest
            }
        }
        session.showMap(new ImportanceMap(session.modelHash(), "d", "de", "gradient", 100, scores));
        assertEquals("", vm.problem().get());
        assertEquals(2 * FINETUNE_PER_HEAD, vm.trainableParameters().get(), "L5H7 ranks above 0.8: frozen, left out");

        vm.launch();

        Edit edit = session.edits().get(0);
        assertEquals(2 * FINETUNE_PER_HEAD, edit.parameterCount());
        assertEquals(Map.of("L0H0", 1.0 + 0.05, "L3H0", 1 - 24.0 / 47 + 0.05), edit.metadata().get("lr_scale"));
        assertTrue(vm.status().get().startsWith("trained head fine-tune of L0H0,L3H0 (per-head LR from de · gradient) in "),
                vm.status().get());

        session.marks().remove(new HeadId(0, 0));
        session.marks().remove(new HeadId(3, 0));
        assertEquals("Every marked head ranks above 0.80 in the map, so all are frozen; mark weaker heads or raise 'freeze above'.",
                vm.problem().get());
    }

    @Test
    void headLoraWithPerHeadRatesTrainsTheHeadsTheMapDoesNotFreeze() {
        vm.method().set(TrainMethod.HEAD_LORA_PER_HEAD_LR);
        mark(HeadMark.TRAIN, new HeadId(0, 0), new HeadId(3, 0), new HeadId(5, 7));
        assertEquals("Per-head learning rates come from the importance map: compute or open a map first.", vm.problem().get());
        double[][] scores = new double[6][8];
        for (int l = 0; l < 6; l++) {
            for (int h = 0; h < 8; h++) {
                scores[l][h] = l * 8 + h;               // L5H7 the strongest: ranks above 0.8, frozen
            }
        }
        session.showMap(new ImportanceMap(session.modelHash(), "d", "de", "gradient", 100, scores));
        assertEquals("", vm.problem().get());

        vm.launch();

        LoraEdit edit = (LoraEdit) session.edits().get(0);
        assertEquals(HeadSet.parse("L0H0,L3H0", 8), edit.heads());
        assertEquals(true, edit.metadata().get("per_head_lr"));
        assertTrue(vm.status().get().startsWith("trained head-LoRA on L0H0,L3H0 (per-head LR from de · gradient) in "),
                vm.status().get());
    }

    @Test
    void theLiveEditIsPublishedWhileTrainingAndClearedAfter() {
        mark(HeadMark.TRAIN, new HeadId(4, 2));
        List<LiveEdit> published = new ArrayList<>();
        session.liveProperty().addListener((obs, old, now) -> published.add(now));
        List<Boolean> stepVisibleToReaders = new ArrayList<>();
        vm.lossHistory().addListener((ListChangeListener<TrainingProgress>) c -> {
            try (LiveEdit.Lease lease = session.liveProperty().get().acquire()) {
                stepVisibleToReaders.add(lease.overlay() != LinearOverlay.NONE);
            }
        });

        vm.launch();

        assertEquals(2, published.size(), published.toString());
        assertNotNull(published.get(0));
        assertNull(published.get(1));
        assertNull(session.liveProperty().get());
        assertEquals(List.of(true, true, true), stepVisibleToReaders);
        try (LiveEdit.Lease afterwards = published.get(0).acquire()) {
            assertSame(LinearOverlay.NONE, afterwards.overlay(), "the live edit is closed once training ended");
        }
    }

    @Test
    void liveEvaluationReportsEveryTextEveryKSteps() {
        mark(HeadMark.TRAIN, new HeadId(1, 1));
        vm.steps().set(4);
        vm.evalEvery().set(2);

        vm.launch();

        List<String> texts = List.copyOf(session.texts().keySet());
        assertEquals(2 * texts.size(), vm.evalHistory().size());
        for (int i = 0; i < vm.evalHistory().size(); i++) {
            EvalPoint p = vm.evalHistory().get(i);
            assertEquals(i < texts.size() ? 2 : 4, p.step());
            assertEquals(texts.get(i % texts.size()), p.language());
            assertTrue(p.ce() > 0 && p.ce() < session.uniformCe() * 2, p.toString());
        }
    }

    @Test
    void moduleLoraCountsItsMatricesAndNamesBadModulesAndLayers() {
        vm.method().set(TrainMethod.MODULE_LORA);
        vm.layers().set("1");
        assertEquals(2 * 4 * (256 + 256), vm.trainableParameters().get(), "q_proj and v_proj of layer 1, r = 4");
        vm.launch();
        assertEquals(2 * 4 * (256 + 256), session.edits().get(0).parameterCount());
        assertTrue(vm.status().get().startsWith("trained LoRA on q_proj,v_proj in layers [1] in "), vm.status().get());

        vm.layers().set("1, x");
        assertEquals("Layers must be numbers separated by commas, e.g. 0,2 (blank: every layer); 'x' is not.", vm.problem().get());
        vm.layers().set("6");
        assertEquals("Layer 6 does not exist: the model has layers 0 to 5.", vm.problem().get());
        vm.layers().set("");
        vm.modules().set("qproj");
        assertEquals("No matrix matches the modules qproj; use names like q_proj, v_proj, down_proj.", vm.problem().get());
    }

    @Test
    void aDivergingRunStopsWithTheEnginesReasonAndAddsNothing() {
        session.componentProperty().set(new Session.ComponentChoice("model.layers.5.mlp.down_proj", 0, 4));
        vm.method().set(TrainMethod.PREFACTOR);
        try (org.bytedeco.pytorch.NoGradGuard g = new org.bytedeco.pytorch.NoGradGuard()) {   // this test's own session
            session.model().model().weights().get("model.layers.4.mlp.up_proj.weight").view(-1).narrow(0, 0, 1)
                    .fill_(new org.bytedeco.pytorch.Scalar(Float.POSITIVE_INFINITY));        // ∞ − ∞ in the MLP: the loss is NaN
        }

        vm.launch();

        assertTrue(session.edits().isEmpty());
        assertTrue(vm.status().get().matches("stopped after \\d of 3 steps: the loss became .+ at step \\d; .*nothing was added"),
                vm.status().get());
    }

    @Test
    void aFailedJobReportsTheMessageAndAddsNothing() {
        mark(HeadMark.TRAIN, new HeadId(0, 0));
        JobRunner failing = new JobRunner() {
            @Override
            public <T> JobHandle submit(Job<T> job, Consumer<? super T> onSuccess, Consumer<? super Throwable> onFailure) {
                onFailure.accept(new ScalpelException("Out of memory on the device; lower the batch size."));
                return DONE;
            }
        };
        TrainViewModel failingVm = new TrainViewModel(session, failing, Runnable::run);

        assertSame(DONE, failingVm.launch());

        assertEquals("training failed: Out of memory on the device; lower the batch size.", failingVm.status().get());
        assertFalse(failingVm.running().get());
        assertTrue(session.edits().isEmpty());
    }

    @Test
    void aSecondLaunchWhileARunIsGoingIsRefused() {
        mark(HeadMark.TRAIN, new HeadId(0, 0));
        List<Runnable> pending = new ArrayList<>();
        JobRunner deferred = new JobRunner() {
            @Override
            public <T> JobHandle submit(Job<T> job, Consumer<? super T> onSuccess, Consumer<? super Throwable> onFailure) {
                pending.add(() -> runner.submit(job, onSuccess, onFailure));
                return DONE;
            }
        };
        TrainViewModel deferredVm = new TrainViewModel(session, deferred, Runnable::run);
        deferredVm.steps().set(2);
        deferredVm.batchSize().set(2);
        deferredVm.context().set(32);

        assertSame(DONE, deferredVm.launch());
        assertTrue(deferredVm.running().get());
        assertTrue(deferredVm.status().get().startsWith("training head-LoRA on L0H0 "), deferredVm.status().get());
        assertNull(deferredVm.launch());
        assertEquals("A training run is going; wait for it to end or cancel it in the jobs panel.", deferredVm.status().get());
        assertEquals(1, pending.size());

        pending.get(0).run();
        assertFalse(deferredVm.running().get());
        assertEquals(1, session.edits().size());
    }

    @Test
    void dataProblemsAndSettingsAreNamed() {
        mark(HeadMark.TRAIN, new HeadId(0, 0));
        assertEquals("en", vm.general().get());
        assertEquals("code", vm.target().get(), "the first text that is not the general one");
        vm.target().set("xx");
        assertEquals("No text named 'xx'.", vm.problem().get());
        vm.target().set("de");
        vm.retainWeight().set(0.5);
        vm.retain().set(null);
        assertEquals("Choose a retain text, or set the retain weight to 0.", vm.problem().get());
        vm.retain().set("en");
        vm.context().set(512);
        assertEquals("The context must be between 2 and the model's 256 positions.", vm.problem().get());
        vm.context().set(32);
        vm.lr().set(0);
        assertEquals("The learning rate must be a number in (0, 10], e.g. 0.001; got 0.0.", vm.problem().get());
        vm.lr().set(1e9);
        assertEquals("The learning rate must be a number in (0, 10], e.g. 0.001; got 1.0E9.", vm.problem().get(), "never trains");
        vm.lr().set(1e-3);
        vm.optimizer().set("sgd");
        assertEquals("Unknown optimizer 'sgd'; use adamw, apollo or apollo-mini.", vm.problem().get());
        vm.optimizer().set("apollo-mini");
        vm.objective().set(FineTuner.Objective.UNLEARN);
        assertEquals("", vm.problem().get());
    }

    @Test
    void aUserFileBecomesASessionTextAndBadFilesAreNamed(@TempDir Path dir) throws Exception {
        Path mine = Files.writeString(dir.resolve("mine.txt"), "Der Hund läuft über die Straße. ".repeat(20));
        assertEquals("mine", vm.addTextFile(mine));
        assertEquals("mine (2)", vm.addTextFile(mine), "a second file of the same name does not replace the first");
        assertTrue(vm.textNames().containsAll(List.of("mine", "mine (2)")));
        assertTrue(session.texts().get("mine").length > 20);
        vm.target().set("mine");
        mark(HeadMark.TRAIN, new HeadId(0, 0));
        assertEquals("", vm.problem().get());

        Path latin1 = Files.write(dir.resolve("latin1.txt"), "Straße".getBytes(StandardCharsets.ISO_8859_1));
        assertEquals("Text file " + latin1 + " is not valid UTF-8; convert it (e.g. iconv -t UTF-8).",
                assertThrows(ScalpelException.class, () -> vm.addTextFile(latin1)).getMessage());
        Path missing = dir.resolve("missing.txt");
        assertEquals("Text file " + missing + " does not exist; check the path.",
                assertThrows(ScalpelException.class, () -> vm.addTextFile(missing)).getMessage());
        Path blank = Files.writeString(dir.resolve("blank.txt"), " \n");
        assertTrue(assertThrows(ScalpelException.class, () -> vm.addTextFile(blank)).getMessage().endsWith(" is empty; choose a file with text to train on."));
        assertFalse(vm.textNames().contains("latin1"));
    }

    @Test
    void theRunExportsAsAJobFolderAndItsResultImportsAsOneUndoableEdit(@TempDir Path dir) throws Exception {
        mark(HeadMark.TRAIN, new HeadId(1, 1));
        vm.tokenBudget().set(64);
        Path job = dir.resolve("job");

        assertNotNull(vm.exportJob(job));

        assertTrue(vm.status().get().startsWith("wrote the job folder " + job + " (head-LoRA r=4"), vm.status().get());
        assertEquals("Export job: head-LoRA on L1H1", titles.get(titles.size() - 1));
        var json = new com.fasterxml.jackson.databind.ObjectMapper().readTree(job.resolve("job.json").toFile());
        assertEquals(3, json.path("spec").path("steps").asInt());
        assertEquals(64, json.path("tokens").path("target").asInt(), "the session text cut to the token budget");
        assertEquals(vm.trainSpec(), TrainSpec.read(job.resolve("inputs/spec.json")), "the dialog's run, as a spec file");

        // the result as run.py writes it; here the initial edit (what any run starts from)
        Path result = Files.createDirectories(job.resolve("result"));
        String tensors = new com.fasterxml.jackson.databind.ObjectMapper().readTree(job.resolve("initial/edits.json").toFile())
                .path("tensors").asText();
        Files.copy(job.resolve("initial").resolve(tensors), result.resolve(tensors));
        Files.copy(job.resolve("initial/edits.json"), result.resolve("edits.json"));
        Files.writeString(result.resolve("summary.json"), "{\"processes\": 2, \"base_weights_unchanged\": true}");
        JobImport.Imported imported = new JobImport(session, job).run(null);
        String line = imported.applyTo(session);
        assertEquals("head-lora", session.edits().get(0).kind());
        assertTrue(line.contains("trained by run.py on 2 process(es) in 0 steps; base weights unchanged: yes"), line);
        session.undo().undo();
        assertTrue(session.edits().isEmpty());

        Path vector = Files.writeString(dir.resolve("steer.gguf"), "not read: the refusal comes first");
        vm.objective().set(FineTuner.Objective.MATCH_TEACHER);
        vm.teacherSteerVector().set(vector.toString());
        assertNull(vm.exportJob(dir.resolve("job2")));
        assertTrue(vm.status().get().startsWith("export-job cannot run the match-teacher objective yet"), vm.status().get());
        assertFalse(Files.exists(dir.resolve("job2")));
    }
}
