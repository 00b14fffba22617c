package dev.scalpel.views.charts;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.scalpel.engine.api.LanguageLoss;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import javafx.scene.Scene;
import javafx.scene.paint.Color;
import javafx.stage.Stage;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.ui.Layer;
import org.jfree.data.category.CategoryDataset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.testfx.api.FxRobot;
import org.testfx.framework.junit5.ApplicationExtension;
import org.testfx.framework.junit5.Start;

/** Per-language bars: base and edited values per language, value labels, the ln V line. */
@ExtendWith(ApplicationExtension.class)
class LanguageLossChartTest {
    private static final List<LanguageLoss> BASE = List.of(new LanguageLoss("de", 4.8365, 2048),
            new LanguageLoss("en", 4.9, 2048), new LanguageLoss("fr", 5.125, 2048));
    private static final List<LanguageLoss> EDITED = List.of(new LanguageLoss("de", 8.7277, 2048),
            new LanguageLoss("en", 4.9423, 2048), new LanguageLoss("fr", 5.43, 2048));

    private LanguageLossChart chart;

    @Start
    void start(Stage stage) {
        chart = new LanguageLossChart();
        stage.setScene(new Scene(chart, 640, 400));
        stage.show();
    }

    @Test
    void baseAndEditedBarsPerLanguageWithTwoDecimalLabels(FxRobot robot) {
        robot.interact(() -> chart.show(BASE, EDITED, 9.01));
        CategoryDataset data = chart.dataset();
        assertEquals(List.of("base", "edited"), data.getRowKeys());
        assertEquals(List.of("de", "en", "fr"), data.getColumnKeys());
        assertEquals(4.8365, data.getValue("base", "de").doubleValue());
        assertEquals(8.7277, data.getValue("edited", "de").doubleValue());
        assertEquals(5.43, data.getValue("edited", "fr").doubleValue());
        var renderer = chart.chart().getCategoryPlot().getRenderer();
        assertEquals("8.73", renderer.getItemLabelGenerator(1, 0).generateLabel(data, 1, 0));
        assertEquals("4.84", renderer.getItemLabelGenerator(0, 0).generateLabel(data, 0, 0));
        assertTrue(renderer.isItemLabelVisible(1, 0));

        var markers = chart.chart().getCategoryPlot().getRangeMarkers(Layer.BACKGROUND);
        assertEquals(1, markers.size());
        ValueMarker marker = (ValueMarker) markers.iterator().next();
        assertEquals(9.01, marker.getValue());
        assertEquals("ln V (uniform guess)", marker.getLabel());
        double top = chart.chart().getCategoryPlot().getRangeAxis().getRange().getUpperBound();
        assertTrue(top > 9.01, "the ln V line above every bar stays in view: axis ends at " + top);
    }

    @Test
    void withoutEditsOnlyBaseBarsAndANewShowReplacesTheOld(FxRobot robot) {
        robot.interact(() -> chart.show(BASE, EDITED, 9.01));
        robot.interact(() -> chart.show(BASE.subList(0, 2), List.of(), 7.5));
        CategoryDataset data = chart.dataset();
        assertEquals(List.of("base"), data.getRowKeys());
        assertEquals(List.of("de", "en"), data.getColumnKeys());
        var markers = chart.chart().getCategoryPlot().getRangeMarkers(Layer.BACKGROUND);
        assertEquals(1, markers.size());
        assertEquals(7.5, ((ValueMarker) markers.iterator().next()).getValue());

        robot.interact(() -> chart.show(BASE, List.of(), Double.NaN));
        assertNull(chart.uniformMarker());
        assertEquals(0, chart.chart().getCategoryPlot().getRangeMarkers(Layer.BACKGROUND).size());
    }

    @Test
    void rendersHeadlessIntoAnImageWithBothBarColours(FxRobot robot) {
        AtomicInteger base = new AtomicInteger(), edited = new AtomicInteger();
        robot.interact(() -> chart.show(BASE, EDITED, 9.01));
        robot.interact(() -> {
            base.set(ChartImages.pixelsNear(chart, Color.web("#1f77b4")));
            edited.set(ChartImages.pixelsNear(chart, Color.web("#ff7f0e")));
        });
        assertTrue(base.get() > 1000 && edited.get() > 1000, "bar pixels: base " + base + ", edited " + edited);
        assertTrue(edited.get() > base.get(), "edited bars are taller in total: " + edited + " vs " + base);
    }
}
