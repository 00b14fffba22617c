package dev.scalpel.views.compare;

import java.util.List;
import java.util.Locale;
import javafx.beans.property.StringProperty;
import javafx.geometry.Pos;
import javafx.scene.control.Label;
import javafx.scene.control.ScrollPane;
import javafx.scene.layout.HBox;
import javafx.scene.layout.Priority;
import javafx.scene.layout.VBox;

/**
 * One side of the A/B panel: a header (title and a subtitle such as "live · step 12"), the tokens in a scroll pane,
 * and a footer with the mean loss over the scored tokens.
 */
final class TokenColumn extends VBox {
    private final Label subtitle = new Label();
    private final TokenFlow flow = new TokenFlow();
    private final Label mean = new Label();
    private List<ScoredToken> tokens = List.of();

    TokenColumn(String title, String id) {
        setId(id);
        Label heading = new Label(title);
        heading.setStyle("-fx-font-size: 14px; -fx-font-weight: bold;");
        subtitle.setStyle("-fx-text-fill: #666666;");
        HBox header = new HBox(10, heading, subtitle);
        header.setAlignment(Pos.BASELINE_LEFT);
        ScrollPane scroll = new ScrollPane(flow);
        scroll.setFitToWidth(true);
        scroll.setHbarPolicy(ScrollPane.ScrollBarPolicy.NEVER);
        scroll.setStyle("-fx-background: white; -fx-border-color: #dddddd;");
        VBox.setVgrow(scroll, Priority.ALWAYS);
        mean.setStyle("-fx-text-fill: #444444;");
        mean.setId(id + "-mean");
        getChildren().addAll(header, scroll, mean);
        setSpacing(6);
        setMinWidth(0);
    }

    StringProperty subtitleProperty() {
        return subtitle.textProperty();
    }

    List<ScoredToken> tokens() {
        return tokens;
    }

    /** Shows new tokens coloured by {@code scale} and updates the mean-loss footer. */
    void show(List<ScoredToken> tokens, LossScale scale) {
        this.tokens = List.copyOf(tokens);
        flow.show(this.tokens, scale);
        mean.setText(meanText(this.tokens));
    }

    TokenFlow flow() {
        return flow;
    }

    Label meanLabel() {
        return mean;
    }

    /** "mean CE 4.62 nats over 37 tokens", or what to do when nothing was scored. */
    static String meanText(List<ScoredToken> tokens) {
        double[] losses = tokens.stream().filter(ScoredToken::scored).mapToDouble(ScoredToken::loss).toArray();
        if (losses.length == 0) {
            return tokens.isEmpty() ? "" : "no token scored: give a reference text to see losses";
        }
        double sum = 0;
        for (double loss : losses) {
            sum += loss;
        }
        return String.format(Locale.ROOT, "mean CE %.2f nats over %d token%s", sum / losses.length, losses.length,
                losses.length == 1 ? "" : "s");
    }
}
