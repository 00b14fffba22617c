package dev.scalpel.app.ui.components;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.scalpel.app.ui.Session;
import dev.scalpel.app.ui.jobs.DirectJobRunner;
import dev.scalpel.engine.model.ComputeDevice;
import dev.scalpel.engine.model.LoadedModel;
import dev.scalpel.engine.testing.Fixtures;
import java.util.Locale;
import javafx.scene.Scene;
import javafx.scene.control.ComboBox;
import javafx.scene.control.Label;
import javafx.scene.control.Spinner;
import javafx.scene.control.TableView;
import javafx.stage.Stage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.testfx.api.FxRobot;
import org.testfx.framework.junit5.ApplicationExtension;
import org.testfx.framework.junit5.Start;
import org.testfx.framework.junit5.Stop;

/** What a user does in the Components view, with a real (headless) mouse; jobs run at once on the FX thread. */
@ExtendWith(ApplicationExtension.class)
class ComponentsPaneTest {
    private static final String MODULE = "model.layers.0.self_attn.o_proj";
    private Session session;

    @Start
    void start(Stage stage) {
        session = new Session(LoadedModel.open(Fixtures.sampleModel(), ComputeDevice.CPU));
        stage.setScene(new Scene(new ComponentsPane(new ComponentsViewModel(session, new DirectJobRunner())), 1000, 640));
        stage.show();
    }

    @Stop
    void stop() {
        session.close();
    }

    @Test
    void computeFillsTheTableAndUseChoosesTheSelectedComponent(FxRobot robot) {
        robot.clickOn("#components").clickOn(MODULE);
        assertEquals(MODULE, robot.lookup("#components").queryAs(ComboBox.class).getValue());
        Spinner<?> rank = robot.lookup("#rank").queryAs(Spinner.class);
        for (int i = 0; i < ComponentsViewModel.DEFAULT_RANK - 4; i++) {
            robot.clickOn(rank.lookup(".decrement-arrow-button"));
        }
        assertEquals(4, rank.getValue());
        robot.clickOn("#computeComponents");

        TableView<?> table = robot.lookup("#componentTable").queryAs(TableView.class);
        assertEquals(4, table.getItems().size());
        ComponentRow first = (ComponentRow) table.getItems().get(0);
        assertTrue(table.getItems().stream().allMatch(r -> ((ComponentRow) r).contrast() <= first.contrast()), "highest contrast on top");
        assertNull(session.componentProperty().get());

        robot.clickOn(String.format(Locale.ROOT, "%+.5f", first.targetDelta()));
        robot.clickOn("#useComponent");
        assertEquals(new Session.ComponentChoice(MODULE, first.index(), 4), session.componentProperty().get());
        assertEquals("Prefactor run uses component #" + first.index() + " of " + MODULE + " (rank 4).",
                robot.lookup("#chosenComponent").queryAs(Label.class).getText());
    }
}
