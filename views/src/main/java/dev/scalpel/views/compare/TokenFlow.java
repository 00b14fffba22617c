package dev.scalpel.views.compare;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javafx.geometry.Insets;
import javafx.scene.Group;
import javafx.scene.control.Tooltip;
import javafx.scene.layout.Region;
import javafx.scene.paint.Color;
import javafx.scene.shape.Path;
import javafx.scene.text.Text;
import javafx.scene.text.TextFlow;

/**
 * Tokens as wrapped text, one {@link Text} per token with its whitespace and newlines as they are, each scored token on
 * a background of its loss colour. The backgrounds are the token's range shapes in the laid-out {@link TextFlow}
 * (one rectangle per line the token spans), rebuilt whenever the text is laid out again.
 */
final class TokenFlow extends Region {
    private static final Color SEPARATOR = Color.WHITE;

    private final TextFlow flow = new TextFlow();
    private final Group highlights = new Group();
    private List<ScoredToken> tokens = List.of();
    private List<Color> fills = List.of();
    private double highlightedWidth = -1;

    TokenFlow() {
        highlights.setManaged(false);
        highlights.setMouseTransparent(true);
        flow.setLineSpacing(3);
        setPadding(new Insets(8));
        getChildren().addAll(highlights, flow);
    }

    /** Shows {@code tokens}, colouring scored ones by {@code scale}. */
    void show(List<ScoredToken> tokens, LossScale scale) {
        this.tokens = List.copyOf(tokens);
        List<Text> texts = new ArrayList<>(tokens.size());
        List<Color> colours = new ArrayList<>(tokens.size());
        for (ScoredToken token : tokens) {
            Text text = new Text(token.text());
            text.getStyleClass().add("token");
            if (token.scored()) {
                Tooltip.install(text, new Tooltip(String.format(Locale.ROOT, "%s  %.2f nats", token.text().strip(), token.loss())));
            }
            texts.add(text);
            colours.add(token.scored() ? scale.colour(token.loss()) : null);
        }
        fills = colours;
        flow.getChildren().setAll(texts);
        highlightedWidth = -1;
        requestLayout();
    }

    List<Text> texts() {
        return flow.getChildren().stream().map(Text.class::cast).toList();
    }

    /** The background colour of token {@code index}, or null when it is unscored. */
    Color fill(int index) {
        return fills.get(index);
    }

    /** The background shapes drawn (one per scored, non-empty token). */
    List<Path> highlightShapes() {
        return highlights.getChildren().stream().map(Path.class::cast).toList();
    }

    @Override
    protected double computePrefWidth(double height) {
        return snappedLeftInset() + flow.prefWidth(height) + snappedRightInset();
    }

    @Override
    protected double computePrefHeight(double width) {
        double inner = width < 0 ? -1 : width - snappedLeftInset() - snappedRightInset();
        return snappedTopInset() + flow.prefHeight(inner) + snappedBottomInset();
    }

    @Override
    protected double computeMinHeight(double width) {
        return computePrefHeight(width);
    }

    @Override
    protected void layoutChildren() {
        double width = getWidth() - snappedLeftInset() - snappedRightInset();
        flow.resizeRelocate(snappedLeftInset(), snappedTopInset(), width, flow.prefHeight(width));
        flow.layout();
        highlights.setLayoutX(snappedLeftInset()); // the shapes are in the flow's coordinates
        highlights.setLayoutY(snappedTopInset());
        if (width != highlightedWidth) {
            highlightedWidth = width;
            drawHighlights();
        }
    }

    private void drawHighlights() {
        List<Path> shapes = new ArrayList<>();
        int offset = 0;
        for (int i = 0; i < tokens.size(); i++) {
            int length = tokens.get(i).text().length();
            if (fills.get(i) != null && length > 0) {
                Path shape = new Path(flow.rangeShape(offset, offset + length));
                shape.setFill(fills.get(i));
                shape.setStroke(SEPARATOR);
                shape.setStrokeWidth(0.5);
                shapes.add(shape);
            }
            offset += length;
        }
        highlights.getChildren().setAll(shapes);
    }
}
