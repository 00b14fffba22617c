package dev.scalpel.views.groups;

import dev.scalpel.engine.api.HeadGrid;
import dev.scalpel.engine.api.HeadId;
import dev.scalpel.engine.api.HeadSet;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import javafx.beans.property.ObjectProperty;
import javafx.beans.property.SimpleObjectProperty;
import javafx.collections.MapChangeListener;
import javafx.collections.ObservableMap;
import javafx.geometry.VPos;
import javafx.scene.Cursor;
import javafx.scene.canvas.Canvas;
import javafx.scene.canvas.GraphicsContext;
import javafx.scene.control.Tooltip;
import javafx.scene.input.MouseButton;
import javafx.scene.input.MouseEvent;
import javafx.scene.layout.Region;
import javafx.scene.paint.Color;
import javafx.scene.text.Font;
import javafx.scene.text.Text;
import javafx.scene.text.TextAlignment;

/**
 * The model area of the head-group diagram, drawn on a Canvas: every layer as a row of rounded head slots, each
 * filled with the colour of the loaded group that owns it (light grey when free), row labels {@code L0..}, column
 * labels {@code H0..}, and a legend of the loaded groups. A drop preview outlines the slots a group would take in
 * green and the conflicting ones in red. Clicking an owned slot reports the owner's name. A row has as many slots as its
 * layer has heads ({@link HeadGrid}): a hybrid's rows of Gated DeltaNet value heads and of attention heads differ.
 */
final class SlotCanvas extends Region {
    private static final double LABEL_WIDTH = 40;
    private static final double HEADER_HEIGHT = 22;
    private static final double LEGEND_HEIGHT = 28;
    private static final double MARGIN = 8;
    /** Largest slot side, so a 2 × 4 model does not become four giant tiles. */
    private static final double MAX_SLOT = 44;
    /** From this side up slots are square; below it the grid uses all the room in each direction. */
    private static final double MIN_SQUARE = 10;

    private final ObjectProperty<HeadGrid> grid = new SimpleObjectProperty<>(this, "grid");
    private final ObservableMap<String, HeadSet> loaded;
    private final Map<HeadId, String> owners = new HashMap<>();
    private final Consumer<String> onOwnerClicked;
    private final GroupPalette palette;
    private final Canvas canvas = new Canvas();
    private final Tooltip tooltip = new Tooltip();
    private Set<HeadId> previewTaken = Set.of();
    private Set<HeadId> previewConflicts = Set.of();
    private HeadId pressedSlot;

    /**
     * @param loaded         the groups swapped in (name → heads), read on every redraw
     * @param palette        the group colours
     * @param onOwnerClicked called with the owner's name when the user clicks an owned slot
     */
    SlotCanvas(ObservableMap<String, HeadSet> loaded, GroupPalette palette, Consumer<String> onOwnerClicked) {
        this.loaded = loaded;
        this.palette = palette;
        this.onOwnerClicked = onOwnerClicked;
        getChildren().add(canvas);
        grid.addListener((obs, old, now) -> redraw());
        loaded.addListener((MapChangeListener<String, HeadSet>) change -> {
            indexOwners();
            redraw();
        });
        indexOwners();
        canvas.setOnMousePressed(this::pressed);
        canvas.setOnMouseReleased(this::released);
        canvas.setOnMouseMoved(this::hovered);
        Tooltip.install(canvas, tooltip);
        setMinSize(160, 120);
    }

    ObjectProperty<HeadGrid> gridProperty() {
        return grid;
    }

    /** Shows a drop preview: {@code taken} outlined green, those of {@code conflicts} among them red. */
    void showPreview(Set<HeadId> taken, Set<HeadId> conflicts) {
        previewTaken = Set.copyOf(taken);
        previewConflicts = conflicts.stream().filter(taken::contains).collect(Collectors.toUnmodifiableSet());
        redraw();
    }

    void clearPreview() {
        if (!previewTaken.isEmpty()) {
            showPreview(Set.of(), Set.of());
        }
    }

