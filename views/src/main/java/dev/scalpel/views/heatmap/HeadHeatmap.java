package dev.scalpel.views.heatmap;

import dev.scalpel.engine.api.HeadMark;
import dev.scalpel.engine.api.HeadId;
import dev.scalpel.engine.api.ImportanceMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javafx.beans.property.ObjectProperty;
import javafx.beans.property.SimpleObjectProperty;
import javafx.collections.FXCollections;
import javafx.collections.MapChangeListener;
import javafx.collections.ObservableMap;
import javafx.geometry.VPos;
import javafx.scene.canvas.Canvas;
import javafx.scene.canvas.GraphicsContext;
import javafx.scene.control.Tooltip;
import javafx.scene.input.KeyEvent;
import javafx.scene.input.MouseEvent;
import javafx.scene.layout.Region;
import javafx.scene.paint.Color;
import javafx.scene.text.Font;
import javafx.scene.text.FontWeight;
import javafx.scene.text.TextAlignment;

/**
 * The layer × head importance map, drawn on a Canvas: layers as rows, heads as columns, colour by score (blue low,
 * white middle, red high), a legend, and badges on marked heads (T = train, F = freeze). Layers that are not full
 * softmax attention carry a marker in front of their label: a purple bar for Gated DeltaNet ({@code linear_attention},
 * whose heads are its value heads), a teal one for sliding-window attention. A hybrid whose Gated DeltaNet layers have
 * another head count than its attention layers has a ragged map: the cells beyond a layer's own heads are drawn grey
 * and crossed (no head, not a score of zero) and cannot be clicked, marked or reached with the cursor.
 *
 * <p>Mouse: click a head to cycle its mark (none → train → freeze); ctrl-click toggles train on and off; shift-drag
 * marks a rectangle for training; hover for the exact value. Keyboard (once focused): arrows move the cursor, space
 * cycles the cursor's mark, T / F / Delete set train / freeze / none.
 */
public final class HeadHeatmap extends Region {
    private static final double LABEL_WIDTH = 36;
    private static final double HEADER_HEIGHT = 20;
    private static final double LEGEND_HEIGHT = 44;
    private static final Color LOW = Color.web("#2166ac");
    private static final Color MID = Color.web("#f7f7f7");
    private static final Color HIGH = Color.web("#b2182b");
    private static final Color TRAIN_COLOUR = Color.web("#0b7a0b");
    private static final Color FREEZE_COLOUR = Color.web("#222222");
    /** A cell beyond its layer's heads: outside the blue–white–red scale, crossed. */
    static final Color ABSENT_COLOUR = Color.web("#c8c8c8");
    private static final Color ABSENT_CROSS = Color.web("#8c8c8c");
    private static final Map<String, Color> LAYER_TYPE_COLOURS = Map.of(
            "linear_attention", Color.web("#7b3294"), "sliding_attention", Color.web("#1b9e77"));

    private final ObjectProperty<ImportanceMap> map = new SimpleObjectProperty<>(this, "map");
    private final ObservableMap<HeadId, HeadMark> marks = FXCollections.observableHashMap();
    private final Canvas canvas = new Canvas();
    private final Tooltip tooltip = new Tooltip();
    private final ObjectProperty<HeadId> cursor = new SimpleObjectProperty<>(this, "focusedHead");
    private final ObjectProperty<List<String>> layerTypes = new SimpleObjectProperty<>(this, "layerTypes", List.of());
    private HeadId dragStart;
    private boolean stale = true;
    private long lastRedrawNanos;

    public HeadHeatmap() {
        getChildren().add(canvas);
        map.addListener((obs, old, now) -> redrawSoon());
        marks.addListener((MapChangeListener<HeadId, HeadMark>) change -> redrawSoon());
        canvas.setOnMousePressed(this::pressed);
        canvas.setOnMouseReleased(this::released);
        canvas.setOnMouseMoved(this::hovered);
        cursor.addListener((obs, old, now) -> redrawSoon());
        layerTypes.addListener((obs, old, now) -> redrawSoon());
        setFocusTraversable(true);
        setOnKeyPressed(this::keyPressed);
        focusedProperty().addListener((obs, old, now) -> redrawSoon());
        Tooltip.install(canvas, tooltip);
        setMinSize(200, 150);
        setPrefSize(640, 420);
    }

