package dev.scalpel.app.ui;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.scalpel.app.ui.jobs.FxJobRunner;
import dev.scalpel.engine.api.HeadId;
import dev.scalpel.engine.testing.Fixtures;
import dev.scalpel.views.heatmap.HeadHeatmap;
import dev.scalpel.views.heatmap.HeadMark;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javafx.geometry.Point2D;
import javafx.stage.Stage;
import org.junit.jupiter.api.AfterEach;
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
        String machine = robot.lookup("#machine").queryLabeled().getText();
        assertTrue(machine.matches("cpu · \\d+ threads · RSS [\\d,]+ MiB · heap [\\d,]+ / [\\d,]+ MiB"), machine);
        assertNotNull(new RecentModels(new UserFolders(userDir).recentModels()).list().stream()
                .filter(p -> p.equals(Fixtures.sampleModel().toAbsolutePath().normalize())).findFirst().orElse(null),
                "the sample model is first among the recent models");
    }
}
