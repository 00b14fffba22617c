package dev.scalpel.app.ui;

import dev.scalpel.app.ScalpelHome;
import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.icons.Glyph;
import dev.scalpel.views.charts.TradeoffChart;
import dev.scalpel.views.common.GlyphNodes;
import java.io.File;
import java.nio.file.Path;
import javafx.beans.property.ReadOnlyStringProperty;
import javafx.beans.property.ReadOnlyStringWrapper;
import javafx.geometry.Insets;
import javafx.scene.control.Button;
import javafx.scene.control.Label;
import javafx.scene.control.Separator;
import javafx.scene.control.ToolBar;
import javafx.scene.layout.BorderPane;
import javafx.scene.paint.Color;
import javafx.stage.FileChooser;
import javafx.stage.Window;

/**
 * The Trade-off tab: target removed against retain damage per method and token budget, from a {@code scalpel demo}
 * results.csv — the repository's sample run (docs/demo-sample) when it is found, or any file the user opens.
 */
final class TradeoffPane extends BorderPane {
    private final TradeoffChart chart = new TradeoffChart();
    private final Label source = new Label("no results shown: run  scalpel demo --out DIR  and open DIR/results.csv");
    private final ReadOnlyStringWrapper status = new ReadOnlyStringWrapper(this, "status", "");
    private final Window owner;

    TradeoffPane(Window owner) {
        this.owner = owner;
        chart.setId("tradeoff");
        Button open = new Button("Open results.csv…", GlyphNodes.of(Glyph.OPEN, 16, Color.web("#333")));
        open.setOnAction(e -> choose());
        setTop(new ToolBar(open, new Separator(), source));
        setCenter(chart);
        BorderPane.setMargin(chart, new Insets(8));
        Path sample = ScalpelHome.find(Path.of("docs", "demo-sample", "results.csv"));
        if (sample != null) {
            show(sample);
        }
    }

    ReadOnlyStringProperty statusProperty() {
        return status.getReadOnlyProperty();
    }

    /** Shows {@code csv}; a malformed file becomes the status line and leaves the chart as it was. */
    void show(Path csv) {
        try {
            chart.show(TradeoffChart.readCsv(csv), TradeoffChart.DEMO_TARGET, TradeoffChart.DEMO_RETAIN);
            source.setText(csv.toString());
            status.set("showing the trade-off from " + csv);
        } catch (ScalpelException e) {
            status.set("cannot show " + csv + ": " + e.getMessage());
        }
    }

    private void choose() {
        FileChooser chooser = new FileChooser();
        chooser.setTitle("Open the results.csv of scalpel demo");
        chooser.getExtensionFilters().add(new FileChooser.ExtensionFilter("Demo results", "*.csv"));
        File file = chooser.showOpenDialog(owner);
        if (file != null) {
            show(file.toPath());
        }
    }
}
