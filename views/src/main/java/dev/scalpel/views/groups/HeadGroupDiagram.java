package dev.scalpel.views.groups;

import dev.scalpel.engine.api.HeadGrid;
import dev.scalpel.engine.api.HeadId;
import dev.scalpel.engine.api.HeadSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.function.Function;
import javafx.beans.property.ObjectProperty;
import javafx.beans.property.ReadOnlyObjectProperty;
import javafx.beans.property.ReadOnlyObjectWrapper;
import javafx.beans.property.SimpleObjectProperty;
import javafx.collections.FXCollections;
import javafx.collections.ListChangeListener;
import javafx.collections.MapChangeListener;
import javafx.collections.ObservableList;
import javafx.collections.ObservableMap;
import javafx.geometry.Insets;
import javafx.geometry.Point2D;
import javafx.scene.Node;
import javafx.scene.SnapshotParameters;
import javafx.scene.control.Label;
import javafx.scene.control.ScrollPane;
import javafx.scene.control.SplitPane;
import javafx.scene.effect.DropShadow;
import javafx.scene.image.ImageView;
import javafx.scene.input.MouseButton;
import javafx.scene.input.MouseEvent;
import javafx.scene.layout.BorderPane;
import javafx.scene.layout.Pane;
import javafx.scene.layout.Priority;
import javafx.scene.layout.Region;
import javafx.scene.layout.VBox;
import javafx.scene.paint.Color;
import javafx.scene.text.Font;
import javafx.scene.text.FontWeight;

/**
 * The head-group diagram: on the left the library of saved head groups as cards, on the right the model drawn as
 * layers of head slots coloured by the loaded group that owns them.
 *
 * <p>Drag a card onto the model to apply its group: a translucent ghost of the card follows the pointer and, while
 * it is over the model, the slots the group would take are outlined green and those another loaded group owns red,
 * with the conflicts listed under the model. Releasing over the model reports the card's name to
 * {@link #onDropProperty()} (the app applies the group and settles conflicts); releasing anywhere else cancels.
 * Clicking a slot of a loaded group, or a loaded card's "Swap out" button, reports that group's name to
 * {@link #onSwapOutProperty()}. The drag uses plain mouse pressed/dragged/released events (no platform
 * drag-and-drop), so it works the same on every platform and under a headless robot.
 *
 * <p>The diagram only shows state: {@link #library()}, {@link #loaded()} and the shape are set by the app, and
 * nothing here changes them.
 */
public final class HeadGroupDiagram extends Region {
    /** Pointer travel, in pixels, before a press on a card becomes a drag. */
    private static final double DRAG_THRESHOLD = 4;
    private static final int CONFLICTS_SHOWN = 3;
    private static final int OUTSIDE_SHOWN = 3;
    private static final String HINT =
            "Drag a group from the library onto the model to apply it; click a coloured slot to swap its group out.";
    private static final Color TEXT = Color.web("#555555");
    private static final Color GOOD = Color.web("#1a7a35");

    private final ObservableList<GroupCard> library = FXCollections.observableArrayList();
    private final ObservableMap<String, HeadSet> loaded = FXCollections.observableMap(new LinkedHashMap<>());
    private final ObjectProperty<Function<String, Map<HeadId, String>>> conflicts =
            new SimpleObjectProperty<>(this, "conflicts");
    private final ObjectProperty<Consumer<String>> onDrop = new SimpleObjectProperty<>(this, "onDrop");
    private final ObjectProperty<Consumer<String>> onSwapOut = new SimpleObjectProperty<>(this, "onSwapOut");
    private final ReadOnlyObjectWrapper<String> dragging = new ReadOnlyObjectWrapper<>(this, "dragging");

    private final Map<String, CardView> cardViews = new LinkedHashMap<>();
    private final VBox cards = new VBox(8);
    private final Label emptyLibrary = new Label("No saved head groups yet.");
    private final GroupPalette palette = new GroupPalette();
    private final SlotCanvas slots = new SlotCanvas(loaded, palette, name -> fire(onSwapOut, name));
    private final Label status = new Label(HINT);
    private final BorderPane modelArea = new BorderPane(slots);
    private final SplitPane content;
    private final Pane overlay = new Pane();
    private final ImageView ghost = new ImageView();

    private CardView pressedCard;
    /** Where the press on {@link #pressedCard} happened, in scene coordinates, and where on the card. */
    private Point2D pressedAt;
    private Point2D grabOffset;
    /** What the conflicts function said when the current drag began: head → owner, in head order. */
    private final Map<HeadId, String> dragConflicts = new TreeMap<>();
    private boolean previewing;

