package dev.scalpel.app.ui;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.scalpel.app.ui.jobs.FxJobRunner;
import dev.scalpel.engine.model.ComputeDevice;
import dev.scalpel.engine.api.HeadId;
import dev.scalpel.engine.testing.Fixtures;
import dev.scalpel.views.heatmap.HeadHeatmap;
import dev.scalpel.engine.api.HeadMark;
import dev.scalpel.app.SpecFields;
import dev.scalpel.engine.spec.ComponentsSpec;
import dev.scalpel.engine.spec.ImportanceSpec;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javafx.geometry.Point2D;
import javafx.stage.Stage;
import dev.scalpel.app.ui.groups.GroupFiles;
import dev.scalpel.engine.api.HeadSet;
import java.util.Map;
import javafx.scene.Node;
import javafx.scene.input.KeyCode;
import javafx.scene.input.MouseButton;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.testfx.api.FxRobot;
import org.testfx.framework.junit5.ApplicationExtension;
import org.testfx.framework.junit5.Start;
import org.testfx.util.WaitForAsyncUtils;

/** The real window on the sample model, driven like a user would, headless. */
@ExtendWith(ApplicationExtension.class)
class WorkbenchWindowTest {
    @TempDir
    static Path userDir;
    static Path groupA;
    static Path groupB;

    @BeforeAll
    static void writeGroups() {
        groupA = GroupFiles.write(userDir, "a", "L1H1,L1H2", 1.5);
        groupB = GroupFiles.write(userDir, "b", "L1H2,L3H0", 0.5);
    }

    private final FxJobRunner jobs = new FxJobRunner();
    private WorkbenchWindow window;

    @Start
    void start(Stage stage) {
        window = new WorkbenchWindow(stage, jobs, new UserFolders(userDir), null);
        window.show();
        window.openModel(Fixtures.sampleModel());
    }

    @AfterEach
    void closeWindow() throws TimeoutException {
        WaitForAsyncUtils.asyncFx(window::close);
        WaitForAsyncUtils.waitForFxEvents();
        jobs.close();
    }

    /** Waits until the model is open and the first importance map is shown. */
    private HeadHeatmap heatmapReady() throws TimeoutException {
        WaitForAsyncUtils.waitFor(120, TimeUnit.SECONDS, () -> window.session() != null && window.session().mapProperty().get() != null);
        WaitForAsyncUtils.waitForFxEvents();
        return window.viewProperty().get().heatmap();
    }

    private static Point2D centreOf(HeadHeatmap heatmap, HeadId head) {
        for (double y = 0; y < heatmap.getHeight(); y += 2) {
            for (double x = 0; x < heatmap.getWidth(); x += 2) {
                if (head.equals(heatmap.headAt(x, y))) {
                    return heatmap.localToScreen(x + 4, y + 4);
                }
            }
        }
        throw new AssertionError("no cell for " + head);
    }

    @Test
    void opensTheSampleModelComputesTheGermanContrastAndMarksClickedHeads(FxRobot robot) throws TimeoutException {
        HeadHeatmap heatmap = heatmapReady();
        assertEquals("de-en", window.session().mapProperty().get().domain());
        assertEquals(6, window.session().mapProperty().get().layers());
        robot.clickOn(centreOf(heatmap, new HeadId(1, 1)));
        robot.clickOn(centreOf(heatmap, new HeadId(2, 1)));
        robot.clickOn(centreOf(heatmap, new HeadId(2, 1)));
        assertEquals(HeadMark.TRAIN, window.session().marks().get(new HeadId(1, 1)), "heatmap clicks reach the session");
        assertEquals(HeadMark.FREEZE, window.session().marks().get(new HeadId(2, 1)));
        assertEquals(ComputeDevice.CPU, window.device(), "models open on the chosen device (CPU unless --device or the Device menu)");
        assertEquals(ComputeDevice.CPU, window.session().model().model().device());
        String machine = robot.lookup("#machine").queryLabeled().getText();
        assertTrue(machine.matches("cpu · \\d+ threads · RSS [\\d,]+ MiB · heap [\\d,]+ / [\\d,]+ MiB"), machine);
        assertNotNull(new RecentModels(new UserFolders(userDir).recentModels()).list().stream()
                .filter(p -> p.equals(Fixtures.sampleModel().toAbsolutePath().normalize())).findFirst().orElse(null),
                "the sample model is first among the recent models");
    }

    /**
     * Issue 13: every field of the importance and components specs has a control in the window (found by reflection
     * over the records: the control's id is the field's name in camel case), as every one is a flag of the CLI.
     */
    @Test
    void everyImportanceAndComponentsSpecFieldHasAControl(FxRobot robot) throws TimeoutException {
        heatmapReady();
        List<String> missing = new ArrayList<>();
        for (Class<?> record : List.of(ImportanceSpec.class, ComponentsSpec.class)) {
            for (String field : SpecFields.of(record)) {
                if (robot.lookup("#" + SpecFields.controlId(field)).tryQuery().isEmpty()) {
                    missing.add(record.getSimpleName() + " → #" + SpecFields.controlId(field));
                }
            }
        }
        assertEquals(List.of(), missing, "spec fields without a control in the workbench");
    }

