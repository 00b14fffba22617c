package dev.scalpel.app.ui.export;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.scalpel.engine.model.TensorPairFile;
import dev.scalpel.app.SpecFields;
import dev.scalpel.app.ui.Session;
import dev.scalpel.engine.spec.ExportSpec;
import dev.scalpel.app.ui.jobs.DirectJobRunner;
import dev.scalpel.app.ui.workspace.SessionFixtures;
import dev.scalpel.engine.api.HeadId;
import dev.scalpel.engine.api.HeadSet;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.List;
import java.nio.file.Path;
import javafx.scene.Node;
import javafx.scene.Scene;
import javafx.scene.control.Button;
import javafx.scene.control.ComboBox;
import javafx.scene.control.Label;
import javafx.scene.control.TextField;
import javafx.scene.input.KeyCode;
import javafx.scene.layout.StackPane;
import javafx.stage.Stage;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.testfx.api.FxRobot;
import org.testfx.framework.junit5.ApplicationExtension;
import org.testfx.framework.junit5.Start;

/** The Export dialog driven with a real (headless) mouse and keyboard. */
@ExtendWith(ApplicationExtension.class)
class ExportDialogTest {
    private static Session session;
    private Stage owner;

    @TempDir
    Path tmp;

    @BeforeAll
    static void open() {
        session = SessionFixtures.sampleSession();
        session.addEdit(SessionFixtures.headLora(session, HeadSet.of(new HeadId(1, 2))));
    }

    @AfterAll
    static void close() {
        session.close();
    }

    @Start
    void start(Stage stage) {
        owner = stage;
        stage.setScene(new Scene(new StackPane(), 200, 100));
        stage.show();
    }

    private void showDialog(FxRobot robot) {
        robot.interact(() -> new ExportDialog(new ExportViewModel(session, new DirectJobRunner()), owner).show());
    }

    /** Puts {@code folder + "/"} into #destination, then types {@code name} after it (typing a whole path is slow). */
    private static void typeDestination(FxRobot robot, Path folder, String name) {
        TextField destination = find(robot, "#out", TextField.class);
        robot.interact(() -> destination.setText(folder + "/"));
        robot.clickOn(destination).type(KeyCode.END).write(name);
    }

    private static <T extends Node> T find(FxRobot robot, String id, Class<T> type) {
        return robot.lookup(id).queryAs(type);
    }

    /** Issue 13: every field of the engine's ExportSpec has a control in the dialog (id = the field in camel case). */
    @Test
    void everyExportSpecFieldHasAControl(FxRobot robot) {
        showDialog(robot);
        List<String> missing = SpecFields.of(ExportSpec.class).stream().map(SpecFields::controlId)
                .filter(id -> robot.lookup("#" + id).tryQuery().isEmpty()).toList();
        assertEquals(List.of(), missing, "ExportSpec fields without a control in the Export dialog");
        assertEquals(List.of(ExportSpec.Format.values()), Arrays.stream(ExportFormat.values()).map(ExportFormat::spec).toList(),
                "every format is offered");
    }

    @Test
    void typingTheBaseFolderShowsTheRefusalAndDisablesExport(FxRobot robot) {
        showDialog(robot);
        typeDestination(robot, session.modelDir(), "merged");
        assertTrue(find(robot, "#problem", Label.class).getText().contains("inside the model folder"),
                find(robot, "#problem", Label.class).getText());
        assertTrue(find(robot, "#export", Button.class).isDisabled());
        assertTrue(find(robot, "#dtype", ComboBox.class).isVisible(), "an HF export asks for the dtype");
        assertFalse(find(robot, "#name", TextField.class).isVisible());
        assertFalse(Files.exists(session.modelDir().resolve("merged")));
    }

    @Test
    void choosingEditsFileAndADestinationExportsOnClick(FxRobot robot) {
        showDialog(robot);
        @SuppressWarnings("unchecked")
        ComboBox<ExportFormat> format = find(robot, "#format", ComboBox.class);
        robot.interact(() -> format.getSelectionModel().select(ExportFormat.EDITS_FILE));
        assertFalse(find(robot, "#dtype", ComboBox.class).isVisible(), "no dtype for an edits file");
        Path file = tmp.resolve("stack.json");
        typeDestination(robot, tmp, "stack.json");
        assertEquals("", find(robot, "#problem", Label.class).getText());
        assertFalse(find(robot, "#export", Button.class).isDisabled());
        robot.clickOn("#export");
        assertTrue(find(robot, "#status", Label.class).getText().startsWith("exported edits file ("),
                find(robot, "#status", Label.class).getText());
        assertTrue(Files.isRegularFile(file));
        assertEquals(2, TensorPairFile.files(file).size(), "the JSON and the tensors file it names");
    }
}