    /** Per layer, as config.json names it (full_attention, sliding_attention, linear_attention); empty: all full. */
    public ObjectProperty<List<String>> layerTypesProperty() {
        return layerTypes;
    }

    /** The map shown; null shows an empty frame. */
    public ObjectProperty<ImportanceMap> mapProperty() {
        return map;
    }

    /** The user's marks (heads without an entry are {@link HeadMark#NONE}). */
    public ObservableMap<HeadId, HeadMark> marks() {
        return marks;
    }

    /** The keyboard cursor (drawn when the heatmap has focus), or null before the first click or key. */
    public ObjectProperty<HeadId> focusedHeadProperty() {
        return cursor;
    }

    /** Sets {@code head}'s mark; {@link HeadMark#NONE} removes it. */
    public void mark(HeadId head, HeadMark mark) {
        if (mark == HeadMark.NONE) {
            marks.remove(head);
        } else {
            marks.put(head, mark);
        }
    }

    /** How long the last full redraw took, in nanoseconds (for the 16 ms budget at 80 × 64). */
    public long lastRedrawNanos() {
        return lastRedrawNanos;
    }

    /**
     * Draws once in the next layout pass (before the next frame, or a snapshot), however many marks changed since:
     * marking a 64-head rectangle is one redraw, not 64.
     */
    private void redrawSoon() {
        stale = true;
        requestLayout();
    }

    @Override
    protected void layoutChildren() {
        if (stale || canvas.getWidth() != getWidth() || canvas.getHeight() != getHeight()) {
            canvas.setWidth(getWidth());
            canvas.setHeight(getHeight());
            redraw();
        }
    }

    /** The head under a point of the canvas, or null (outside the map, or an absent cell of a ragged map). */
    public HeadId headAt(double x, double y) {
        ImportanceMap m = map.get();
        if (m == null) {
            return null;
        }
        double cw = cellWidth(m), ch = cellHeight(m);
        int head = (int) Math.floor((x - LABEL_WIDTH) / cw);
        int layer = (int) Math.floor((y - HEADER_HEIGHT) / ch);
        return head >= 0 && layer >= 0 && m.has(new HeadId(layer, head)) ? new HeadId(layer, head) : null;
    }

    private void pressed(MouseEvent e) {
        requestFocus();
        dragStart = headAt(e.getX(), e.getY());
    }

    private void released(MouseEvent e) {
        HeadId end = headAt(e.getX(), e.getY());
        if (dragStart == null || end == null) {
            return;
        }
        if (e.isShiftDown() && !dragStart.equals(end)) {
            for (int l = Math.min(dragStart.layer(), end.layer()); l <= Math.max(dragStart.layer(), end.layer()); l++) {
                for (int h = Math.min(dragStart.head(), end.head()); h <= Math.max(dragStart.head(), end.head()); h++) {
                    if (map.get().has(new HeadId(l, h))) {   // a rectangle across a ragged edge skips the absent cells
                        marks.put(new HeadId(l, h), HeadMark.TRAIN);
                    }
                }
            }
        } else if (dragStart.equals(end) && e.isShortcutDown()) {
            mark(end, marks.get(end) == HeadMark.TRAIN ? HeadMark.NONE : HeadMark.TRAIN);
        } else if (dragStart.equals(end)) {
            mark(end, marks.getOrDefault(end, HeadMark.NONE).next());
        }
        cursor.set(end);
        dragStart = null;
    }

    private void keyPressed(KeyEvent e) {
        ImportanceMap m = map.get();
        if (m == null) {
            return;
        }
        HeadId at = cursor.get() != null ? cursor.get() : new HeadId(0, 0);
        switch (e.getCode()) {
            case UP -> cursor.set(inRow(m, Math.max(0, at.layer() - 1), at.head()));
            case DOWN -> cursor.set(inRow(m, Math.min(m.layers() - 1, at.layer() + 1), at.head()));
            case LEFT -> cursor.set(new HeadId(at.layer(), Math.max(0, at.head() - 1)));
            case RIGHT -> cursor.set(inRow(m, at.layer(), at.head() + 1));
            case SPACE -> mark(at, marks.getOrDefault(at, HeadMark.NONE).next());
            case T -> mark(at, HeadMark.TRAIN);
            case F -> mark(at, HeadMark.FREEZE);
            case DELETE, BACK_SPACE -> mark(at, HeadMark.NONE);
            default -> {
                return;
            }
        }
        e.consume();
    }

