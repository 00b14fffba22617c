package dev.scalpel.app.ui.components;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.scalpel.app.ui.Session;
import dev.scalpel.app.ui.jobs.DirectJobRunner;
import dev.scalpel.engine.components.ModuleNames;
import dev.scalpel.engine.components.RankOneDecomposition;
import dev.scalpel.engine.edit.EditOverlay;
import dev.scalpel.engine.edit.PrefactorEdit;
import dev.scalpel.engine.eval.CrossEntropyEvaluator;
import dev.scalpel.engine.model.ComputeDevice;
import dev.scalpel.engine.model.LoadedModel;
import dev.scalpel.engine.testing.Fixtures;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;
import org.bytedeco.javacpp.PointerScope;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The Components view's logic on the sample model, jobs run on the calling thread. */
class ComponentsViewModelTest {
    private static final String MODULE = "model.layers.2.self_attn.o_proj";
    private static Session session;
    private DirectJobRunner jobs;
    private ComponentsViewModel vm;

    @BeforeAll
    static void open() {
        session = new Session(LoadedModel.open(Fixtures.sampleModel(), ComputeDevice.CPU));
    }

    @AfterAll
    static void close() {
        session.close();
    }

    @BeforeEach
    void fresh() {
        session.componentProperty().set(null);
        jobs = new DirectJobRunner();
        vm = new ComponentsViewModel(session, jobs);
    }

    @Test
    void aTextAddedLaterIsOfferedToo() {
        assertFalse(vm.texts().contains("late"));
        session.addText("late", "Ein Text, der erst später dazukommt. ".repeat(5));
        assertTrue(vm.texts().contains("late"), "a view made before the text sees it: " + vm.texts());
    }

    @Test
    void offersTheBlockMatricesInModelOrderAndDefaultsToDeVersusEn() {
        List<String> modules = vm.modules();
        assertEquals(6 * 7, modules.size(), "q, k, v, o, gate, up, down in each of 6 layers: " + modules);
        assertTrue(modules.contains(MODULE));
        int[] layers = modules.stream().mapToInt(m -> ModuleNames.layerOf(m).orElseThrow()).toArray();
        int[] sorted = layers.clone();
        Arrays.sort(sorted);
        assertTrue(Arrays.equals(sorted, layers), "layer by layer: " + modules);
        assertEquals("de", vm.targetProperty().get());
        assertEquals("en", vm.retainProperty().get());
        assertEquals(16, vm.rankProperty().get(), "the spec's default rank");
    }

    @Test
    void rowsAreTheRankComponentsSortedByContrast() {
        vm.moduleProperty().set(MODULE);
        vm.rankProperty().set(6);
        vm.compute();
        assertEquals("", vm.problemProperty().get());
        List<ComponentRow> rows = vm.rows();
        assertEquals(6, rows.size());
        assertEquals(List.of(0, 1, 2, 3, 4, 5), rows.stream().map(ComponentRow::index).sorted().toList());
        for (int i = 0; i + 1 < rows.size(); i++) {
            assertTrue(rows.get(i).contrast() >= rows.get(i + 1).contrast(), "sorted by contrast: " + rows);
        }
        for (ComponentRow r : rows) {
            assertEquals(r.targetDelta() - r.retainDelta(), r.contrast(), 1e-12);
        }
        double[] sigmaByIndex = rows.stream().sorted((a, b) -> a.index() - b.index()).mapToDouble(ComponentRow::singularValue).toArray();
        for (int i = 0; i + 1 < sigmaByIndex.length; i++) {
            assertTrue(sigmaByIndex[i] >= sigmaByIndex[i + 1], "σ descends with the index: " + Arrays.toString(sigmaByIndex));
        }
        assertTrue(jobs.messages().stream().anyMatch(m -> m.contains("on de")), jobs.messages().toString());
        assertTrue(jobs.messages().stream().anyMatch(m -> m.contains("on en")), jobs.messages().toString());
        assertTrue(vm.statusProperty().get().startsWith("6 components of " + MODULE + " on de vs en"), vm.statusProperty().get());
        assertFalse(vm.busyProperty().get());
    }

