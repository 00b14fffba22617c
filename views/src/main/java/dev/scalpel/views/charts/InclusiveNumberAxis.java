package dev.scalpel.views.charts;

import org.jfree.chart.axis.NumberAxis;
import org.jfree.data.Range;

/**
 * A number axis whose automatic range also covers one extra value, so that a reference line (a marker, which JFreeChart
 * leaves out of auto-ranging) stays in view however the data moves.
 */
final class InclusiveNumberAxis extends NumberAxis {
    private static final long serialVersionUID = 1L;

    private double alsoInclude = Double.NaN;

    InclusiveNumberAxis(String label) {
        super(label);
    }

    /** The value to keep in view; NaN for none. Re-ranges the axis. */
    void setAlsoInclude(double value) {
        alsoInclude = value;
        if (isAutoRange()) {
            autoAdjustRange();
        }
        fireChangeEvent();
    }

    @Override
    protected void autoAdjustRange() {
        super.autoAdjustRange();
        Range r = getRange();
        if (!Double.isFinite(alsoInclude) || r.contains(alsoInclude)) {
            return;
        }
        double lower = Math.min(r.getLowerBound(), alsoInclude), upper = Math.max(r.getUpperBound(), alsoInclude);
        double length = upper - lower;
        if (alsoInclude > r.getUpperBound()) {
            upper += length * getUpperMargin();
        } else {
            lower -= length * getLowerMargin();
        }
        setRange(new Range(lower, upper), false, false);
    }
}