    public HeadGroupDiagram() {
        Label title = new Label("Head groups");
        title.setFont(Font.font(null, FontWeight.BOLD, 13));
        emptyLibrary.setTextFill(TEXT);
        cards.setPadding(new Insets(8));
        cards.setFillWidth(true);
        ScrollPane scroll = new ScrollPane(cards);
        scroll.setFitToWidth(true);
        VBox libraryColumn = new VBox(6, title, scroll);
        libraryColumn.setPadding(new Insets(8, 0, 0, 8));
        libraryColumn.setMinWidth(180);
        VBox.setVgrow(scroll, Priority.ALWAYS);

        status.setId("head-group-status");
        status.setWrapText(true);
        status.setPadding(new Insets(4, 8, 6, 8));
        status.setTextFill(TEXT);
        modelArea.setBottom(status);

        content = new SplitPane(libraryColumn, modelArea);
        content.setDividerPositions(0.28);
        SplitPane.setResizableWithParent(libraryColumn, false);

        ghost.setId("head-group-ghost");
        ghost.setOpacity(0.65);
        ghost.setEffect(new DropShadow(8, Color.gray(0, 0.35)));
        ghost.setVisible(false);
        ghost.setManaged(false);
        overlay.getChildren().add(ghost);
        overlay.setMouseTransparent(true);
        getChildren().addAll(content, overlay);

        library.addListener((ListChangeListener<GroupCard>) change -> rebuildCards());
        loaded.addListener((MapChangeListener<String, HeadSet>) change ->
                cardViews.forEach((name, view) -> view.setLoaded(loaded.containsKey(name))));
        rebuildCards();
        setMinSize(420, 240);
        setPrefSize(960, 540);
    }

    /** The heads of each layer of the model (rows of slots); null until a model is open. */
    public ObjectProperty<HeadGrid> gridProperty() {
        return slots.gridProperty();
    }

    /** The saved head groups shown as cards, in order; names are unique. */
    public ObservableList<GroupCard> library() {
        return library;
    }

    /** The groups swapped in now: name → the heads each took. Their slots are drawn in the group's colour. */
    public ObservableMap<String, HeadSet> loaded() {
        return loaded;
    }

    /**
     * For a card's name, the heads its group would take that another loaded group owns (head → owner); asked once
     * when a drag begins, to draw the conflicts. Null means no conflicts are shown.
     */
    public ObjectProperty<Function<String, Map<HeadId, String>>> conflictsProperty() {
        return conflicts;
    }

    /** Called with a card's name when it is dropped on the model. */
    public ObjectProperty<Consumer<String>> onDropProperty() {
        return onDrop;
    }

    /** Called with a loaded group's name when the user clicks one of its slots or its card's "Swap out" button. */
    public ObjectProperty<Consumer<String>> onSwapOutProperty() {
        return onSwapOut;
    }

    /** The name of the card being dragged, or null when no drag is under way. */
    public ReadOnlyObjectProperty<String> draggingProperty() {
        return dragging.getReadOnlyProperty();
    }

    /** The heads the drop preview highlights: the dragged group's heads while over the model, else empty. */
    public Set<HeadId> previewTaken() {
        return slots.previewTaken();
    }

    /** The highlighted heads another loaded group owns (drawn red); a subset of {@link #previewTaken()}. */
    public Set<HeadId> previewConflicts() {
        return slots.previewConflicts();
    }

    /** The head slot under a point in this diagram's coordinates, or null when the point is not on a slot. */
    public HeadId slotAt(double x, double y) {
        Point2D p = slots.sceneToLocal(localToScene(x, y));
        return p != null && slots.getLayoutBounds().contains(p) ? slots.slotAt(p.getX(), p.getY()) : null;
    }

    /** The card shown for the group called {@code name} (the drag handle), or null when the library has none. */
    public Node cardNode(String name) {
        return cardViews.get(name);
    }

    @Override
    protected void layoutChildren() {
        content.resizeRelocate(0, 0, getWidth(), getHeight());
        overlay.resizeRelocate(0, 0, getWidth(), getHeight());
    }

    private void rebuildCards() {
        if (pressedCard != null) {
            endDrag();
        }
        cardViews.clear();
        palette.assign(library.stream().map(GroupCard::name).toList());
        for (GroupCard card : library) {
            CardView view = new CardView(card, palette.colour(card.name()), name -> fire(onSwapOut, name));
            view.setLoaded(loaded.containsKey(card.name()));
            view.setOnMousePressed(e -> pressed(view, e));
            view.setOnMouseDragged(e -> dragged(view, e));
            view.setOnMouseReleased(e -> released(view, e));
            cardViews.put(card.name(), view);
        }
        cards.getChildren().setAll(cardViews.isEmpty() ? List.of(emptyLibrary) : List.copyOf(cardViews.values()));
        slots.redraw();
    }

