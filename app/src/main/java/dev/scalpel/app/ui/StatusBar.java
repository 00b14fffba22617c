package dev.scalpel.app.ui;

import java.util.Locale;
import javafx.animation.KeyFrame;
import javafx.animation.Timeline;
import javafx.beans.value.ObservableValue;
import javafx.geometry.Insets;
import javafx.scene.control.Label;
import javafx.scene.layout.HBox;
import javafx.scene.layout.Priority;
import javafx.util.Duration;
import dev.scalpel.engine.model.NativeRuntime;

/**
 * The bottom line: the latest status message, the head marks, and the machine: device, torch threads, resident memory
 * (native tensors included) and Java heap, refreshed every two seconds.
 */
final class StatusBar extends HBox {
    private final Label message = new Label();
    private final Label marks = new Label();
    private final Label machine = new Label();
    private final Timeline refresh = new Timeline(new KeyFrame(Duration.seconds(2), e -> refreshMachine()));
    private String device = "cpu";

    StatusBar() {
        super(18);
        setPadding(new Insets(4, 10, 4, 10));
        setStyle("-fx-background-color: #f1f3f4; -fx-border-color: #dadce0; -fx-border-width: 1 0 0 0;");
        message.setId("status");
        machine.setId("machine");
        message.setMaxWidth(Double.MAX_VALUE);
        HBox.setHgrow(message, Priority.ALWAYS);
        getChildren().addAll(message, marks, machine);
        refresh.setCycleCount(Timeline.INDEFINITE);
        refresh.play();
        refreshMachine();
    }

    /** Shows the latest of {@code text}'s values. */
    void follow(ObservableValue<String> text) {
        message.textProperty().unbind();
        message.textProperty().bind(text);
    }

    void showMarks(long train, long freeze) {
        marks.setText(String.format(Locale.ROOT, "train %d · freeze %d", train, freeze));
    }

    void showDevice(String device) {
        this.device = device;
        refreshMachine();
    }

    private void refreshMachine() {
        Runtime rt = Runtime.getRuntime();
        machine.setText(String.format(Locale.ROOT, "%s · %d threads · RSS %,d MiB · heap %,d / %,d MiB", device,
                NativeRuntime.threads(), NativeRuntime.residentBytes() >> 20,
                (rt.totalMemory() - rt.freeMemory()) >> 20, rt.maxMemory() >> 20));
    }

    void stop() {
        refresh.stop();
    }
}
