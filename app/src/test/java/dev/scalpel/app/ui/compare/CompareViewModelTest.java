package dev.scalpel.app.ui.compare;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.scalpel.app.ui.Session;
import dev.scalpel.app.ui.jobs.DirectJobRunner;
import dev.scalpel.engine.edit.EditOverlay;
import dev.scalpel.engine.edit.LiveEdit;
import dev.scalpel.engine.edit.LoraEdit;
import dev.scalpel.engine.eval.CrossEntropyEvaluator;
import dev.scalpel.engine.infer.Generator;
import dev.scalpel.engine.infer.SamplingOptions;
import dev.scalpel.engine.model.ComputeDevice;
import dev.scalpel.engine.model.LoadedModel;
import dev.scalpel.engine.testing.Fixtures;
import dev.scalpel.views.compare.ScoredToken;
import java.util.ArrayList;
import java.util.List;
import javafx.collections.ListChangeListener;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** A/B generation and reference scoring on the sample model, jobs and UI updates on the calling thread. */
class CompareViewModelTest {
    private static final String PROMPT = "Der Hund";
    private static final String REFERENCE = " läuft schnell über die Straße und sucht seinen Ball im Garten.";
    private static Session session;
    private CompareViewModel vm;

    @BeforeAll
    static void open() {
        session = new Session(LoadedModel.open(Fixtures.sampleModel(), ComputeDevice.CPU));
    }

