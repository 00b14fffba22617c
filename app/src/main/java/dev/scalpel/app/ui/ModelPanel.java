package dev.scalpel.app.ui;

import dev.scalpel.engine.api.HeadSet;
import dev.scalpel.engine.api.ModelSummary;
import dev.scalpel.engine.edit.Edit;
import java.util.Locale;
import java.util.Map;
import javafx.collections.MapChangeListener;
import javafx.geometry.Insets;
import javafx.scene.control.Button;
import javafx.scene.control.Label;
import javafx.scene.control.ListCell;
import javafx.scene.control.ListView;
import javafx.scene.control.Tooltip;
import javafx.scene.layout.GridPane;
import javafx.scene.layout.Priority;
import javafx.scene.layout.VBox;

/**
 * The left column: the open model's facts, the stack of active edits (select one and remove it; undo brings it back)
 * and the head groups swapped in.
 */
final class ModelPanel extends VBox {

    ModelPanel(Session session) {
        super(8);
        setPadding(new Insets(10));
        setPrefWidth(300);
        setMinWidth(240);

        ListView<Edit> edits = new ListView<>(session.edits());
        edits.setId("edits");
        edits.setPlaceholder(new Label("no edits: the base model"));
        edits.setCellFactory(list -> new ListCell<>() {
            @Override
            protected void updateItem(Edit edit, boolean empty) {
                super.updateItem(edit, empty);
                setText(empty || edit == null ? null : edit.describe());
                setTooltip(empty || edit == null ? null : new Tooltip(edit.describe()));
            }
        });
        edits.setPrefHeight(150);
        Button remove = new Button("Remove edit");
        remove.setId("removeEdit");
        remove.disableProperty().bind(edits.getSelectionModel().selectedItemProperty().isNull());
        remove.setOnAction(e -> session.removeEdit(edits.getSelectionModel().getSelectedItem()));

        ListView<String> groups = new ListView<>();
        groups.setId("loadedGroups");
        groups.setPlaceholder(new Label("no head groups swapped in"));
        groups.setPrefHeight(110);
        session.loadedGroups().addListener((MapChangeListener<String, HeadSet>) c -> showGroups(groups, session.loadedGroups()));
        showGroups(groups, session.loadedGroups());

        VBox.setVgrow(edits, Priority.ALWAYS);
        getChildren().addAll(heading("Model"), facts(session), heading("Edit stack"), edits, remove,
                heading("Head groups swapped in"), groups);
    }

    private static void showGroups(ListView<String> list, Map<String, HeadSet> loaded) {
        list.getItems().setAll(loaded.entrySet().stream().map(e -> e.getKey() + "  " + e.getValue()).toList());
    }

    private static Label heading(String text) {
        Label l = new Label(text);
        l.setStyle("-fx-font-weight: bold; -fx-font-size: 13px;");
        return l;
    }

    private static GridPane facts(Session session) {
        ModelSummary s = session.summary();
        GridPane grid = new GridPane();
        grid.setId("facts");
        grid.setHgap(10);
        grid.setVgap(3);
        String[][] rows = {
                {"folder", session.modelDir().getFileName().toString()},
                {"architecture", s.architecture()},
                {s.headGridRuns().isEmpty() ? "layers × heads" : "layers × attn heads",
                        s.layers() + " × " + s.heads() + (s.kvHeads() != s.heads() ? " (kv " + s.kvHeads() + ")" : "")},
                {"head_dim · hidden", s.headDim() + " · " + s.hiddenSize()},
                {"layer types", s.layerTypeRuns().isEmpty() ? "all full attention" : s.layerTypeRuns()},
                {"heads per layer", s.headGridRuns().isEmpty() ? "all " + s.heads() + " of " + s.headDim() : s.headGridRuns()},
                {"vocabulary", String.format(Locale.ROOT, "%,d (ln V = %.3f)", s.vocabSize(), session.uniformCe())},
                {"context", String.format(Locale.ROOT, "%,d", s.maxPositions())},
                {"parameters", String.format(Locale.ROOT, "%,d", s.parameters())},
                {"dtype", s.dtype()},
                {"hash", session.modelHash().substring(0, 12)}};
        for (int i = 0; i < rows.length; i++) {
            Label key = new Label(rows[i][0]);
            key.setStyle("-fx-text-fill: #666666;");
            key.setMinWidth(javafx.scene.control.Control.USE_PREF_SIZE);
            Label value = new Label(rows[i][1]);
            value.setTooltip(new Tooltip(i == 0 ? session.modelDir().toString() : rows[i][1]));
            grid.addRow(i, key, value);
        }
        return grid;
    }
}
