package dev.scalpel.app.ui.compare;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.scalpel.app.ui.Session;
import dev.scalpel.app.ui.jobs.DirectJobRunner;
import dev.scalpel.engine.api.LanguageLoss;
import dev.scalpel.engine.edit.EditOverlay;
import dev.scalpel.engine.eval.CrossEntropyEvaluator;
import dev.scalpel.engine.model.ComputeDevice;
import dev.scalpel.engine.model.LoadedModel;
import dev.scalpel.engine.testing.Fixtures;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Per-language CE of base and edited model on the sample model's texts. */
class LanguageEvalViewModelTest {
    private static final int TOKENS = 600;
    private static Session session;
    private DirectJobRunner jobs;
    private LanguageEvalViewModel vm;

    @BeforeAll
    static void open() {
        session = new Session(LoadedModel.open(Fixtures.sampleModel(), ComputeDevice.CPU));
    }

    @BeforeEach
    void fresh() {
        jobs = new DirectJobRunner();
        vm = new LanguageEvalViewModel(session, jobs);
        vm.maxTokensProperty().set(TOKENS);
    }

    private long[] text(String name) {
        return Arrays.copyOf(session.texts().get(name), TOKENS);
    }

    @AfterEach
    void clear() {
        List.copyOf(session.edits()).forEach(session::removeEdit);
        session.liveProperty().set(null);
    }

    @AfterAll
    static void close() {
        session.close();
    }

    private CrossEntropyEvaluator evaluator() {
        return new CrossEntropyEvaluator(session.model().model(), 256, 4);
    }

    @Test
    void withoutEditsOnlyTheBaseIsEvaluatedAndMatchesTheEvaluator() {
        vm.evaluate();
        assertEquals(List.copyOf(session.texts().keySet()), vm.base().stream().map(LanguageLoss::name).toList());
        assertTrue(vm.edited().isEmpty());
        assertTrue(vm.statusProperty().get().startsWith("No edits: only the base model was evaluated on 5 texts"),
                vm.statusProperty().get());
        assertEquals(Math.log(8192), vm.uniformCe(), 1e-12);
        Integer bos = session.model().tokenizer().bosForPrompts();
        for (String name : List.of("de", "code")) {
            LanguageLoss direct = evaluator().evaluate(name, text(name), bos, null);
            LanguageLoss shown = vm.base().stream().filter(l -> l.name().equals(name)).findFirst().orElseThrow();
            assertEquals(direct.ce(), shown.ce(), 1e-6, name);
            assertEquals(TOKENS, shown.tokens(), name + ": every token predicted once, the first after BOS");
            assertTrue(shown.ce() < vm.uniformCe(), "the trained model beats a uniform guess on " + name);
        }
    }

    @Test
    void withANonzeroEditTheEditedLossesDifferAndMatchTheEvaluatorWithItsOverlay() {
        session.addEdit(TestEdits.nonzeroLora(session.model().model(), 1.0));
        vm.evaluate();
        assertEquals(vm.base().size(), vm.edited().size());
        for (int i = 0; i < vm.base().size(); i++) {
            assertEquals(vm.base().get(i).name(), vm.edited().get(i).name());
            assertTrue(Math.abs(vm.edited().get(i).ce() - vm.base().get(i).ce()) > 1e-3, vm.base().get(i) + " vs " + vm.edited().get(i));
        }
        LanguageLoss direct = evaluator().withOverlay(new EditOverlay(session.edits()))
                .evaluate("en", text("en"), session.model().tokenizer().bosForPrompts(), null);
        assertEquals(direct.ce(), vm.edited().stream().filter(l -> l.name().equals("en")).findFirst().orElseThrow().ce(), 1e-6);
        assertTrue(vm.statusProperty().get().startsWith("Base and 1 edit evaluated on 5 texts"), vm.statusProperty().get());
        assertTrue(jobs.messages().contains("edited on fr"), jobs.messages().toString());
    }

    @Test
    void tooFewTokensPerTextIsReported() {
        vm.maxTokensProperty().set(1);
        vm.evaluate();
        assertEquals("Tokens per text must be at least 2; got 1.", vm.problemProperty().get());
        assertTrue(jobs.messages().isEmpty());
    }

    @Test
    void aCancelledEvaluationLeavesTheResultsEmpty() {
        jobs.cancelAfterProgressReports(2);
        vm.evaluate();
        assertTrue(vm.base().isEmpty());
        assertTrue(vm.statusProperty().get().endsWith(": cancelled."), vm.statusProperty().get());
        assertEquals("", vm.problemProperty().get());
    }
}
