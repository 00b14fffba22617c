package dev.scalpel.views.charts;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import javafx.scene.Scene;
import javafx.scene.paint.Color;
import javafx.stage.Stage;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.ui.Layer;
import org.jfree.data.Range;
import org.jfree.data.xy.XYDataset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.testfx.api.FxRobot;
import org.testfx.framework.junit5.ApplicationExtension;
import org.testfx.framework.junit5.Start;
import org.testfx.util.WaitForAsyncUtils;

/** The live loss chart holds exactly the points given, keeps ln V in view, and stays cheap to feed. */
@ExtendWith(ApplicationExtension.class)
class LossChartTest {
    private LossChart chart;

    @Start
    void start(Stage stage) {
        chart = new LossChart();
        stage.setScene(new Scene(chart, 640, 400));
        stage.show();
    }

    @Test
    void lossAndEvalPointsLandInTheirDatasets(FxRobot robot) {
        robot.interact(() -> {
            chart.addLoss(1, 9.5);
            chart.addLoss(2, 8.25);
            chart.addLoss(3, 7.0);
            chart.addEval(2, "de", 8.5);
            chart.addEval(2, "en", 8.75);
            chart.addEval(4, "de", 6.5);
        });
        XYDataset loss = chart.lossDataset();
        assertEquals(1, loss.getSeriesCount());
        assertEquals(3, loss.getItemCount(0));
        assertEquals(2.0, loss.getXValue(0, 1));
        assertEquals(8.25, loss.getYValue(0, 1));
        assertEquals(7.0, loss.getYValue(0, 2));
        XYDataset eval = chart.evalDataset();
        assertEquals(2, eval.getSeriesCount());
        assertEquals("de", eval.getSeriesKey(0));
        assertEquals(2, eval.getItemCount(0));
        assertEquals(4.0, eval.getXValue(0, 1));
        assertEquals(6.5, eval.getYValue(0, 1));
        assertEquals("en", eval.getSeriesKey(1));
        assertEquals(8.75, eval.getYValue(1, 0));

        robot.interact(chart::clear);
        assertEquals(0, loss.getItemCount(0));
        assertEquals(0, eval.getSeriesCount());
    }

    @Test
    void uniformLineSitsAtLnVAndStaysInViewAboveTheData(FxRobot robot) {
        double lnV = Math.log(8000);
        robot.interact(() -> {
            chart.addLoss(1, 4.0);
            chart.addLoss(2, 3.5);
            chart.setUniformCe(7.0);
            chart.setUniformCe(lnV);
        });
        WaitForAsyncUtils.waitForFxEvents();
        var markers = chart.chart().getXYPlot().getRangeMarkers(Layer.BACKGROUND);
        assertEquals(1, markers.size(), "a second setUniformCe replaces the first line");
        ValueMarker marker = (ValueMarker) markers.iterator().next();
        assertEquals(lnV, marker.getValue());
        assertEquals("ln V (uniform guess)", marker.getLabel());
        Range range = chart.chart().getXYPlot().getRangeAxis().getRange();
        assertTrue(range.contains(lnV) && range.contains(3.5) && range.getUpperBound() > lnV, range.toString());
    }

    @Test
    void twoThousandPointsAppendWellUnderASecondAndDrawOnce(FxRobot robot) {
        AtomicLong nanos = new AtomicLong();
        AtomicInteger draws = new AtomicInteger();
        robot.interact(() -> {
            chart.chart().addChangeListener(e -> draws.incrementAndGet());
            long t0 = System.nanoTime();
            for (int step = 1; step <= 2000; step++) {
                chart.addLoss(step, 9 * Math.exp(-step / 500.0) + 0.1 * Math.sin(step));
            }
            nanos.set(System.nanoTime() - t0);
        });
        WaitForAsyncUtils.waitForFxEvents();
        assertTrue(nanos.get() < 250_000_000L, "2000 addLoss calls took " + nanos.get() / 1e6 + " ms");
        assertEquals(1, draws.get(), "points appended in one pulse redraw the chart once");
        assertEquals(2000, chart.lossDataset().getItemCount(0));
        Range steps = chart.chart().getXYPlot().getDomainAxis().getRange();
        assertTrue(steps.contains(1) && steps.contains(2000), "the batched change re-ranged the step axis: " + steps);
    }

    @Test
    void rendersHeadlessIntoAnImageWithTheLossLineDrawn(FxRobot robot) {
        AtomicInteger blue = new AtomicInteger(), blueBefore = new AtomicInteger();
        Color trainColour = Color.web("#1f77b4");
        robot.interact(() -> blueBefore.set(ChartImages.pixelsNear(chart, trainColour)));
        robot.interact(() -> {
            for (int step = 1; step <= 200; step++) {
                chart.addLoss(step, 9 - step / 40.0);
            }
            chart.setUniformCe(9.2);
        });
        WaitForAsyncUtils.waitForFxEvents();
        robot.interact(() -> blue.set(ChartImages.pixelsNear(chart, trainColour)));
        assertTrue(blue.get() > blueBefore.get() + 100, "train-loss line pixels: " + blueBefore.get() + " → " + blue.get());
    }

    @Test
    void refusesUpdatesFromOtherThreads() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> chart.addLoss(1, 1.0));
        assertTrue(e.getMessage().contains("JavaFX thread"), e.getMessage());
        assertNull(chart.uniformMarker());
    }
}