    /** Head {@code head} of {@code layer}, or that layer's last head when it has fewer (a ragged map's short row). */
    private static HeadId inRow(ImportanceMap m, int layer, int head) {
        return new HeadId(layer, Math.min(m.grid().headsIn(layer) - 1, head));
    }

    private void hovered(MouseEvent e) {
        HeadId head = headAt(e.getX(), e.getY());
        ImportanceMap m = map.get();
        tooltip.setText(head == null || m == null ? "" : String.format(Locale.ROOT, "%s  %s = %.5g  (%s)%s", head, m.method(),
                m.score(head), marks.getOrDefault(head, HeadMark.NONE).name().toLowerCase(Locale.ROOT),
                LAYER_TYPE_COLOURS.containsKey(layerType(head.layer())) ? "  · " + layerType(head.layer()) + " layer" : ""));
    }

    private String layerType(int layer) {
        List<String> types = layerTypes.get();
        return types != null && layer < types.size() ? types.get(layer) : "full_attention";
    }

    private double cellWidth(ImportanceMap m) {
        return Math.max(1, (getWidth() - LABEL_WIDTH - 8) / m.heads());
    }

    private double cellHeight(ImportanceMap m) {
        return Math.max(1, (getHeight() - HEADER_HEIGHT - LEGEND_HEIGHT) / m.layers());
    }

    private void redraw() {
        stale = false;
        long t0 = System.nanoTime();
        GraphicsContext g = canvas.getGraphicsContext2D();
        g.setFill(Color.web("#fafafa"));
        g.fillRect(0, 0, canvas.getWidth(), canvas.getHeight());
        ImportanceMap m = map.get();
        if (m == null) {
            return;
        }
        double[][] s = m.scores();
        double min = Double.MAX_VALUE, max = -Double.MAX_VALUE;
        for (double[] row : s) {
            for (double v : row) {
                min = Math.min(min, v);
                max = Math.max(max, v);
            }
        }
        double cw = cellWidth(m), ch = cellHeight(m);
        g.setTextBaseline(VPos.CENTER);
        for (int l = 0; l < m.layers(); l++) {
            for (int h = 0; h < m.heads(); h++) {
                double x = LABEL_WIDTH + h * cw, y = HEADER_HEIGHT + l * ch;
                if (h >= s[l].length) {
                    absent(g, x, y, cw - (cw > 4 ? 1 : 0), ch - (ch > 4 ? 1 : 0));
                    continue;
                }
                g.setFill(colour(s[l][h], min, max));
                g.fillRect(x, y, cw - (cw > 4 ? 1 : 0), ch - (ch > 4 ? 1 : 0));
                HeadMark mark = marks.getOrDefault(new HeadId(l, h), HeadMark.NONE);
                if (mark != HeadMark.NONE) {
                    badge(g, mark, x, y, cw, ch);
                }
            }
        }
        g.setFill(Color.web("#333333"));
        g.setFont(Font.font(Math.min(12, Math.max(7, ch * 0.6))));
        g.setTextAlign(TextAlignment.RIGHT);
        int labelEvery = Math.max(1, (int) Math.ceil(12 / ch));
        for (int l = 0; l < m.layers(); l += labelEvery) {
            g.fillText("L" + l, LABEL_WIDTH - 4, HEADER_HEIGHT + (l + 0.5) * ch);
        }
        for (int l = 0; l < m.layers(); l++) {
            Color type = LAYER_TYPE_COLOURS.get(layerType(l));
            if (type != null) {
                g.setFill(type);
                g.fillRect(1, HEADER_HEIGHT + l * ch, 4, ch - (ch > 4 ? 1 : 0));
            }
        }
        g.setFill(Color.web("#333333"));
        g.setTextAlign(TextAlignment.CENTER);
        int headEvery = Math.max(1, (int) Math.ceil(26 / cw));
        for (int h = 0; h < m.heads(); h += headEvery) {
            g.fillText("H" + h, LABEL_WIDTH + (h + 0.5) * cw, HEADER_HEIGHT / 2);
        }
        HeadId c = cursor.get();
        if (c != null && isFocused() && m.has(c)) {
            g.setStroke(Color.web("#1a73e8"));
            g.setLineWidth(2);
            g.strokeRect(LABEL_WIDTH + c.head() * cw - 1, HEADER_HEIGHT + c.layer() * ch - 1, cw + 1, ch + 1);
        }
        legend(g, m, min, max);
        lastRedrawNanos = System.nanoTime() - t0;
    }