    @Test
    void draggingGroupCardsOntoTheModelAppliesThemAndAConflictAsksFirst(FxRobot robot) throws TimeoutException {
        heatmapReady();
        SessionView view = window.viewProperty().get();
        WaitForAsyncUtils.asyncFx(() -> {
            view.groups().addToLibrary(groupA);
            view.groups().addToLibrary(groupB);
            view.tabs().getSelectionModel().select(1);
        });
        WaitForAsyncUtils.waitForFxEvents();
        Point2D model = view.diagram().localToScreen(view.diagram().getWidth() * 0.7, view.diagram().getHeight() * 0.5);

        robot.drag(view.diagram().cardNode("a"), MouseButton.PRIMARY).moveTo(model).release(MouseButton.PRIMARY);
        WaitForAsyncUtils.waitForFxEvents();
        assertEquals(Map.of("a", HeadSet.parse("L1H1,L1H2")), window.session().loadedGroups());

        robot.drag(view.diagram().cardNode("b"), MouseButton.PRIMARY).moveTo(model);
        assertEquals(java.util.Set.of(new HeadId(1, 2)), view.diagram().previewConflicts(), "the contested slot shows red mid-drag");
        robot.release(MouseButton.PRIMARY);
        WaitForAsyncUtils.waitForFxEvents();
        Node replace = robot.lookup("Replace").query();
        assertNotNull(replace, "the conflict dialog offers replace / keep / cancel");
        robot.clickOn(replace);
        WaitForAsyncUtils.waitForFxEvents();
        assertEquals(Map.of("b", HeadSet.parse("L1H2,L3H0")), window.session().loadedGroups());

        robot.clickOn(view.heatmap()).press(KeyCode.CONTROL).type(KeyCode.Z).release(KeyCode.CONTROL);
        WaitForAsyncUtils.waitForFxEvents();
        assertEquals(Map.of("a", HeadSet.parse("L1H1,L1H2")), window.session().loadedGroups(), "Ctrl+Z undoes the replace");
        robot.press(KeyCode.CONTROL, KeyCode.SHIFT).type(KeyCode.Z).release(KeyCode.SHIFT, KeyCode.CONTROL);
        WaitForAsyncUtils.waitForFxEvents();
        assertEquals(Map.of("b", HeadSet.parse("L1H2,L3H0")), window.session().loadedGroups(), "Ctrl+Shift+Z redoes it");
    }

    @Test
    void aSavedWorkspaceReopensWithItsMarksAndHeadGroups(FxRobot robot) throws TimeoutException {
        HeadHeatmap heatmap = heatmapReady();
        robot.clickOn(centreOf(heatmap, new HeadId(4, 3)));
        SessionView first = window.viewProperty().get();
        WaitForAsyncUtils.asyncFx(() -> {
            first.groups().addToLibrary(groupA);
            first.groups().apply("a");
        });
        WaitForAsyncUtils.waitForFxEvents();
        Path file = userDir.resolve("saved-workspace.json");
        WaitForAsyncUtils.asyncFx(() -> window.saveWorkspace(file));
        WaitForAsyncUtils.waitForFxEvents();
        assertEquals("saved workspace " + file, robot.lookup("#status").queryLabeled().getText());

        WaitForAsyncUtils.asyncFx(() -> window.openWorkspace(file));
        WaitForAsyncUtils.waitFor(60, TimeUnit.SECONDS, () -> window.viewProperty().get() != first
                && window.session().loadedGroups().containsKey("a"));
        WaitForAsyncUtils.waitForFxEvents();
        assertEquals(Map.of(new HeadId(4, 3), HeadMark.TRAIN), Map.copyOf(window.session().marks()));
        assertEquals(Map.of("a", HeadSet.parse("L1H1,L1H2")), window.session().loadedGroups());
        assertEquals("de-en", window.session().mapProperty().get().domain(), "the shown map comes back without recomputing");
        assertEquals(HeadMark.TRAIN, window.viewProperty().get().heatmap().marks().get(new HeadId(4, 3)), "and the heatmap shows the marks");
    }

    private static void replaceText(FxRobot robot, String query, String text) {
        robot.clickOn(query).press(KeyCode.CONTROL).type(KeyCode.A).release(KeyCode.CONTROL).write(text);
    }

    @Test
    void aTrainingJobRunsFromTheDialogShowsItsLossLiveAndCancelKeepsTheCompletedSteps(FxRobot robot) throws TimeoutException {
        HeadHeatmap heatmap = heatmapReady();
        robot.clickOn(centreOf(heatmap, new HeadId(1, 1)));
        robot.press(KeyCode.CONTROL).type(KeyCode.T).release(KeyCode.CONTROL);
        WaitForAsyncUtils.waitForFxEvents();
        replaceText(robot, "#steps", "500");
        replaceText(robot, "#batchSize", "2");
        replaceText(robot, "#context", "32");
        replaceText(robot, "#tokenBudget", "1000000");
        SessionView view = window.viewProperty().get();
        assertEquals("", view.train().problem().get(), "the dialog's settings are launchable");
        robot.clickOn("#train");
        WaitForAsyncUtils.waitForFxEvents();
        assertTrue(view.train().running().get(), view.train().status().get());
        WaitForAsyncUtils.waitFor(60, TimeUnit.SECONDS, () -> view.trainingChart().lossDataset().getItemCount(0) >= 3);
        assertEquals(1, robot.lookup(".task-cancel-button").queryAll().size(), "the job shows in the jobs panel");
        robot.clickOn(".task-cancel-button");
        WaitForAsyncUtils.waitFor(60, TimeUnit.SECONDS, () -> !window.session().edits().isEmpty());
        WaitForAsyncUtils.waitForFxEvents();
        String status = view.train().status().get();
        assertTrue(status.matches("stopped after \\d+ of 500 steps: cancelled.*"), status);
        assertEquals(1, window.session().edits().size(), "the completed steps are kept as an edit");
        assertTrue(view.trainingChart().lossDataset().getItemCount(0) >= 3);
        robot.press(KeyCode.CONTROL).type(KeyCode.Z).release(KeyCode.CONTROL);
        WaitForAsyncUtils.waitForFxEvents();
        assertTrue(window.session().edits().isEmpty(), "undo takes the trained edit off the stack");
    }
}