    private void pressed(CardView view, MouseEvent e) {
        if (e.getButton() == MouseButton.PRIMARY && view.isDragHandle(e)) {
            pressedCard = view;
            pressedAt = new Point2D(e.getSceneX(), e.getSceneY());
            grabOffset = new Point2D(e.getX(), e.getY());
        }
    }

    private void dragged(CardView view, MouseEvent e) {
        if (view != pressedCard) {
            return;
        }
        if (dragging.get() == null) {
            if (pressedAt.distance(e.getSceneX(), e.getSceneY()) < DRAG_THRESHOLD) {
                return;
            }
            beginDrag(view);
        }
        Point2D p = overlay.sceneToLocal(e.getSceneX(), e.getSceneY());
        ghost.relocate(p.getX() - grabOffset.getX(), p.getY() - grabOffset.getY());
        showPreview(overModel(e));
    }

    private void released(CardView view, MouseEvent e) {
        if (view != pressedCard || e.getButton() != MouseButton.PRIMARY) {
            return;
        }
        String name = dragging.get();
        boolean dropped = name != null && overModel(e);
        endDrag();
        if (dropped) {
            fire(onDrop, name);
        }
    }

    private void beginDrag(CardView view) {
        String name = view.card().name();
        Function<String, Map<HeadId, String>> lookup = conflicts.get();
        Map<HeadId, String> found = lookup == null ? null : lookup.apply(name);
        dragConflicts.clear();
        if (found != null) {
            found.forEach((head, owner) -> {
                if (view.card().heads().contains(head)) {
                    dragConflicts.put(head, owner);
                }
            });
        }
        SnapshotParameters params = new SnapshotParameters();
        params.setFill(Color.TRANSPARENT);
        ghost.setImage(view.snapshot(params, null));
        ghost.setVisible(true);
        view.setOpacity(0.4);
        dragging.set(name);
        say(dropHint(name), TEXT);
    }

    /** Shows or hides the drop preview as the pointer enters or leaves the model; redraws only on a change. */
    private void showPreview(boolean overModel) {
        if (overModel == previewing) {
            return;
        }
        previewing = overModel;
        if (!overModel) {
            slots.clearPreview();
            say(dropHint(dragging.get()), TEXT);
            return;
        }
        GroupCard card = pressedCard.card();
        slots.showPreview(card.heads().heads(), dragConflicts.keySet());
        HeadGrid grid = gridProperty().get();
        List<HeadId> outside = card.heads().heads().stream().filter(h -> grid == null || !grid.contains(h)).toList();
        if (!outside.isEmpty()) {
            say(card.name() + " has " + plural(outside.size(), "head") + " outside this " + shape(grid)
                    + " model: " + Abbreviate.firstFew(outside, OUTSIDE_SHOWN)
                    + " — it was made for a bigger model.", GroupPalette.CONFLICT);
        } else if (!dragConflicts.isEmpty()) {
            List<String> items = dragConflicts.entrySet().stream().map(c -> c.getKey() + " (" + c.getValue() + ")").toList();
            say(plural(items.size(), "conflict") + ": " + Abbreviate.firstFew(items, CONFLICTS_SHOWN), GroupPalette.CONFLICT);
        } else {
            say("Release to apply " + card.name() + ": it takes " + plural(card.heads().size(), "free head") + ".", GOOD);
        }
    }

    private void endDrag() {
        if (pressedCard != null) {
            pressedCard.setOpacity(1);
        }
        pressedCard = null;
        ghost.setVisible(false);
        ghost.setImage(null);
        dragConflicts.clear();
        previewing = false;
        slots.clearPreview();
        dragging.set(null);
        say(HINT, TEXT);
    }

    private void say(String text, Color colour) {
        status.setText(text);
        status.setTextFill(colour);
    }

    private static String dropHint(String name) {
        return "Drop " + name + " on the model to apply it; release anywhere else to cancel.";
    }

    /** "4 × 6", or for a hybrid's ragged grid "4 × (8, 8, 8, 4)"; "unopened" before a model is open. */
    private static String shape(HeadGrid grid) {
        if (grid == null) {
            return "unopened";
        }
        return grid.layers() + " × " + (grid.isRagged() ? grid.headsPerLayer().toString().replace('[', '(').replace(']', ')')
                : String.valueOf(grid.width()));
    }

    private static String plural(int n, String noun) {
        return n + " " + noun + (n == 1 ? "" : "s");
    }

    private boolean overModel(MouseEvent e) {
        Point2D p = modelArea.sceneToLocal(e.getSceneX(), e.getSceneY());
        return p != null && modelArea.getLayoutBounds().contains(p);
    }

    private static void fire(ObjectProperty<Consumer<String>> handler, String name) {
        Consumer<String> consumer = handler.get();
        if (consumer != null) {
            consumer.accept(name);
        }
    }
}