    @Test
    void aRowsTargetDeltaIsTheLossChangeWhenTheComponentIsRemoved() {
        vm.moduleProperty().set(MODULE);
        vm.rankProperty().set(4);
        vm.compute();
        ComponentRow top = vm.rows().get(0);
        long[] de = session.texts().get("de");
        long[] used = Arrays.copyOf(de, ComponentsViewModel.TEXT_TOKENS);
        var evaluator = new CrossEntropyEvaluator(session.model().model(), 256, 4);
        Integer bos = session.model().tokenizer().bosForPrompts();
        double base = evaluator.evaluate("de", used, bos, null).ce();
        try (PointerScope scope = new PointerScope();
             RankOneDecomposition d = RankOneDecomposition.svd(MODULE, session.model().model().weights().get(MODULE + ".weight"), 4);
             PrefactorEdit removed = PrefactorEdit.of(d, List.of(top.index()), "svd").setAll(0)) {
            double without = evaluator.withOverlay(new EditOverlay(List.of(removed))).evaluate("de", used, bos, null).ce();
            assertEquals(without - base, top.targetDelta(), 1e-4);
            assertTrue(Math.abs(top.targetDelta()) > 1e-4, "removing the top component changes the loss: " + top);
        }
    }

    @Test
    void usingARowChoosesItsComponentForThePrefactorRun() {
        vm.moduleProperty().set(MODULE);
        vm.rankProperty().set(3);
        vm.compute();
        vm.moduleProperty().set("model.layers.0.mlp.up_proj");    // changing the selection afterwards does not matter
        ComponentRow second = vm.rows().get(1);
        vm.choose(List.of(second));
        assertEquals(new Session.ComponentChoice(MODULE, second.index(), 3), session.componentProperty().get());
        assertEquals(session.componentProperty().get(), vm.chosenProperty().get());
        assertTrue(vm.statusProperty().get().contains("#" + second.index() + " of " + MODULE), vm.statusProperty().get());

        ComponentRow first = vm.rows().get(0);
        vm.choose(List.of(second, first));                        // several rows: one scalar each, in the order chosen
        assertEquals(new Session.ComponentChoice(MODULE, List.of(second.index(), first.index()), 3, null), session.componentProperty().get());
        assertTrue(vm.statusProperty().get().contains("one scalar each"), vm.statusProperty().get());
    }

    @Test
    void inspectingListsTheTopActivationsOnBothTextsLargestFirst() {
        vm.moduleProperty().set(MODULE);
        vm.rankProperty().set(2);
        vm.compute();
        vm.inspect(vm.rows().get(0));
        List<String> lines = vm.inspection();
        int per = ComponentInspectionJob.TOP;
        assertEquals(2 * (1 + per), lines.size(), lines.toString());
        assertEquals("de:", lines.get(0));
        assertEquals("en:", lines.get(1 + per));
        double[] values = IntStream.rangeClosed(1, per).mapToDouble(i -> Math.abs(Double.parseDouble(lines.get(i).trim().split("\\s+")[0]))).toArray();
        for (int i = 0; i + 1 < per; i++) {
            assertTrue(values[i] >= values[i + 1], "largest |activation| first: " + lines);
        }
        assertTrue(lines.get(1).contains(" ← '"), lines.get(1));
    }

    @Test
    void badInputIsReportedAndNothingRuns() {
        vm.targetProperty().set("en");
        vm.compute();
        assertEquals("Target and retain are both 'en'; choose two different texts so that the contrast means something.",
                vm.problemProperty().get());
        vm.targetProperty().set("de");
        vm.moduleProperty().set(MODULE);
        assertEquals(256, vm.maxRankProperty().get(), "o_proj is 256 × 256");
        vm.rankProperty().set(300);
        vm.compute();
        assertEquals("Rank must be between 1 and 256 for " + MODULE + " (its smaller dimension); got 300.", vm.problemProperty().get());
        vm.rankProperty().set(2);
        vm.moduleProperty().set("model.embed_tokens");
        assertEquals(0, vm.maxRankProperty().get());
        vm.compute();
        assertTrue(vm.problemProperty().get().startsWith("Choose a module to decompose"), vm.problemProperty().get());
        vm.choose(List.of());
        assertEquals("Select a component in the table first (Compute fills it).", vm.problemProperty().get());
        assertTrue(vm.rows().isEmpty());
        assertTrue(jobs.messages().isEmpty(), "no job ran: " + jobs.messages());
        assertNull(session.componentProperty().get());
    }

    @Test
    void aCancelledComputationShowsNoRowsAndFreesTheView() {
        vm.moduleProperty().set(MODULE);
        vm.rankProperty().set(2);
        jobs.cancelAfterProgressReports(1);
        vm.compute();
        assertTrue(vm.rows().isEmpty());
        assertTrue(vm.statusProperty().get().endsWith(": cancelled."), vm.statusProperty().get());
        assertFalse(vm.busyProperty().get());
        assertEquals("", vm.problemProperty().get());
    }
}
