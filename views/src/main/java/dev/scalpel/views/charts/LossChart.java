package dev.scalpel.views.charts;

import javafx.application.Platform;
import javafx.scene.layout.StackPane;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.fx.ChartViewer;
import org.jfree.chart.labels.StandardXYSeriesLabelGenerator;
import org.jfree.chart.labels.StandardXYToolTipGenerator;
import org.jfree.chart.plot.Marker;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.ui.Layer;
import org.jfree.data.xy.XYDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * Live training loss against step, with one line per language for the evaluation cross-entropy measured every few
 * steps (same nats axis, so train and eval read against each other) and an optional dashed line at ln V, the loss of a
 * uniform guess. Call every method on the FX thread. Adding a point costs an append; the chart redraws at most once
 * per FX pulse however many points arrive in between.
 */
public final class LossChart extends StackPane {
    private static final String TRAIN_KEY = "train loss";

    private final XYSeries loss = new XYSeries(TRAIN_KEY);
    private final XYSeriesCollection lossData = new XYSeriesCollection(loss);
    private final XYSeriesCollection evalData = new XYSeriesCollection();
    private final InclusiveNumberAxis rangeAxis = new InclusiveNumberAxis("cross-entropy (nats/token)");
    private final JFreeChart chart;
    private ValueMarker uniformMarker;
    private boolean redrawPending;

    public LossChart() {
        NumberAxis stepAxis = new NumberAxis("step");
        stepAxis.setStandardTickUnits(NumberAxis.createIntegerTickUnits());
        stepAxis.setAutoRangeIncludesZero(false);
        rangeAxis.setAutoRangeIncludesZero(false);

        XYLineAndShapeRenderer trainRenderer = new XYLineAndShapeRenderer(true, false);
        trainRenderer.setSeriesStroke(0, ChartStyle.line(1.5f));
        trainRenderer.setDefaultToolTipGenerator(new StandardXYToolTipGenerator());
        XYLineAndShapeRenderer evalRenderer = new XYLineAndShapeRenderer(true, true);
        evalRenderer.setDefaultStroke(ChartStyle.line(2.2f));
        evalRenderer.setAutoPopulateSeriesStroke(false);
        evalRenderer.setLegendItemLabelGenerator(new StandardXYSeriesLabelGenerator("eval {0}"));
        evalRenderer.setDefaultToolTipGenerator(new StandardXYToolTipGenerator());

        XYPlot plot = new XYPlot(lossData, stepAxis, rangeAxis, trainRenderer);
        plot.setDataset(1, evalData);
        plot.setRenderer(1, evalRenderer);
        chart = ChartStyle.apply(new JFreeChart("Training loss", JFreeChart.DEFAULT_TITLE_FONT, plot, true));
        getChildren().add(new ChartViewer(chart));
        setMinSize(240, 160);
        setPrefSize(640, 400);
    }

    /** Appends one training-loss point. */
    public void addLoss(long step, double loss) {
        requireFxThread();
        this.loss.add(step, loss, false);
        redrawSoon();
    }

    /** Appends one evaluation cross-entropy point on the line for {@code language} (created on first use). */
    public void addEval(long step, String language, double ce) {
        requireFxThread();
        int index = evalData.getSeriesIndex(language);
        if (index < 0) {
            XYSeries series = new XYSeries(language);
            series.add(step, ce);
            evalData.addSeries(series);
        } else {
            evalData.getSeries(index).add(step, ce, false);
            redrawSoon();
        }
    }

    /** Removes every loss and eval point; the title and the ln V line stay. */
    public void clear() {
        requireFxThread();
        chart.setNotify(false);
        loss.clear();
        evalData.removeAllSeries();
        chart.setNotify(true);
    }

    public void setTitle(String title) {
        chart.setTitle(title);
    }

    /** Shows the dashed "ln V (uniform guess)" line at {@code lnV} nats (replacing any earlier one) and keeps it in view. */
    public void setUniformCe(double lnV) {
        XYPlot plot = chart.getXYPlot();
        if (uniformMarker != null) {
            plot.removeRangeMarker(uniformMarker, Layer.BACKGROUND);
        }
        uniformMarker = ChartStyle.uniformMarker(lnV);
        plot.addRangeMarker(uniformMarker, Layer.BACKGROUND);
        rangeAxis.setAlsoInclude(lnV);
    }

    /** The training losses: one series, x = step, y = loss. */
    public XYDataset lossDataset() {
        return lossData;
    }

    /** The evaluation cross-entropies: one series per language, keyed by the language, x = step, y = CE. */
    public XYDataset evalDataset() {
        return evalData;
    }

    /** The chart drawn, e.g. to save it as a PNG; change it only on the FX thread. */
    public JFreeChart chart() {
        return chart;
    }

    /** The ln V line shown, or null before {@link #setUniformCe}. */
    Marker uniformMarker() {
        return uniformMarker;
    }

    /** Fires one change for every point appended since the last pulse, so the canvas draws once, not per point. */
    private void redrawSoon() {
        if (redrawPending) {
            return;
        }
        redrawPending = true;
        Platform.runLater(() -> {
            redrawPending = false;
            chart.setNotify(false); // the series events re-range the axes; the canvas draws once, on setNotify(true)
            loss.fireSeriesChanged();
            for (int i = 0; i < evalData.getSeriesCount(); i++) {
                evalData.getSeries(i).fireSeriesChanged();
            }
            chart.setNotify(true);
        });
    }

    private static void requireFxThread() {
        if (!Platform.isFxApplicationThread()) {
            throw new IllegalStateException("LossChart must be updated on the JavaFX thread; wrap the call in Platform.runLater.");
        }
    }
}