    /** A cell beyond its layer's heads: grey, crossed from corner to corner when it is big enough to see a line. */
    private static void absent(GraphicsContext g, double x, double y, double w, double h) {
        g.setFill(ABSENT_COLOUR);
        g.fillRect(x, y, w, h);
        if (w > 6 && h > 6) {
            g.setStroke(ABSENT_CROSS);
            g.setLineWidth(1);
            g.strokeLine(x + 2, y + 2, x + w - 2, y + h - 2);
            g.strokeLine(x + 2, y + h - 2, x + w - 2, y + 2);
        }
    }

    /** A marked head: a coloured outline and, when the cell is big enough, its letter on a white tag in the corner. */
    private void badge(GraphicsContext g, HeadMark mark, double x, double y, double cw, double ch) {
        double r = Math.min(cw, ch);
        Color colour = mark == HeadMark.TRAIN ? TRAIN_COLOUR : FREEZE_COLOUR;
        double line = Math.max(1, Math.min(3, r / 10));
        g.setStroke(colour);
        g.setLineWidth(line);
        g.strokeRect(x + line / 2, y + line / 2, cw - 1 - line, ch - 1 - line);
        if (r >= 14) {
            double tag = Math.min(18, r * 0.4);
            g.setFill(Color.WHITE);
            g.fillRoundRect(x + line + 1, y + line + 1, tag, tag, 4, 4);
            g.setFill(colour);
            g.setFont(Font.font(null, FontWeight.BOLD, tag * 0.7));
            g.setTextAlign(TextAlignment.CENTER);
            g.fillText(mark == HeadMark.TRAIN ? "T" : "F", x + line + 1 + tag / 2, y + line + 1 + tag / 2);
        }
    }

    /** Two lines under the map: the colour scale with its range, then what the map is and what the badges mean. */
    private void legend(GraphicsContext g, ImportanceMap m, double min, double max) {
        double y = canvas.getHeight() - LEGEND_HEIGHT + 6, w = Math.max(40, Math.min(240, (canvas.getWidth() - LABEL_WIDTH) / 2));
        for (int i = 0; i < w; i++) {
            g.setFill(colour(min + (max - min) * i / w, min, max));
            g.fillRect(LABEL_WIDTH + i, y, 1, 12);
        }
        g.setFill(Color.web("#333333"));
        g.setTextAlign(TextAlignment.LEFT);
        g.setFont(Font.font(12));
        g.fillText(String.format(Locale.ROOT, "%.3g … %.3g", min, max), LABEL_WIDTH + w + 8, y + 6);
        g.fillText(String.format(Locale.ROOT, "%s on %s, %,d tokens · T train · F freeze%s%s", m.method(), m.domain(), m.tokens(),
                layerTypeLegend(), m.grid().isRagged() ? " · grey ✕: no such head in that layer" : ""), LABEL_WIDTH, y + 24);
    }

    /** " · ▮ purple linear_attention (Gated DeltaNet) · …" for the layer types this model has, else "". */
    private String layerTypeLegend() {
        StringBuilder legend = new StringBuilder();
        List<String> types = layerTypes.get();
        if (types != null && types.contains("linear_attention")) {
            legend.append(" · purple bar: Gated DeltaNet layer (value heads)");
        }
        if (types != null && types.contains("sliding_attention")) {
            legend.append(" · teal bar: sliding-window layer");
        }
        return legend.toString();
    }

    /** Diverging blue–white–red by the score's position between min and max. */
    static Color colour(double v, double min, double max) {
        double t = max > min ? (v - min) / (max - min) : 0.5;
        return t < 0.5 ? LOW.interpolate(MID, t * 2) : MID.interpolate(HIGH, (t - 0.5) * 2);
    }
}
