package dev.scalpel.views.heatmap;

import dev.scalpel.engine.api.HeadMark;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.scalpel.engine.api.HeadId;
import dev.scalpel.engine.api.ImportanceMap;
import java.util.List;
import javafx.geometry.Point2D;
import javafx.scene.Scene;
import javafx.scene.input.KeyCode;
import javafx.scene.image.Image;
import javafx.scene.input.MouseButton;
import javafx.scene.paint.Color;
import javafx.stage.Stage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.testfx.api.FxRobot;
import org.testfx.framework.junit5.ApplicationExtension;
import org.testfx.framework.junit5.Start;
import org.testfx.util.WaitForAsyncUtils;

/** What a user does on the heatmap, with a real (headless) mouse. */
@ExtendWith(ApplicationExtension.class)
class HeadHeatmapTest {
    private HeadHeatmap heatmap;

    @Start
    void start(Stage stage) {
        heatmap = new HeadHeatmap();
        double[][] scores = new double[4][6];
        for (int l = 0; l < 4; l++) {
            for (int h = 0; h < 6; h++) {
                scores[l][h] = l * 6 + h;
            }
        }
        heatmap.mapProperty().set(new ImportanceMap("m", "d", "de", "gradient", 100, scores));
        stage.setScene(new Scene(heatmap, 600, 400));
        stage.show();
    }

    /** Screen point of the centre of a head's cell. */
    private Point2D centre(FxRobot robot, int layer, int head) {
        for (double y = 0; y < heatmap.getHeight(); y += 2) {
            for (double x = 0; x < heatmap.getWidth(); x += 2) {
                HeadId at = heatmap.headAt(x, y);
                if (at != null && at.equals(new HeadId(layer, head))) {
                    double w = heatmap.getWidth(), top = y, left = x;
                    double right = left, bottom = top;
                    while (right < w && new HeadId(layer, head).equals(heatmap.headAt(right, top))) {
                        right++;
                    }
                    while (bottom < heatmap.getHeight() && new HeadId(layer, head).equals(heatmap.headAt(left, bottom))) {
                        bottom++;
                    }
                    return heatmap.localToScreen((left + right) / 2, (top + bottom) / 2);
                }
            }
        }
        throw new AssertionError("no cell for L" + layer + "H" + head);
    }

    @Test
    void gatedDeltaNetLayersCarryAMarkerBeforeTheirLabel(FxRobot robot) {
        robot.interact(() -> heatmap.layerTypesProperty().set(
                List.of("linear_attention", "linear_attention", "linear_attention", "full_attention")));
        WaitForAsyncUtils.waitForFxEvents();
        int linearRow = (int) heatmap.screenToLocal(centre(robot, 0, 0)).getY();
        int fullRow = (int) heatmap.screenToLocal(centre(robot, 3, 0)).getY();
        Image[] shot = new Image[1];
        robot.interact(() -> shot[0] = heatmap.snapshot(null, null));
        assertEquals(Color.web("#7b3294"), shot[0].getPixelReader().getColor(3, linearRow), "a linear_attention row is marked");
        assertNotEquals(Color.web("#7b3294"), shot[0].getPixelReader().getColor(3, fullRow), "a full_attention row is not");
    }

    @Test
    void clicksCycleAHeadThroughTrainFreezeNone(FxRobot robot) {
        Point2D p = centre(robot, 2, 3);
        robot.clickOn(p, MouseButton.PRIMARY);
        assertEquals(HeadMark.TRAIN, heatmap.marks().get(new HeadId(2, 3)));
        robot.clickOn(p, MouseButton.PRIMARY);
        assertEquals(HeadMark.FREEZE, heatmap.marks().get(new HeadId(2, 3)));
        robot.clickOn(p, MouseButton.PRIMARY);
        assertNull(heatmap.marks().get(new HeadId(2, 3)));
    }

    @Test
    void shiftDragMarksTheRectangleForTraining(FxRobot robot) {
        robot.press(KeyCode.SHIFT);
        robot.drag(centre(robot, 1, 1), MouseButton.PRIMARY).dropTo(centre(robot, 2, 3));
        robot.release(KeyCode.SHIFT);
        assertEquals(6, heatmap.marks().size(), heatmap.marks().toString());
        assertEquals(HeadMark.TRAIN, heatmap.marks().get(new HeadId(2, 2)));
    }

