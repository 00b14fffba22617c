package dev.scalpel.views.charts;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Paint;
import java.awt.Stroke;
import java.text.DecimalFormat;
import java.text.DecimalFormatSymbols;
import java.text.NumberFormat;
import java.util.Locale;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.StandardChartTheme;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.DefaultDrawingSupplier;
import org.jfree.chart.plot.Plot;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.category.StandardBarPainter;
import org.jfree.chart.renderer.xy.StandardXYBarPainter;
import org.jfree.chart.ui.RectangleAnchor;
import org.jfree.chart.ui.RectangleInsets;
import org.jfree.chart.ui.TextAnchor;

/** The one look every Scalpel chart shares: white background, light solid grid, 12–15 pt fonts, a fixed palette. */
final class ChartStyle {
    /** Label of the horizontal line at the cross-entropy of a uniform guess over the vocabulary. */
    static final String UNIFORM_LABEL = "ln V (uniform guess)";

    private static final String FAMILY = Font.SANS_SERIF;
    private static final Color TEXT = new Color(0x333333);
    private static final Color GRID = new Color(0xE3E3E3);
    private static final Paint[] PALETTE = {new Color(0x1F77B4), new Color(0xFF7F0E), new Color(0x2CA02C),
            new Color(0xD62728), new Color(0x9467BD), new Color(0x8C564B), new Color(0xE377C2), new Color(0x17BECF)};

    private ChartStyle() {}

    /** Applies the theme (fonts, paints, flat bars, palette) and the light solid grid to a finished chart. */
    static JFreeChart apply(JFreeChart chart) {
        StandardChartTheme theme = new StandardChartTheme("Scalpel");
        theme.setExtraLargeFont(new Font(FAMILY, Font.BOLD, 15));
        theme.setLargeFont(new Font(FAMILY, Font.PLAIN, 13));
        theme.setRegularFont(new Font(FAMILY, Font.PLAIN, 12));
        theme.setSmallFont(new Font(FAMILY, Font.PLAIN, 12));
        theme.setTitlePaint(TEXT);
        theme.setSubtitlePaint(TEXT);
        theme.setAxisLabelPaint(TEXT);
        theme.setTickLabelPaint(TEXT);
        theme.setItemLabelPaint(TEXT);
        theme.setLegendItemPaint(TEXT);
        theme.setChartBackgroundPaint(Color.WHITE);
        theme.setLegendBackgroundPaint(Color.WHITE);
        theme.setPlotBackgroundPaint(Color.WHITE);
        theme.setPlotOutlinePaint(GRID);
        theme.setDomainGridlinePaint(GRID);
        theme.setRangeGridlinePaint(GRID);
        theme.setAxisOffset(RectangleInsets.ZERO_INSETS);
        theme.setBarPainter(new StandardBarPainter());
        theme.setXYBarPainter(new StandardXYBarPainter());
        theme.setShadowVisible(false);
        theme.setDrawingSupplier(new DefaultDrawingSupplier(PALETTE, DefaultDrawingSupplier.DEFAULT_FILL_PAINT_SEQUENCE,
                DefaultDrawingSupplier.DEFAULT_OUTLINE_PAINT_SEQUENCE, DefaultDrawingSupplier.DEFAULT_STROKE_SEQUENCE,
                DefaultDrawingSupplier.DEFAULT_OUTLINE_STROKE_SEQUENCE, DefaultDrawingSupplier.DEFAULT_SHAPE_SEQUENCE));
        theme.apply(chart);
        chart.setPadding(new RectangleInsets(6, 6, 6, 12));
        Plot plot = chart.getPlot();
        Stroke grid = new BasicStroke(0.8f);
        if (plot instanceof XYPlot xy) {
            xy.setDomainGridlineStroke(grid);
            xy.setRangeGridlineStroke(grid);
        } else if (plot instanceof CategoryPlot category) {
            category.setRangeGridlineStroke(grid);
        }
        return chart;
    }

    /** A dashed horizontal line at {@code lnV} nats labelled {@link #UNIFORM_LABEL} just under its right end (above it would clip at the top of the plot). */
    static ValueMarker uniformMarker(double lnV) {
        ValueMarker marker = new ValueMarker(lnV, new Color(0x555555),
                new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {6f, 4f}, 0f));
        marker.setLabel(UNIFORM_LABEL);
        marker.setLabelFont(new Font(FAMILY, Font.PLAIN, 12));
        marker.setLabelPaint(TEXT);
        marker.setLabelBackgroundColor(new Color(255, 255, 255, 210)); // readable over grid and lines, no grey box
        marker.setLabelAnchor(RectangleAnchor.TOP_RIGHT);
        marker.setLabelTextAnchor(TextAnchor.TOP_RIGHT);
        marker.setLabelOffset(new RectangleInsets(2, 4, 2, 6));
        return marker;
    }

    /** Numbers with exactly two decimals and a dot, whatever the user's locale. */
    static NumberFormat twoDecimals() {
        return new DecimalFormat("0.00", DecimalFormatSymbols.getInstance(Locale.ROOT));
    }

    /** A solid line stroke of the given width with round joins. */
    static Stroke line(float width) {
        return new BasicStroke(width, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND);
    }
}
