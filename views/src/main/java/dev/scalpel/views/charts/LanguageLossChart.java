package dev.scalpel.views.charts;

import dev.scalpel.engine.api.LanguageLoss;
import java.util.List;
import javafx.scene.layout.StackPane;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.CategoryAxis;
import org.jfree.chart.fx.ChartViewer;
import org.jfree.chart.labels.ItemLabelAnchor;
import org.jfree.chart.labels.ItemLabelPosition;
import org.jfree.chart.labels.StandardCategoryItemLabelGenerator;
import org.jfree.chart.labels.StandardCategoryToolTipGenerator;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.Marker;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.renderer.category.BarRenderer;
import org.jfree.chart.ui.Layer;
import org.jfree.chart.ui.TextAnchor;
import org.jfree.data.category.CategoryDataset;
import org.jfree.data.category.DefaultCategoryDataset;

/**
 * Cross-entropy per language as bars, base and edited side by side in each language's group, each bar labelled with
 * its value (2 decimals), under a dashed line at ln V, the loss of a uniform guess. Use on the FX thread.
 */
public final class LanguageLossChart extends StackPane {
    private static final String BASE = "base";
    private static final String EDITED = "edited";

    private final DefaultCategoryDataset data = new DefaultCategoryDataset();
    private final InclusiveNumberAxis rangeAxis = new InclusiveNumberAxis("cross-entropy (nats/token)");
    private final JFreeChart chart;
    private ValueMarker uniformMarker;

    public LanguageLossChart() {
        CategoryAxis languageAxis = new CategoryAxis("language");
        languageAxis.setMaximumCategoryLabelLines(2);
        languageAxis.setCategoryMargin(0.25);
        rangeAxis.setUpperMargin(0.12); // room for the value labels above the tallest bar
        BarRenderer renderer = new BarRenderer();
        renderer.setItemMargin(0.04);
        renderer.setDrawBarOutline(false);
        renderer.setDefaultItemLabelGenerator(new StandardCategoryItemLabelGenerator("{2}", ChartStyle.twoDecimals()));
        renderer.setDefaultItemLabelsVisible(true);
        renderer.setDefaultPositiveItemLabelPosition(new ItemLabelPosition(ItemLabelAnchor.OUTSIDE12, TextAnchor.BOTTOM_CENTER));
        renderer.setDefaultToolTipGenerator(new StandardCategoryToolTipGenerator("{0} on {1}: {2} nats", ChartStyle.twoDecimals()));
        CategoryPlot plot = new CategoryPlot(data, languageAxis, rangeAxis, renderer);
        chart = ChartStyle.apply(new JFreeChart("Cross-entropy per language", JFreeChart.DEFAULT_TITLE_FONT, plot, true));
        getChildren().add(new ChartViewer(chart));
        setMinSize(240, 160);
        setPrefSize(640, 400);
    }

    /**
     * Replaces the bars: one group per language (base's order, then languages only {@code edited} has), a "base" bar
     * and, where {@code edited} is not empty, an "edited" bar; the dashed line sits at {@code lnV} nats (none if NaN).
     */
    public void show(List<LanguageLoss> base, List<LanguageLoss> edited, double lnV) {
        CategoryPlot plot = chart.getCategoryPlot();
        chart.setNotify(false);
        data.clear();
        base.forEach(l -> data.addValue(l.ce(), BASE, l.name()));
        edited.forEach(l -> data.addValue(l.ce(), EDITED, l.name()));
        if (uniformMarker != null) {
            plot.removeRangeMarker(uniformMarker, Layer.BACKGROUND);
            uniformMarker = null;
        }
        if (Double.isFinite(lnV)) {
            uniformMarker = ChartStyle.uniformMarker(lnV);
            plot.addRangeMarker(uniformMarker, Layer.BACKGROUND);
        }
        rangeAxis.setAlsoInclude(lnV);
        chart.setNotify(true);
    }

    /** The bars: rows "base" and (when given) "edited", columns the language names, values CE in nats. */
    public CategoryDataset dataset() {
        return data;
    }

    /** The chart drawn, e.g. to save it as a PNG; change it only on the FX thread. */
    public JFreeChart chart() {
        return chart;
    }

    /** The ln V line shown, or null when none was given. */
    Marker uniformMarker() {
        return uniformMarker;
    }
}
