package dev.scalpel.app.ui.components;

import dev.scalpel.app.ui.train.NumberField;
import java.io.File;
import javafx.collections.FXCollections;
import javafx.beans.binding.Bindings;
import javafx.beans.property.DoubleProperty;
import javafx.beans.property.IntegerProperty;
import javafx.collections.ObservableMap;
import javafx.geometry.Insets;
import javafx.scene.control.Button;
import javafx.scene.control.ButtonType;
import javafx.scene.control.Dialog;
import javafx.scene.control.Label;
import javafx.scene.control.TextField;
import javafx.scene.layout.GridPane;
import javafx.scene.layout.HBox;
import javafx.scene.layout.Priority;
import javafx.scene.layout.Region;
import javafx.scene.layout.VBox;
import javafx.stage.FileChooser;

/**
 * Components ▸ Decompose…: every setting of {@code scalpel decompose} (each control's id is the spec field's name in
 * camel case), the texts it trains on, Start, and the status and problem lines. The run is a job (progress and live
 * losses in the jobs panel, Cancel there checkpoints); the dialog may be closed meanwhile.
 */
public final class DecomposeDialog extends Dialog<Void> {
    private final DecomposeViewModel vm;
    private final ObservableMap<String, String> fieldErrors = FXCollections.observableHashMap();

    public DecomposeDialog(DecomposeViewModel vm) {
        this.vm = vm;
        setTitle("Decompose");
        TextField modules = new TextField();
        modules.setId("modules");
        modules.setPrefColumnCount(24);
        modules.textProperty().bindBidirectional(vm.modulesProperty());
        TextField out = new TextField();
        out.setId("out");
        out.setPromptText("NAME.safetensors");
        out.textProperty().bindBidirectional(vm.outProperty());
        Button browse = new Button("Browse…");
        browse.setOnAction(e -> browse());
        HBox.setHgrow(out, Priority.ALWAYS);

        GridPane grid = new GridPane();
        grid.setHgap(8);
        grid.setVgap(6);
        int row = 0;
        grid.addRow(row++, new Label("Matrices"), modules, new Label("Subcomponents"), whole("components", "Subcomponents", vm.componentsProperty()));
        grid.addRow(row++, new Label("Steps"), whole("steps", "Steps", vm.stepsProperty()),
                new Label("Warm-up steps"), whole("warmupSteps", "Warm-up steps", vm.warmupStepsProperty()));
        grid.addRow(row++, new Label("Batch"), whole("batchSize", "Batch", vm.batchSizeProperty()),
                new Label("Context"), whole("context", "Context", vm.contextProperty()));
        grid.addRow(row++, new Label("Learning rate"), decimal("lr", "Learning rate", vm.lrProperty()),
                new Label("Seed"), NumberField.of("seed", "Seed", "a whole number", vm.seedProperty(), Long::valueOf, fieldErrors));
        grid.addRow(row++, new Label("CI hidden width"), whole("ciHidden", "CI hidden width", vm.ciHiddenProperty()),
                new Label("Final p"), decimal("pFinal", "Final p", vm.pFinalProperty()));
        grid.addRow(row++, new Label("Minimality weight"), decimal("importanceCoeff", "Minimality weight", vm.importanceCoeffProperty()),
                new Label("Faithfulness weight"), decimal("faithfulnessCoeff", "Faithfulness weight", vm.faithfulnessCoeffProperty()));
        grid.addRow(row++, new Label("Checkpoint every"), whole("checkpointEvery", "Checkpoint every", vm.checkpointEveryProperty()));
        grid.addRow(row, new Label("Write to"), new HBox(6, out, browse));
        GridPane.setColumnSpan(grid.getChildren().get(grid.getChildren().size() - 1), 3);

        grid.getChildren().forEach(n -> {
            if (n instanceof Label label) {
                label.setMinWidth(Region.USE_PREF_SIZE);                                       // names in full, not "Minimality wei…"
            }
        });
        Label texts = new Label("Trains on " + vm.trainingTexts() + ".");
        texts.setWrapText(true);
        Label problem = new Label();
        problem.setId("problem");
        problem.setWrapText(true);
        problem.setStyle("-fx-text-fill: #b00020;");
        problem.textProperty().bind(Bindings.createStringBinding(() -> fieldErrors.isEmpty() ? vm.problemProperty().get()
                : String.join(" ", fieldErrors.values()), fieldErrors, vm.problemProperty()));
        Label status = new Label();
        status.setId("status");
        status.setWrapText(true);
        status.textProperty().bind(vm.statusProperty());
        Button start = new Button("Start");
        start.setId("start");
        start.setDefaultButton(true);
        start.disableProperty().bind(vm.busyProperty().or(Bindings.isNotEmpty(fieldErrors)));
        start.setOnAction(e -> vm.start());

        VBox content = new VBox(10, grid, texts, new HBox(8, start), status, problem);
        content.setPadding(new Insets(12));
        content.setPrefWidth(720);
        getDialogPane().setContent(content);
        getDialogPane().getButtonTypes().add(ButtonType.CLOSE);
    }

    private TextField whole(String id, String label, IntegerProperty property) {
        return NumberField.of(id, label, "a whole number", property, Integer::valueOf, fieldErrors);
    }

    private TextField decimal(String id, String label, DoubleProperty property) {
        return NumberField.of(id, label, "a number", property, Double::valueOf, fieldErrors);
    }

    private void browse() {
        FileChooser chooser = new FileChooser();
        chooser.setTitle("Write the decomposition to");
        chooser.getExtensionFilters().add(new FileChooser.ExtensionFilter("Decomposition", "*.safetensors"));
        File file = chooser.showSaveDialog(getOwner());
        if (file != null) {
            vm.outProperty().set(file.toPath().toString());
        }
    }
}
