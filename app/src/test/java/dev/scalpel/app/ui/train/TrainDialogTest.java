package dev.scalpel.app.ui.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.scalpel.app.SpecFields;
import dev.scalpel.app.ui.Session;
import dev.scalpel.app.ui.jobs.DirectJobRunner;
import dev.scalpel.engine.api.HeadId;
import dev.scalpel.engine.model.ComputeDevice;
import dev.scalpel.engine.model.LoadedModel;
import dev.scalpel.engine.testing.Fixtures;
import dev.scalpel.engine.api.HeadMark;
import dev.scalpel.engine.spec.EditSpec;
import dev.scalpel.engine.spec.TrainSpec;
import dev.scalpel.engine.train.FineTuner;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;
import java.util.stream.Collectors;
import javafx.scene.Node;
import javafx.scene.Scene;
import javafx.scene.control.Button;
import javafx.scene.control.Label;
import javafx.scene.control.TextField;
import javafx.scene.input.KeyCode;
import javafx.scene.layout.StackPane;
import javafx.stage.Stage;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.testfx.api.FxRobot;
import org.testfx.framework.junit5.ApplicationExtension;
import org.testfx.framework.junit5.Start;

/** The Train dialog as a user sees it (headless), on the sample model with two heads marked for training. */
@ExtendWith(ApplicationExtension.class)
class TrainDialogTest {
    /** head-LoRA r=4 on two heads of the sample model (hidden 256, head width 32). */
    private static final long TWO_HEADS = 2 * 4 * (4 * 256 + 32 * 4);

    private static Session session;
    private TrainViewModel vm;
    private TrainDialog dialog;

    @BeforeAll
    static void open() {
        session = new Session(LoadedModel.open(Fixtures.sampleModel(), ComputeDevice.CPU));
    }

    @AfterAll
    static void close() {
        session.close();
    }

    @Start
    void start(Stage stage) {
        session.marks().clear();
        session.marks().put(new HeadId(1, 1), HeadMark.TRAIN);
        session.marks().put(new HeadId(2, 1), HeadMark.TRAIN);
        vm = new TrainViewModel(session, new DirectJobRunner(), Runnable::run);
        stage.setScene(new Scene(new StackPane(), 200, 100));
        stage.show();
        dialog = new TrainDialog(vm);
        dialog.initOwner(stage);
        dialog.show();
    }

    /**
     * Issue 13: every field of every spec record (the engine's TrainSpec and each EditSpec kind, nested records
     * included) has a control in the dialog, found by reflection over the records, not a hand list: the control's id is
     * the field's JSON path in camel case (per_head_lr.freeze_above → #perHeadLrFreezeAbove). The CLI binds the same
     * fields by their JSON names, and every "method" is offered.
     */
    @Test
    void everySpecFieldHasAControlAndEveryMethodIsOffered(FxRobot robot) {
        List<Class<?>> records = new ArrayList<>(List.of(TrainSpec.class));
        records.addAll(Arrays.stream(EditSpec.class.getPermittedSubclasses()).toList());
        List<String> missing = new ArrayList<>();
        for (Class<?> record : records) {
            for (String field : SpecFields.of(record)) {
                String id = SpecFields.controlId(field);
                if (robot.lookup("#" + id).tryQuery().isEmpty()) {
                    missing.add(record.getSimpleName() + " → #" + id);
                }
            }
        }
        assertEquals(List.of(), missing, "spec fields without a control in the Train dialog");
        assertEquals(new TreeSet<>(TrainSpec.methods()),
                Arrays.stream(TrainMethod.values()).map(TrainMethod::specMethod).collect(Collectors.toCollection(TreeSet::new)));
        assertEquals(List.of(FineTuner.Objective.values()), TrainViewModel.OBJECTIVES, "every objective is offered");
    }

    @Test
    void showsTheParameterCountAndDisablesTrainWhenNoHeadIsMarked(FxRobot robot) {
        Label parameters = robot.lookup("#parameters").queryAs(Label.class);
        Button train = robot.lookup("#train").queryButton();
        long total = vm.totalParameters();
        assertEquals(String.format(Locale.ROOT, "trainable parameters: %,d of %,d (%.3f %%)", TWO_HEADS, total, 100.0 * TWO_HEADS / total),
                parameters.getText());
        assertEquals("L1H1,L2H1 (2 heads)", robot.lookup("#heads").queryAs(Label.class).getText());
        assertFalse(train.isDisabled());

        robot.interact(() -> session.marks().clear());

        assertTrue(train.isDisabled());
        assertEquals("Mark at least one head for training (click heads on the heatmap).",
                robot.lookup("#problem").queryAs(Label.class).getText());
        assertEquals("trainable parameters: none yet", parameters.getText());
    }

    @Test
    void textThatIsNotANumberBlocksTrainAndNamesTheField(FxRobot robot) {
        TextField steps = robot.lookup("#steps").queryAs(TextField.class);
        Button train = robot.lookup("#train").queryButton();
        robot.interact(steps::clear);
        robot.clickOn(steps).write("12x");

        assertEquals("Steps: '12x' is not a whole number.", robot.lookup("#problem").queryAs(Label.class).getText());
        assertTrue(train.isDisabled());
        assertEquals(12, vm.steps().get(), "the last number typed reached the view model");

        robot.type(KeyCode.BACK_SPACE);
        assertEquals("", robot.lookup("#problem").queryAs(Label.class).getText());
        assertFalse(train.isDisabled());
    }

    @Test
    void theMethodChooserShowsTheRowsOfTheMethod(FxRobot robot) {
        assertTrue(shown(robot, "#heads"));
        assertFalse(shown(robot, "#modules"));

        robot.interact(() -> vm.method().set(TrainMethod.MODULE_LORA));

        assertFalse(shown(robot, "#heads"));
        assertTrue(shown(robot, "#modules"));
        assertEquals("q_proj,v_proj", robot.lookup("#modules").queryAs(TextField.class).getText());
    }

    /** Whether the node and all its ancestors are visible. */
    private static boolean shown(FxRobot robot, String query) {
        for (Node n = robot.lookup(query).query(); n != null; n = n.getParent()) {
            if (!n.isVisible()) {
                return false;
            }
        }
        return true;
    }

    @Test
    void trainLaunchesTheRunAndClosesTheDialog(FxRobot robot) {
        robot.interact(() -> {
            vm.steps().set(2);
            vm.batchSize().set(2);
            vm.context().set(32);
        });
        assertEquals("2", robot.lookup("#steps").queryAs(TextField.class).getText(), "the field follows the view model");
        int before = session.edits().size();

        robot.clickOn("#train");

        assertFalse(dialog.isShowing());
        assertEquals(before + 1, session.edits().size());
        assertEquals(TWO_HEADS, session.edits().get(before).parameterCount());
        assertEquals(2, vm.lossHistory().size());
    }
}
