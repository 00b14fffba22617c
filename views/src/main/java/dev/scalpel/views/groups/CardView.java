package dev.scalpel.views.groups;

import java.util.function.Consumer;
import javafx.geometry.Insets;
import javafx.geometry.Pos;
import javafx.scene.Cursor;
import javafx.scene.Node;
import javafx.scene.control.Button;
import javafx.scene.control.Label;
import javafx.scene.control.Tooltip;
import javafx.scene.input.MouseEvent;
import javafx.scene.layout.Background;
import javafx.scene.layout.BackgroundFill;
import javafx.scene.layout.Border;
import javafx.scene.layout.BorderStroke;
import javafx.scene.layout.BorderStrokeStyle;
import javafx.scene.layout.BorderWidths;
import javafx.scene.layout.CornerRadii;
import javafx.scene.layout.HBox;
import javafx.scene.layout.Priority;
import javafx.scene.layout.Region;
import javafx.scene.layout.VBox;
import javafx.scene.paint.Color;
import javafx.scene.shape.Rectangle;
import javafx.scene.text.Font;
import javafx.scene.text.FontWeight;

/**
 * One library card: colour swatch, name, head count, the first few heads, and while the group is loaded a "loaded"
 * badge and a "Swap out" button. The card itself is the drag handle; the diagram attaches the mouse handlers.
 */
final class CardView extends VBox {
    private static final int HEADS_SHOWN = 6;
    private static final CornerRadii ROUND = new CornerRadii(6);

    private final GroupCard card;
    private final Color colour;
    private final Label badge = new Label("loaded");
    private final Button swapOut = new Button("Swap out");

    /**
     * @param colour    the group's colour, for the swatch, badge and frame
     * @param onSwapOut called with the card's name when the user presses "Swap out"
     */
    CardView(GroupCard card, Color colour, Consumer<String> onSwapOut) {
        this.card = card;
        this.colour = colour;
        Rectangle swatch = new Rectangle(12, 12, colour);
        swatch.setArcWidth(4);
        swatch.setArcHeight(4);
        Label name = new Label(card.name());
        name.setFont(Font.font(null, FontWeight.BOLD, 13));
        badge.setBackground(new Background(new BackgroundFill(colour, new CornerRadii(8), Insets.EMPTY)));
        badge.setTextFill(luminance(colour) > 0.55 ? Color.web("#222222") : Color.WHITE);
        badge.setPadding(new Insets(0, 6, 0, 6));
        Region spacer = new Region();
        HBox.setHgrow(spacer, Priority.ALWAYS);
        HBox title = new HBox(6, swatch, name, spacer, badge);
        title.setAlignment(Pos.CENTER_LEFT);

        int size = card.heads().size();
        Label count = new Label(size + (size == 1 ? " head" : " heads"));
        count.setTextFill(Color.web("#555555"));
        Label heads = new Label(Abbreviate.firstFew(card.heads().heads(), HEADS_SHOWN));
        heads.setWrapText(true);
        heads.setFont(Font.font("Monospaced", 11));
        heads.setTooltip(new Tooltip(Abbreviate.firstFew(card.heads().heads(), 64)));

        swapOut.setOnAction(e -> onSwapOut.accept(card.name()));

        getChildren().addAll(title, count, heads, swapOut);
        setSpacing(3);
        setPadding(new Insets(8));
        setBackground(new Background(new BackgroundFill(Color.WHITE, ROUND, Insets.EMPTY)));
        setCursor(Cursor.OPEN_HAND);
        setAccessibleText(card.name() + ", " + count.getText());
        setLoaded(false);
    }

    GroupCard card() {
        return card;
    }

    /** Shows or hides the "loaded" badge and the "Swap out" button, and frames a loaded card in its colour. */
    void setLoaded(boolean loaded) {
        badge.setVisible(loaded);
        swapOut.setVisible(loaded);
        swapOut.setManaged(loaded);
        setBorder(new Border(new BorderStroke(loaded ? colour : Color.web("#c8c8c8"), BorderStrokeStyle.SOLID, ROUND,
                new BorderWidths(loaded ? 2 : 1))));
    }

    /** Whether a press lands on the card itself (a drag may start) rather than on its "Swap out" button. */
    boolean isDragHandle(MouseEvent e) {
        for (Node n = e.getPickResult().getIntersectedNode(); n != null && n != this; n = n.getParent()) {
            if (n == swapOut) {
                return false;
            }
        }
        return true;
    }

    /** Whether the card shows its group as loaded. */
    boolean isLoaded() {
        return badge.isVisible();
    }

    private static double luminance(Color c) {
        return 0.2126 * c.getRed() + 0.7152 * c.getGreen() + 0.0722 * c.getBlue();
    }
}