    Set<HeadId> previewTaken() {
        return previewTaken;
    }

    Set<HeadId> previewConflicts() {
        return previewConflicts;
    }

    /** The tooltip text for a slot: {@code L3H5 — owned by de-heads} or {@code L3H5 — free}. */
    String describe(HeadId head) {
        String owner = owners.get(head);
        return head + " — " + (owner == null ? "free" : "owned by " + owner);
    }

    /** The slot under a point of this area (local coordinates; a slot owns the gap after it), or null off the grid. */
    HeadId slotAt(double x, double y) {
        if (grid.get() == null) {
            return null;
        }
        Cell cell = cell();
        int head = (int) Math.floor((x - LABEL_WIDTH) / cell.width());
        int layer = (int) Math.floor((y - HEADER_HEIGHT) / cell.height());
        return head >= 0 && layer >= 0 && grid.get().contains(new HeadId(layer, head)) ? new HeadId(layer, head) : null;
    }

    @Override
    protected void layoutChildren() {
        canvas.setWidth(getWidth());
        canvas.setHeight(getHeight());
        redraw();
    }

    private void indexOwners() {
        owners.clear();
        loaded.forEach((name, set) -> set.heads().forEach(head -> owners.put(head, name)));
    }

    private void pressed(MouseEvent e) {
        pressedSlot = e.getButton() == MouseButton.PRIMARY ? slotAt(e.getX(), e.getY()) : null;
    }

    private void released(MouseEvent e) {
        HeadId slot = slotAt(e.getX(), e.getY());
        String owner = slot == null ? null : owners.get(slot);
        if (slot != null && slot.equals(pressedSlot) && owner != null) {
            onOwnerClicked.accept(owner);
        }
        pressedSlot = null;
    }

    private void hovered(MouseEvent e) {
        HeadId slot = slotAt(e.getX(), e.getY());
        tooltip.setText(slot == null ? "" : describe(slot));
        canvas.setCursor(slot != null && owners.containsKey(slot) ? Cursor.HAND : Cursor.DEFAULT);
    }

    /** Size of one slot cell (slot plus gap), in pixels. */
    private record Cell(double width, double height) {
    }

    /** The room per head and per layer, capped, and square once both sides are big enough to be squares. */
    private Cell cell() {
        double w = Math.min(MAX_SLOT, Math.max(1, (getWidth() - LABEL_WIDTH - MARGIN) / grid.get().width()));
        double h = Math.min(MAX_SLOT, Math.max(1, (getHeight() - HEADER_HEIGHT - LEGEND_HEIGHT) / grid.get().layers()));
        return w >= MIN_SQUARE && h >= MIN_SQUARE ? new Cell(Math.min(w, h), Math.min(w, h)) : new Cell(w, h);
    }

    /** Draws the whole area again (the diagram calls this when group colours change). */
    void redraw() {
        GraphicsContext g = canvas.getGraphicsContext2D();
        g.setFill(Color.web("#fafafa"));
        g.fillRect(0, 0, canvas.getWidth(), canvas.getHeight());
        g.setTextBaseline(VPos.CENTER);
        HeadGrid shape = grid.get();
        if (shape == null) {
            g.setFill(Color.web("#666666"));
            g.setTextAlign(TextAlignment.CENTER);
            g.fillText("No model shape yet", canvas.getWidth() / 2, canvas.getHeight() / 2);
            return;
        }
        Cell cell = cell();
        double w = cell.width(), h = cell.height(), side = Math.min(w, h);
        double gap = side >= 16 ? 2 : side > 4 ? 1 : 0, arc = side >= 6 ? side * 0.3 : 0;
        for (int l = 0; l < shape.layers(); l++) {
            for (int hd = 0; hd < shape.headsIn(l); hd++) {
                HeadId head = new HeadId(l, hd);
                double x = LABEL_WIDTH + hd * w, y = HEADER_HEIGHT + l * h;
                String owner = owners.get(head);
                g.setFill(owner == null ? GroupPalette.FREE : palette.colour(owner));
                g.fillRoundRect(x, y, w - gap, h - gap, arc, arc);
                if (previewTaken.contains(head)) {
                    preview(g, previewConflicts.contains(head) ? GroupPalette.CONFLICT : GroupPalette.TAKE,
                            x, y, w - gap, h - gap, arc);
                }
            }
        }
        labels(g, w, h);
        legend(g, HEADER_HEIGHT + shape.layers() * h + LEGEND_HEIGHT / 2);
    }

