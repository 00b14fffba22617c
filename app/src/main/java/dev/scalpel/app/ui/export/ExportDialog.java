package dev.scalpel.app.ui.export;

import dev.scalpel.engine.model.safetensors.DType;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import javafx.beans.binding.BooleanBinding;
import javafx.collections.FXCollections;
import javafx.geometry.Insets;
import javafx.scene.Node;
import javafx.scene.control.Button;
import javafx.scene.control.ButtonType;
import javafx.scene.control.CheckBox;
import javafx.scene.control.ComboBox;
import javafx.scene.control.Dialog;
import javafx.scene.control.Label;
import javafx.scene.control.ProgressIndicator;
import javafx.scene.control.TextField;
import javafx.scene.layout.ColumnConstraints;
import javafx.scene.layout.GridPane;
import javafx.scene.layout.HBox;
import javafx.scene.layout.Priority;
import javafx.scene.layout.Region;
import javafx.stage.DirectoryChooser;
import javafx.stage.FileChooser;
import javafx.stage.Window;

/**
 * File ▸ Export: format (HF merged checkpoint, PEFT adapter, head group, edits file), the dtype of an HF export, the
 * name of a head group, the destination (typed, or chosen with a folder or file chooser), what will be written, the
 * problem line and the Export button, which stays disabled while there is a problem. The export runs as a job; the
 * dialog may be closed meanwhile. Ids: #format, #dtype, #groupName, #destination, #browse, #summary, #problem,
 * #export, #busy, #status.
 */
public final class ExportDialog extends Dialog<Void> {
    private final ExportViewModel vm;

    /** @param owner the workbench window, or null */
    public ExportDialog(ExportViewModel vm, Window owner) {
        this.vm = vm;
        setTitle("Export");
        if (owner != null) {
            initOwner(owner);
        }
        ComboBox<ExportFormat> format = new ComboBox<>(FXCollections.observableArrayList(ExportFormat.values()));
        format.setId("format");
        format.valueProperty().bindBidirectional(vm.formatProperty());

        ComboBox<DType> dtype = new ComboBox<>(FXCollections.observableArrayList(ExportViewModel.DTYPES));
        dtype.setId("dtype");
        dtype.valueProperty().bindBidirectional(vm.dtypeProperty());

        TextField groupName = new TextField();
        groupName.setId("name");
        groupName.setPromptText("e.g. code/rust");
        groupName.textProperty().bindBidirectional(vm.groupNameProperty());

        TextField destination = new TextField();
        destination.setId("out");
        destination.setPromptText("a new or empty folder, or NAME.json");
        destination.textProperty().bindBidirectional(vm.destinationProperty());
        Button browse = new Button("Browse…");
        browse.setId("browse");
        browse.setOnAction(e -> browse());
        HBox.setHgrow(destination, Priority.ALWAYS);

        Label summary = wrapping("summary");
        summary.textProperty().bind(vm.summaryProperty());
        Label problem = wrapping("problem");
        problem.setStyle("-fx-text-fill: #b00020;");
        problem.textProperty().bind(vm.problemProperty());
        Label status = wrapping("status");
        status.textProperty().bind(vm.statusProperty());

        Button export = new Button("Export");
        export.setId("export");
        export.setDefaultButton(true);
        export.setMinWidth(Region.USE_PREF_SIZE);
        export.disableProperty().bind(vm.canExportProperty().not());
        export.setOnAction(e -> vm.export());
        ProgressIndicator busy = new ProgressIndicator();
        busy.setId("busy");
        busy.setPrefSize(18, 18);
        busy.visibleProperty().bind(vm.busyProperty());

        GridPane form = new GridPane();
        form.setHgap(8);
        form.setVgap(8);
        form.setPadding(new Insets(12));
        ColumnConstraints grow = new ColumnConstraints();
        grow.setHgrow(Priority.ALWAYS);
        form.getColumnConstraints().addAll(new ColumnConstraints(), grow);
        int row = 0;
        form.addRow(row++, new Label("Format"), format);
        Label dtypeLabel = new Label("Dtype");
        form.addRow(row++, dtypeLabel, dtype);
        Label nameLabel = new Label("Group name");
        form.addRow(row++, nameLabel, groupName);
        Label headsLabel = new Label("Heads");
        Label heads = new Label();
        heads.setId("heads");
        heads.textProperty().bind(vm.headsProperty());
        form.addRow(row++, headsLabel, heads);
        CheckBox allowNonFinite = new CheckBox("write NaN / Inf values (refused otherwise)");
        allowNonFinite.setId("allowNonFinite");
        allowNonFinite.selectedProperty().bindBidirectional(vm.allowNonFiniteProperty());
        form.addRow(row++, new Label("Non-finite"), allowNonFinite);
        form.addRow(row++, new Label("Destination"), new HBox(6, destination, browse));
        form.add(summary, 0, row++, 2, 1);
        form.add(problem, 0, row++, 2, 1);
        form.addRow(row, new HBox(8, export, busy), status);
        showOnlyFor(ExportFormat.HF_CHECKPOINT, dtypeLabel, dtype);
        showOnlyFor(ExportFormat.HEAD_GROUP, nameLabel, groupName, headsLabel, heads);

        getDialogPane().setContent(form);
        getDialogPane().setPrefWidth(620);
        getDialogPane().getButtonTypes().add(ButtonType.CLOSE);
    }

    private static Label wrapping(String id) {
        Label label = new Label();
        label.setId(id);
        label.setWrapText(true);
        label.setMaxWidth(Double.MAX_VALUE);
        return label;
    }

    private void showOnlyFor(ExportFormat format, Node... nodes) {
        BooleanBinding shown = vm.formatProperty().isEqualTo(format);
        for (Node n : nodes) {
            n.visibleProperty().bind(shown);
            n.managedProperty().bind(shown);
        }
    }

    /** A folder chooser for HF and PEFT exports, a save-file chooser (*.json) for head groups and edits files. */
    private void browse() {
        Window window = getDialogPane().getScene().getWindow();
        ExportFormat format = vm.formatProperty().get();
        File start = nearestFolder();
        File chosen;
        if (format.toFolder()) {
            DirectoryChooser chooser = new DirectoryChooser();
            chooser.setTitle("Export " + format.label() + " to a new or empty folder");
            chooser.setInitialDirectory(start);
            chosen = chooser.showDialog(window);
        } else {
            FileChooser chooser = new FileChooser();
            chooser.setTitle("Save " + format.label());
            chooser.getExtensionFilters().add(new FileChooser.ExtensionFilter("Scalpel JSON (*.json)", "*.json"));
            String name = format == ExportFormat.HEAD_GROUP && !vm.groupNameProperty().get().isBlank()
                    ? vm.groupNameProperty().get().trim().replaceAll("[^A-Za-z0-9._-]+", "-") : "edits";
            chooser.setInitialFileName(name + ".json");
            chooser.setInitialDirectory(start);
            chosen = chooser.showSaveDialog(window);
        }
        if (chosen != null) {
            vm.destinationProperty().set(chosen.getAbsolutePath());
        }
    }

    /** The destination typed so far, or the nearest folder above it that exists; null when there is none. */
    private File nearestFolder() {
        Path p;
        try {
            p = Path.of(vm.destinationProperty().get().trim()).toAbsolutePath();
        } catch (InvalidPathException e) {
            return null;
        }
        while (p != null && !Files.isDirectory(p)) {
            p = p.getParent();
        }
        return p == null ? null : p.toFile();
    }
}