    @BeforeEach
    void fresh() {
        vm = new CompareViewModel(session, new DirectJobRunner(), Runnable::run);
        vm.promptProperty().set(PROMPT);
        vm.seedProperty().set(7);
        vm.maxTokensProperty().set(24);
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

    private static List<String> texts(List<ScoredToken> tokens) {
        return tokens.stream().map(ScoredToken::text).toList();
    }

    @Test
    void withoutEditsBothSidesGenerateTheSameTokensStreamedOneByOne() {
        List<Integer> streamedAdds = new ArrayList<>();
        vm.base().addListener((ListChangeListener<ScoredToken>) c -> {
            while (c.next()) {
                if (c.wasAdded() && !c.wasReplaced()) {
                    streamedAdds.add(c.getAddedSize());
                }
            }
        });
        vm.generate();
        assertEquals("", vm.problemProperty().get());
        assertFalse(vm.base().isEmpty());
        assertEquals(texts(vm.base()), texts(vm.edited()));
        assertTrue(vm.base().stream().noneMatch(ScoredToken::scored));
        assertEquals("base", vm.baseSubtitleProperty().get());
        assertEquals("no edits", vm.editedSubtitleProperty().get());
        assertTrue(vm.statusProperty().get().endsWith(": identical."), vm.statusProperty().get());
        assertEquals(vm.base().size(), streamedAdds.stream().filter(n -> n == 1).count(), "one add per generated token: " + streamedAdds);
    }

    @Test
    void tokenTextsAreTheDecodedGeneratedIdsPieceByPiece() {
        vm.generate();
        long[] prompt = session.model().tokenizer().encodePrompt(PROMPT);
        long[] ids = new Generator(session.model().model()).generate(prompt,
                new SamplingOptions(24, CompareViewModel.DEFAULT_TEMPERATURE, 1.0, 7, true), null);
        assertEquals(ids.length, vm.base().size());
        assertEquals(session.model().tokenizer().decode(ids), String.join("", texts(vm.base())));
    }

    @Test
    void aNonzeroLoraMakesTheEditedSideDiffer() {
        session.addEdit(TestEdits.nonzeroLora(session.model().model(), 0.2));
        vm.generate();
        assertNotEquals(texts(vm.base()), texts(vm.edited()));
        assertEquals("1 edit", vm.editedSubtitleProperty().get());
        assertTrue(vm.statusProperty().get().contains("then differ"), vm.statusProperty().get());
    }

    @Test
    void followingALiveEditUsesItsPublishedStep() {
        List<String> withStack;
        try (LoraEdit edit = TestEdits.nonzeroLora(session.model().model(), 0.2); LiveEdit live = new LiveEdit()) {
            session.addEdit(edit.copy());
            vm.followLiveProperty().set(false);
            vm.generate();
            withStack = texts(vm.edited());
            session.removeEdit(session.edits().get(0));

            session.liveProperty().set(live);
            vm.followLiveProperty().set(true);
            vm.generate();
            assertEquals("live training edit · no step published yet", vm.editedSubtitleProperty().get());
            assertEquals(texts(vm.base()), texts(vm.edited()), "nothing published: the base model");

            live.publish(edit.copy(), 1);
            live.publish(edit.copy(), 2);
            vm.generate();
            assertEquals("live training edit · step 2", vm.editedSubtitleProperty().get(), "the lease names the step it shows");
            assertEquals(withStack, texts(vm.edited()), "the live step is the same edit as the one on the stack was");
            assertNotEquals(texts(vm.base()), texts(vm.edited()));

            vm.followLiveProperty().set(false);
            vm.generate();
            assertEquals("no edits", vm.editedSubtitleProperty().get());
            assertEquals(texts(vm.base()), texts(vm.edited()));
        }
    }

    @Test
    void aReferenceIsScoredTokenByTokenAndAveragesToTheEvaluatorsCe() {
        session.addEdit(TestEdits.nonzeroLora(session.model().model(), 0.2));
        vm.promptProperty().set("");
        vm.referenceProperty().set(REFERENCE);
        vm.generate();
        long[] ids = session.model().tokenizer().encode(REFERENCE);
        assertEquals(ids.length, vm.base().size());
        assertEquals(REFERENCE, String.join("", texts(vm.base())));
        assertTrue(vm.base().stream().allMatch(ScoredToken::scored));
        var evaluator = new CrossEntropyEvaluator(session.model().model(), 256, 1);
        Integer bos = session.model().tokenizer().bosForPrompts();
        double baseCe = evaluator.evaluate("ref", ids, bos, null).ce();
        double editedCe = evaluator.withOverlay(new EditOverlay(session.edits())).evaluate("ref", ids, bos, null).ce();
        assertEquals(baseCe, mean(vm.base()), 1e-4);
        assertEquals(editedCe, mean(vm.edited()), 1e-4);
        assertTrue(Math.abs(editedCe - baseCe) > 1e-3, "the edit changes the reference's CE: " + baseCe + " vs " + editedCe);
        assertTrue(vm.baseSubtitleProperty().get().startsWith("base · mean CE "), vm.baseSubtitleProperty().get());
        assertTrue(vm.editedSubtitleProperty().get().startsWith("1 edit · mean CE "), vm.editedSubtitleProperty().get());
    }

    @Test
    void aReferenceAfterAPromptIsScoredGivenThePrompt() {
        vm.referenceProperty().set(REFERENCE);
        vm.promptProperty().set("");
        vm.generate();
        List<ScoredToken> alone = new ArrayList<>(vm.base());
        vm.promptProperty().set(PROMPT);
        vm.generate();
        assertEquals(texts(alone), texts(vm.base()));
        assertNotEquals(mean(alone), mean(vm.base()), 1e-6, "the prompt conditions the reference");
    }

    private static double mean(List<ScoredToken> tokens) {
        return tokens.stream().mapToDouble(ScoredToken::loss).average().orElseThrow();
    }

    @Test
    void inputsThatCannotRunAreReported() {
        vm.maxTokensProperty().set(0);
        vm.generate();
        assertEquals("Max tokens must be at least 1; got 0.", vm.problemProperty().get());
        vm.maxTokensProperty().set(300);
        vm.generate();
        int promptTokens = session.model().tokenizer().encodePrompt(PROMPT).length;
        assertEquals("The prompt (" + promptTokens + " tokens) plus 300 new tokens exceed the model's 256 positions; "
                + "shorten the prompt or lower max tokens.", vm.problemProperty().get());
        vm.referenceProperty().set(" und".repeat(300));
        vm.generate();
        assertTrue(vm.problemProperty().get().endsWith("the model reads at most 256. Shorten the reference."), vm.problemProperty().get());
        assertTrue(vm.base().isEmpty());
    }
}