    /** A translucent fill and a solid outline over a slot, thick enough to see at 5 px slots. */
    private static void preview(GraphicsContext g, Color colour, double x, double y, double w, double h, double arc) {
        g.setFill(colour.deriveColor(0, 1, 1, 0.55));
        g.fillRoundRect(x, y, w, h, arc, arc);
        double line = Math.max(1, Math.min(w, h) / 8);
        g.setStroke(colour);
        g.setLineWidth(line);
        g.strokeRoundRect(x + line / 2, y + line / 2, w - line, h - line, arc, arc);
    }

    private void labels(GraphicsContext g, double w, double h) {
        g.setFont(Font.font(Math.min(12, Math.max(8, h * 0.6))));
        g.setFill(Color.web("#333333"));
        g.setTextAlign(TextAlignment.RIGHT);
        int layerStep = step(12 / h);
        for (int l = 0; l < grid.get().layers(); l += layerStep) {
            g.fillText("L" + l, LABEL_WIDTH - 4, HEADER_HEIGHT + (l + 0.5) * h);
        }
        g.setTextAlign(TextAlignment.CENTER);
        int headStep = step(26 / w);
        for (int hd = 0; hd < grid.get().width(); hd += headStep) {
            g.fillText("H" + hd, LABEL_WIDTH + (hd + 0.5) * w, HEADER_HEIGHT / 2);
        }
    }

    /** The smallest power of two at least {@code minimum}, so labels fall on L0, L4, L8… */
    private static int step(double minimum) {
        int step = 1;
        while (step < minimum) {
            step *= 2;
        }
        return step;
    }

    /** One line of swatches: each loaded group with its head count, free, and during a drag "takes" / "conflict". */
    private void legend(GraphicsContext g, double centreY) {
        g.setFont(Font.font(11));
        g.setTextAlign(TextAlignment.LEFT);
        double x = LABEL_WIDTH, right = canvas.getWidth() - MARGIN;
        int shown = 0;
        for (Map.Entry<String, HeadSet> group : loaded.entrySet()) {
            String text = group.getKey() + " (" + group.getValue().size() + ")";
            if (x + legendWidth(text) > right - legendWidth("+99 more")) {
                g.setFill(Color.web("#333333"));
                g.fillText("+" + (loaded.size() - shown) + " more", x, centreY);
                return;
            }
            x = legendEntry(g, palette.colour(group.getKey()), text, x, centreY);
            shown++;
        }
        x = legendEntry(g, GroupPalette.FREE, "free", x, centreY);
        if (!previewTaken.isEmpty()) {
            x = legendEntry(g, GroupPalette.TAKE, "takes", x, centreY);
            legendEntry(g, GroupPalette.CONFLICT, "conflict", x, centreY);
        }
    }

    private static double legendEntry(GraphicsContext g, Color colour, String text, double x, double centreY) {
        g.setFill(colour);
        g.fillRoundRect(x, centreY - 6, 12, 12, 4, 4);
        g.setFill(Color.web("#333333"));
        g.fillText(text, x + 16, centreY);
        return x + legendWidth(text);
    }

    /** Width of a legend entry: swatch, gap, text, spacing. */
    private static double legendWidth(String text) {
        Text probe = new Text(text);
        probe.setFont(Font.font(11));
        return 16 + probe.getLayoutBounds().getWidth() + 14;
    }
}
