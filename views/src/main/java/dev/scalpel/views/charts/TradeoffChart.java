package dev.scalpel.views.charts;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javafx.scene.layout.StackPane;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.fx.ChartViewer;
import org.jfree.chart.labels.ItemLabelAnchor;
import org.jfree.chart.labels.ItemLabelPosition;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.title.TextTitle;
import org.jfree.chart.ui.TextAnchor;
import org.jfree.data.xy.XYDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * The removal trade-off of {@code scalpel demo}: for each edit method a line through its token budgets, x = CE damage on
 * the retained language, y = CE removed on the target language (both nats, edited − base), each point labelled with
 * its budget. Up and to the left is better. Use on the FX thread.
 */
public final class TradeoffChart extends StackPane {
    /** The demo's default languages: German removed, English kept. */
    public static final String DEMO_TARGET = "de";
    public static final String DEMO_RETAIN = "en";

    private final XYSeriesCollection data = new XYSeriesCollection();
    /** Budgets of each series' points, in item order, for the point labels. */
    private final List<List<Integer>> budgets = new ArrayList<>();
    private final NumberAxis retainAxis = new NumberAxis();
    private final NumberAxis targetAxis = new NumberAxis();
    private final JFreeChart chart;

    public TradeoffChart() {
        retainAxis.setUpperMargin(0.08);
        targetAxis.setUpperMargin(0.08);
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, true);
        renderer.setDefaultStroke(ChartStyle.line(1.8f));
        renderer.setAutoPopulateSeriesStroke(false);
        renderer.setDefaultItemLabelGenerator((dataset, series, item) -> Integer.toString(budgets.get(series).get(item)));
        renderer.setDefaultItemLabelsVisible(true);
        renderer.setDefaultPositiveItemLabelPosition(new ItemLabelPosition(ItemLabelAnchor.OUTSIDE12, TextAnchor.BOTTOM_CENTER));
        renderer.setDefaultNegativeItemLabelPosition(new ItemLabelPosition(ItemLabelAnchor.OUTSIDE12, TextAnchor.BOTTOM_CENTER));
        renderer.setDefaultToolTipGenerator((dataset, series, item) -> String.format(Locale.ROOT,
                "%s, %d tokens: removal %+.3f, damage %+.3f nats", dataset.getSeriesKey(series), budgets.get(series).get(item),
                dataset.getYValue(series, item), dataset.getXValue(series, item)));
        XYPlot plot = new XYPlot(data, retainAxis, targetAxis, renderer);
        chart = new JFreeChart("Removal trade-off", JFreeChart.DEFAULT_TITLE_FONT, plot, true);
        chart.addSubtitle(new TextTitle("point labels: training budget in target tokens · better is up and to the left"));
        ChartStyle.apply(chart);
        show(List.of(), DEMO_TARGET, DEMO_RETAIN);
        getChildren().add(new ChartViewer(chart));
        setMinSize(240, 160);
        setPrefSize(640, 440);
    }

    /** Replaces the lines: one per method (in order of first appearance), its points in budget order. */
    public void show(List<TradeoffPoint> points, String target, String retain) {
        chart.setNotify(false);
        chart.setTitle("Removing " + target + ", keeping " + retain);
        retainAxis.setLabel("collateral damage on " + retain + " (ΔCE, nats)");
        targetAxis.setLabel("removal on " + target + " (ΔCE, nats)");
        data.removeAllSeries();
        budgets.clear();
        Map<String, List<TradeoffPoint>> byMethod = new LinkedHashMap<>();
        points.forEach(p -> byMethod.computeIfAbsent(p.method(), m -> new ArrayList<>()).add(p));
        byMethod.forEach((method, runs) -> {
            XYSeries series = new XYSeries(method, false, true);
            List<Integer> seriesBudgets = new ArrayList<>();
            runs.stream().sorted(Comparator.comparingInt(TradeoffPoint::budget)).forEach(p -> {
                series.add(p.retainDelta(), p.targetDelta());
                seriesBudgets.add(p.budget());
            });
            budgets.add(seriesBudgets);
            data.addSeries(series);
        });
        chart.setNotify(true);
    }

    /** The points of {@code scalpel demo}'s results.csv for its default languages (de removed, en kept). */
    public static List<TradeoffPoint> readCsv(Path resultsCsv) {
        return readCsv(resultsCsv, DEMO_TARGET, DEMO_RETAIN);
    }

    /**
     * The points of {@code scalpel demo}'s results.csv for a study run with {@code --target target --retain retain}.
     *
     * @throws dev.scalpel.engine.api.ScalpelException naming the file, the line and the fix when the file is unreadable,
     *         lacks a column, has a malformed line, or {@code target} is not the language the study removed
     */
    public static List<TradeoffPoint> readCsv(Path resultsCsv, String target, String retain) {
        return TradeoffCsv.read(resultsCsv, target, retain);
    }

    /** One series per method keyed by its name; x = retain ΔCE, y = target ΔCE, items in budget order. */
    public XYDataset dataset() {
        return data;
    }

    /** The budget label of point {@code item} of series {@code series}. */
    String pointLabel(int series, int item) {
        return chart.getXYPlot().getRenderer().getItemLabelGenerator(series, item).generateLabel(data, series, item);
    }

    /** The chart drawn, e.g. to save it as a PNG; change it only on the FX thread. */
    public JFreeChart chart() {
        return chart;
    }
}
