package dev.scalpel.views.charts;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import javafx.scene.Scene;
import javafx.scene.paint.Color;
import javafx.stage.Stage;
import org.jfree.data.xy.XYDataset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.testfx.api.FxRobot;
import org.testfx.framework.junit5.ApplicationExtension;
import org.testfx.framework.junit5.Start;

/** The trade-off chart: one line per method through its budgets, x = retain damage, y = target removal. */
@ExtendWith(ApplicationExtension.class)
class TradeoffChartTest {
    private TradeoffChart chart;

    @Start
    void start(Stage stage) {
        chart = new TradeoffChart();
        stage.setScene(new Scene(chart, 700, 460));
        stage.show();
    }

    @Test
    void oneLinePerMethodInBudgetOrderLabelledByBudget(FxRobot robot) {
        List<TradeoffPoint> points = List.of(new TradeoffPoint("lora-r4", 64, 2.9, 0.165),
                new TradeoffPoint("prefactor", 16, 0.237, 0.141), new TradeoffPoint("lora-r4", 4, 0.0198, 0.0038),
                new TradeoffPoint("prefactor", 4, 0.155, 0.092), new TradeoffPoint("lora-r4", 16, 0.232, 0.108));
        robot.interact(() -> chart.show(points, "de", "en"));
        XYDataset data = chart.dataset();
        assertEquals(2, data.getSeriesCount());
        assertEquals("lora-r4", data.getSeriesKey(0));
        assertEquals("prefactor", data.getSeriesKey(1));
        assertEquals(3, data.getItemCount(0));
        assertEquals(0.0038, data.getXValue(0, 0));
        assertEquals(0.0198, data.getYValue(0, 0));
        assertEquals(0.165, data.getXValue(0, 2));
        assertEquals(2.9, data.getYValue(0, 2));
        assertEquals(List.of("4", "16", "64"), List.of(chart.pointLabel(0, 0), chart.pointLabel(0, 1), chart.pointLabel(0, 2)));
        assertEquals("16", chart.pointLabel(1, 1));
        var plot = chart.chart().getXYPlot();
        assertEquals("collateral damage on en (ΔCE, nats)", plot.getDomainAxis().getLabel());
        assertEquals("removal on de (ΔCE, nats)", plot.getRangeAxis().getLabel());
    }

    @Test
    void showsTheDemoSampleResultsAndRendersHeadless(FxRobot robot) {
        List<TradeoffPoint> points = TradeoffChart.readCsv(TradeoffCsvTest.SAMPLE);
        AtomicInteger headLoraLine = new AtomicInteger();
        robot.interact(() -> chart.show(points, "de", "en"));
        // head-LoRA (sixth colour): a long curve low on collateral damage
        robot.interact(() -> headLoraLine.set(ChartImages.pixelsNear(chart, Color.web("#8c564b"))));
        assertEquals(6, chart.dataset().getSeriesCount(), "prefactor-spd, prefactor-svd, lora-r1-local, lora-r1, lora-r4, head-lora-r4");
        assertTrue(headLoraLine.get() > 150, "head-LoRA's line pixels: " + headLoraLine);
    }
}
