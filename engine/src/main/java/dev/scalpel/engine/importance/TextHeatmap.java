package dev.scalpel.engine.importance;

import dev.scalpel.engine.api.ImportanceMap;
import dev.scalpel.engine.model.LayerType;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * An importance map drawn as text for the terminal: one row per layer, one column per head. Up to
 * {@value #MAX_NUMERIC_HEADS} heads a cell shows the score and a shade character; wider maps show
 * only the shade, one character per head. For example:
 * <pre>
 *          H0      H1      H2
 * L0   +0.100  +0.250. +0.000
 * L1   +1.500@ +0.750+ +0.500-
 * rows: layers L0-L1, columns: heads H0-H2; gradient on 'de', 4096 tokens
 * shade ' .:-=+*#%@' runs from ' ' at the minimum +0.000 to '@' at the maximum +1.500
 * </pre>
 */
public final class TextHeatmap {
    /** Shades from the lowest score (a space) to the highest ({@code @}). */
    static final String RAMP = " .:-=+*#%@";
    /** The widest map drawn with numbers; 32 heads of 8 characters make a 261-column line. */
    static final int MAX_NUMERIC_HEADS = 32;
    /** Characters of a number in a cell; the shade follows, making cells 8 wide. */
    private static final int NUMBER_WIDTH = 7;
    /** A head a layer does not have (a ragged map's absent cell): in the shade-only form, and in place of a number. */
    static final char ABSENT_SHADE = '_';
    static final String ABSENT_NUMBER = "n/a";
    /** Head labels every this many columns in the shade-only form. */
    private static final int RULER_STEP = 10;

    private TextHeatmap() {}

    /** The map as lines of text (each ending in a newline): header, one row per layer, legend. */
    public static String render(ImportanceMap map) {
        return render(map, List.of());
    }

    /**
     * The map with each row that is not full attention marked by its layer type ({@code sliding_attention},
     * {@code linear_attention} for a Gated DeltaNet layer, whose heads are its value heads) after the row; a layer with
     * fewer heads than the widest shows its absent cells as {@value #ABSENT_NUMBER} (or {@code _}), never as a score.
     */
    public static String render(ImportanceMap map, List<LayerType> layerTypes) {
        double[][] scores = map.scores();
        double min = Arrays.stream(scores).flatMapToDouble(Arrays::stream).min().orElseThrow();
        double max = Arrays.stream(scores).flatMapToDouble(Arrays::stream).max().orElseThrow();
        boolean numeric = map.heads() <= MAX_NUMERIC_HEADS;
        NumberFormat numbers = NumberFormat.forLargest(Math.max(Math.abs(min), Math.abs(max)));
        String labelPad = " ".repeat(("L" + (map.layers() - 1)).length() + 2);

        StringBuilder out = new StringBuilder();
        line(out, labelPad + (numeric ? numericHeader(map.heads()) : ruler(map.heads())));
        for (int layer = 0; layer < scores.length; layer++) {
            StringBuilder row = new StringBuilder(labelPad).replace(0, ("L" + layer).length(), "L" + layer);
            for (double score : scores[layer]) {
                if (numeric) {
                    row.append(String.format(Locale.ROOT, "%" + NUMBER_WIDTH + "s", numbers.format(score)));
                }
                row.append(shade(score, min, max));
            }
            for (int head = scores[layer].length; head < map.heads(); head++) {
                row.append(numeric ? String.format(Locale.ROOT, "%" + NUMBER_WIDTH + "s ", ABSENT_NUMBER) : ABSENT_SHADE);
            }
            if (layer < layerTypes.size() && layerTypes.get(layer) != LayerType.FULL_ATTENTION) {
                row.append("  ").append(layerTypes.get(layer).configName());
            }
            line(out, row.toString());
        }
        line(out, String.format(Locale.ROOT, "rows: layers L0-L%d, columns: heads H0-H%d; %s on '%s', %d tokens",
                map.layers() - 1, map.heads() - 1, map.method(), map.domain(), map.tokens()));
        line(out, String.format(Locale.ROOT, "shade '%s' runs from ' ' at the minimum %+.4g to '@' at the maximum %+.4g%s",
                RAMP, min, max, numeric ? numbers.unitNote() : ""));
        if (map.grid().isRagged()) {
            line(out, "'" + (numeric ? ABSENT_NUMBER : String.valueOf(ABSENT_SHADE)) + "': a head the layer does not have "
                    + "(its row has fewer heads than the widest layer)");
        }
        return out.toString();
    }

    /** The shade of {@code score}: its position between {@code min} and {@code max} on {@link #RAMP}. */
    static char shade(double score, double min, double max) {
        double position = max > min ? (score - min) / (max - min) : 1;
        return RAMP.charAt(Math.min(RAMP.length() - 1, (int) (position * RAMP.length())));
    }

    private static String numericHeader(int heads) {
        StringBuilder header = new StringBuilder();
        for (int h = 0; h < heads; h++) {
            header.append(String.format(Locale.ROOT, "%" + NUMBER_WIDTH + "s ", "H" + h));
        }
        return header.toString();
    }

    /** {@code H0        H10       H20 …}: each label above its head's column. */
    private static String ruler(int heads) {
        char[] ruler = new char[heads];
        Arrays.fill(ruler, ' ');
        for (int h = 0; h < heads; h += RULER_STEP) {
            String label = "H" + h;
            label.getChars(0, Math.min(label.length(), heads - h), ruler, h);
        }
        return new String(ruler);
    }

    private static void line(StringBuilder out, String line) {
        out.append(line.stripTrailing()).append('\n');
    }

    /**
     * How numbers are printed so the largest fits {@value #NUMBER_WIDTH} characters, a space included (so signed
     * numbers never run into each other), with three or four significant digits: plainly with 0 to 3 decimals from
     * 0.1 to 99999, otherwise in units of a power of ten (named in the legend).
     */
    private record NumberFormat(int exponent, int decimals, boolean scaled) {
        static NumberFormat forLargest(double largestAbs) {
            int e = largestAbs == 0 ? 0 : (int) Math.floor(Math.log10(largestAbs));
            if (e >= -1 && e <= 4) {
                return new NumberFormat(0, Math.max(0, Math.min(3, 3 - e)), false);
            }
            return new NumberFormat(e, 3, true);
        }

        String format(double value) {
            double shown = scaled ? value / Math.pow(10, exponent) : value;
            return String.format(Locale.ROOT, "%+." + decimals + "f", shown);
        }

        String unitNote() {
            return scaled ? String.format(Locale.ROOT, "; numbers are in units of 1e%+d", exponent) : "";
        }
    }
}