    @Test
    void ctrlClickTogglesTrainWithoutPassingThroughFreeze(FxRobot robot) {
        Point2D p = centre(robot, 3, 5);
        robot.press(KeyCode.CONTROL).clickOn(p, MouseButton.PRIMARY).release(KeyCode.CONTROL);
        assertEquals(HeadMark.TRAIN, heatmap.marks().get(new HeadId(3, 5)));
        robot.press(KeyCode.CONTROL).clickOn(p, MouseButton.PRIMARY).release(KeyCode.CONTROL);
        assertNull(heatmap.marks().get(new HeadId(3, 5)));
    }

    @Test
    void theKeyboardMovesTheCursorAndSetsMarks(FxRobot robot) {
        robot.clickOn(centre(robot, 0, 0), MouseButton.PRIMARY);
        robot.type(KeyCode.RIGHT, KeyCode.RIGHT, KeyCode.DOWN);
        assertEquals(new HeadId(1, 2), heatmap.focusedHeadProperty().get());
        robot.type(KeyCode.F);
        assertEquals(HeadMark.FREEZE, heatmap.marks().get(new HeadId(1, 2)));
        robot.type(KeyCode.SPACE);
        assertNull(heatmap.marks().get(new HeadId(1, 2)), "freeze cycles back to none");
        robot.type(KeyCode.UP, KeyCode.UP, KeyCode.T);
        assertEquals(new HeadId(0, 2), heatmap.focusedHeadProperty().get(), "the cursor stops at the top row");
        assertEquals(HeadMark.TRAIN, heatmap.marks().get(new HeadId(0, 2)));
        assertEquals(HeadMark.TRAIN, heatmap.marks().get(new HeadId(0, 0)), "the first click marked L0H0");
        assertEquals(2, heatmap.marks().size());
    }

    @Test
    void aRaggedMapDrawsItsAbsentCellsAsAbsentAndTheyCannotBeMarked(FxRobot robot) {
        // a hybrid: three Gated DeltaNet layers of 6 value heads, then an attention layer of 3 heads
        double[][] scores = {{0, 1, 2, 3, 4, 5}, {6, 7, 8, 9, 10, 11}, {12, 13, 14, 15, 16, 17}, {0, 0, 0}};
        robot.interact(() -> heatmap.mapProperty().set(new ImportanceMap("m", "d", "de", "gradient", 100, scores)));
        WaitForAsyncUtils.waitForFxEvents();
        Point2D present = heatmap.screenToLocal(centre(robot, 3, 2));
        Point2D right = heatmap.screenToLocal(centre(robot, 2, 5));
        Point2D absent = new Point2D(right.getX(), present.getY());    // L3H5: column 5 of the 3-head row
        assertNull(heatmap.headAt(absent.getX(), absent.getY()), "an absent cell is no head");
        Image[] shot = new Image[1];
        robot.interact(() -> shot[0] = heatmap.snapshot(null, null));
        Color absentPixel = shot[0].getPixelReader().getColor((int) absent.getX() + 4, (int) absent.getY() + 1);
        assertEquals(HeadHeatmap.ABSENT_COLOUR, absentPixel, "drawn grey, outside the colour scale");
        assertNotEquals(HeadHeatmap.colour(0, 0, 17), absentPixel, "not drawn as the lowest score (L3's heads score 0)");

        robot.clickOn(heatmap.localToScreen(absent), MouseButton.PRIMARY);
        assertEquals(0, heatmap.marks().size(), "clicking an absent cell marks nothing");
        robot.press(KeyCode.SHIFT);
        robot.drag(centre(robot, 2, 4), MouseButton.PRIMARY).dropTo(centre(robot, 3, 2));
        robot.release(KeyCode.SHIFT);
        assertEquals(4, heatmap.marks().size(), "L2H2-L2H4 and L3H2; L3H3 and L3H4 do not exist: " + heatmap.marks());
        assertNull(heatmap.marks().get(new HeadId(3, 3)));
    }
}
