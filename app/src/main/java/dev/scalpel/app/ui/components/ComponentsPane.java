package dev.scalpel.app.ui.components;

import dev.scalpel.app.ui.Session.ComponentChoice;
import java.util.List;
import java.util.Locale;
import java.util.function.ToDoubleFunction;
import javafx.beans.binding.Bindings;
import javafx.beans.property.ReadOnlyObjectProperty;
import javafx.beans.property.ReadOnlyObjectWrapper;
import javafx.collections.transformation.SortedList;
import javafx.geometry.Insets;
import javafx.geometry.Pos;
import javafx.scene.control.Button;
import javafx.scene.control.ComboBox;
import javafx.scene.control.Label;
import javafx.scene.control.ListView;
import javafx.scene.control.SelectionMode;
import javafx.scene.control.Spinner;
import javafx.scene.control.SpinnerValueFactory;
import javafx.scene.control.TableCell;
import javafx.scene.control.TableColumn;
import javafx.scene.control.TableView;
import javafx.scene.control.Tooltip;
import javafx.stage.FileChooser;
import java.io.File;
import javafx.scene.layout.Background;
import javafx.scene.layout.BackgroundFill;
import javafx.scene.layout.BorderPane;
import javafx.scene.layout.FlowPane;
import javafx.scene.layout.HBox;
import javafx.scene.layout.Priority;
import javafx.scene.layout.Region;
import javafx.scene.layout.VBox;
import javafx.scene.paint.Color;

/**
 * The Components view: choose a weight matrix, a rank and two texts, compute, and read the components as a table
 * (σ, removal ΔCE on target and retain, and their contrast as a signed bar); "Use for prefactor run" hands the
 * selected component to the training view, "Inspect" lists where it fires. All state lives in
 * {@link ComponentsViewModel}; this class only lays it out and binds it.
 */
public final class ComponentsPane extends BorderPane {
    private static final Color POSITIVE = Color.web("#c0392b");
    private static final Color NEGATIVE = Color.web("#2e86c1");
    private static final double BAR_WIDTH = 60;

    private final ComponentsViewModel model;
    private final TableView<ComponentRow> table = new TableView<>();

    public ComponentsPane(ComponentsViewModel model) {
        this.model = model;
        setTop(controls());
        setCenter(table());
        setBottom(details(model.chosenProperty()));
        setPadding(new Insets(8));
    }

    /** Module, rank, target, retain and Compute in one row. */
    private FlowPane controls() {
        ComboBox<String> module = new ComboBox<>(model.modules());
        module.setId("components");   // the spec's field: which matrix
        module.valueProperty().bindBidirectional(model.moduleProperty());
        Spinner<Integer> rank = new Spinner<>();
        rank.setId("rank");
        var rankValues = new SpinnerValueFactory.IntegerSpinnerValueFactory(1, Math.max(1, model.maxRankProperty().get()),
                ComponentsViewModel.DEFAULT_RANK);
        rankValues.maxProperty().bind(Bindings.max(1, model.maxRankProperty()));
        rank.setValueFactory(rankValues);
        rank.getValueFactory().valueProperty().bindBidirectional(model.rankProperty());
        rank.setEditable(true);
        rank.setPrefWidth(80);
        rank.disableProperty().bind(model.spdProperty().isNotNull());
        Button spd = new Button();
        spd.setId("spd");
        spd.textProperty().bind(Bindings.createStringBinding(() -> model.spdProperty().get() == null ? "SVD"
                : model.spdProperty().get().getFileName().toString(), model.spdProperty()));
        spd.setTooltip(new Tooltip("Where the components come from: the matrix's SVD, or a decomposition file "
                + "(scalpel decompose, or SPD); click to choose a file, or to go back to the SVD"));
        spd.setOnAction(e -> chooseDecomposition());
        ComboBox<String> target = new ComboBox<>(model.texts());
        target.setId("target");
        target.valueProperty().bindBidirectional(model.targetProperty());
        ComboBox<String> retain = new ComboBox<>(model.texts());
        retain.setId("retain");
        retain.valueProperty().bindBidirectional(model.retainProperty());
        Button compute = new Button("Compute");
        compute.setId("computeComponents");
        compute.setDefaultButton(true);
        compute.disableProperty().bind(model.busyProperty());
        compute.setOnAction(e -> model.compute());
        Button decompose = new Button("Decompose…");
        decompose.setId("decompose");
        decompose.setTooltip(new Tooltip("Train a parameter decomposition (SPD) of the module: subcomponents with causal importances"));
        decompose.setOnAction(e -> {
            DecomposeDialog dialog = new DecomposeDialog(model.decomposer());
            if (getScene() != null) {
                dialog.initOwner(getScene().getWindow());
            }
            dialog.show();
        });
        FlowPane row = new FlowPane(6, 6, new Label("Module"), module, new Label("Rank"), rank, new Label("From"), spd, decompose,
                new Label("Target"), target, new Label("Retain"), retain, compute);   // wraps rather than cutting labels short
        row.getChildren().forEach(n -> {
            if (n instanceof Region r) {
                r.setMinWidth(Region.USE_PREF_SIZE);
            }
        });
        row.setAlignment(Pos.CENTER_LEFT);
        row.setPadding(new Insets(0, 0, 8, 0));
        return row;
    }

    /** From ▸ a file chooser for a decomposition; with one chosen already, back to the SVD. */
    private void chooseDecomposition() {
        if (model.spdProperty().get() != null) {
            model.spdProperty().set(null);
            return;
        }
        FileChooser chooser = new FileChooser();
        chooser.setTitle("Components from a decomposition (scalpel decompose, or SPD)");
        chooser.getExtensionFilters().add(new FileChooser.ExtensionFilter("Decomposition", "*.safetensors"));
        File file = chooser.showOpenDialog(getScene() == null ? null : getScene().getWindow());
        if (file != null) {
            model.spdProperty().set(file.toPath());
        }
    }

    /** The scored components, sortable by any column (the view model keeps them by contrast). */
    private VBox table() {
        table.setId("componentTable");
        table.getSelectionModel().setSelectionMode(SelectionMode.MULTIPLE);
        SortedList<ComponentRow> sorted = new SortedList<>(model.rows());
        sorted.comparatorProperty().bind(table.comparatorProperty());
        table.setItems(sorted);
        table.setColumnResizePolicy(TableView.CONSTRAINED_RESIZE_POLICY_FLEX_LAST_COLUMN);
        table.setPlaceholder(new Label("Compute to score the module's components."));
        TableColumn<ComponentRow, Number> index = column("#", r -> r.index(), "%.0f");
        index.setMaxWidth(60);
        TableColumn<ComponentRow, Number> sigma = column("σ", ComponentRow::singularValue, "%.3f");
        TableColumn<ComponentRow, Number> targetDelta = column("ΔCE target", ComponentRow::targetDelta, "%+.5f");
        TableColumn<ComponentRow, Number> retainDelta = column("ΔCE retain", ComponentRow::retainDelta, "%+.5f");
        TableColumn<ComponentRow, Number> contrast = column("contrast", ComponentRow::contrast, "%+.5f");
        contrast.setCellFactory(c -> new ContrastCell());
        TableColumn<ComponentRow, Number> gradient = column("∂CE/∂s target", ComponentRow::gradient, "%+.5f");
        TableColumn<ComponentRow, Number> ciTarget = column("CI target", ComponentRow::targetImportance, "%.4f");
        TableColumn<ComponentRow, Number> ciRetain = column("CI retain", ComponentRow::retainImportance, "%.4f");
        // mean causal importance: only a decomposition with CI functions has it
        for (var ci : List.of(ciTarget, ciRetain)) {
            ci.visibleProperty().bind(Bindings.createBooleanBinding(() -> model.rows().stream()
                    .anyMatch(r -> !Double.isNaN(r.targetImportance())), model.rows()));
        }
        table.getColumns().setAll(List.of(index, sigma, targetDelta, retainDelta, contrast, gradient, ciTarget, ciRetain));
        Label shown = new Label();
        shown.textProperty().bind(model.shownProperty());
        VBox box = new VBox(4, shown, table);
        VBox.setVgrow(table, Priority.ALWAYS);
        return box;
    }

    private static TableColumn<ComponentRow, Number> column(String title, ToDoubleFunction<ComponentRow> value, String format) {
        TableColumn<ComponentRow, Number> c = new TableColumn<>(title);
        c.setCellValueFactory(cell -> new ReadOnlyObjectWrapper<>(value.applyAsDouble(cell.getValue())));
        c.setCellFactory(col -> new TableCell<>() {
            @Override
            protected void updateItem(Number item, boolean empty) {
                super.updateItem(item, empty);
                setText(empty || item == null ? null : String.format(Locale.ROOT, format, item.doubleValue()));
            }
        });
        return c;
    }

    /** The contrast as a coloured number with a bar scaled to the largest |contrast| in the table. */
    private final class ContrastCell extends TableCell<ComponentRow, Number> {
        private final Region bar = new Region();
        private final Label number = new Label();
        private final HBox box = new HBox(6, bar, number);

        ContrastCell() {
            box.setAlignment(Pos.CENTER_LEFT);
            bar.setMinHeight(10);
            bar.setMaxHeight(10);
        }

        @Override
        protected void updateItem(Number item, boolean empty) {
            super.updateItem(item, empty);
            if (empty || item == null) {
                setGraphic(null);
                return;
            }
            double v = item.doubleValue();
            double largest = model.rows().stream().mapToDouble(r -> Math.abs(r.contrast())).max().orElse(0);
            double width = largest > 0 ? BAR_WIDTH * Math.abs(v) / largest : 0;
            bar.setMinWidth(width);
            bar.setPrefWidth(width);
            Color colour = v >= 0 ? POSITIVE : NEGATIVE;
            bar.setBackground(new Background(new BackgroundFill(colour, null, null)));
            number.setText(String.format(Locale.ROOT, "%+.5f", v));
            number.setTextFill(colour);
            setGraphic(box);
        }
    }

    /** Use / Inspect, the chosen component, status and problem lines, and the inspection list. */
    private VBox details(ReadOnlyObjectProperty<ComponentChoice> chosen) {
        var selected = table.getSelectionModel().selectedItemProperty();
        Button use = new Button("Use for prefactor run");
        use.setId("useComponent");
        use.disableProperty().bind(selected.isNull());
        use.setTooltip(new Tooltip("One scalar per selected row (Ctrl/Shift-click selects several), trained together"));
        use.setOnAction(e -> model.choose(List.copyOf(table.getSelectionModel().getSelectedItems())));
        Button inspect = new Button("Inspect");
        inspect.setId("inspect");
        inspect.disableProperty().bind(selected.isNull().or(model.busyProperty()));
        inspect.setOnAction(e -> model.inspect(selected.get()));
        Label chosenLabel = new Label();
        chosenLabel.setId("chosenComponent");
        chosenLabel.textProperty().bind(Bindings.createStringBinding(() -> chosen.get() == null
                ? "No component chosen for a prefactor run."
                : "Prefactor run uses " + (chosen.get().indices().size() == 1 ? "component " : "components ")
                        + chosen.get().label() + " of " + chosen.get().module()
                        + " (rank " + chosen.get().rank() + ").", chosen));
        HBox actions = new HBox(6, use, inspect, chosenLabel);
        actions.setAlignment(Pos.CENTER_LEFT);
        Label status = new Label();
        status.setId("componentsStatus");
        status.textProperty().bind(model.statusProperty());
        Label problem = new Label();
        problem.setId("componentsProblem");
        problem.setTextFill(POSITIVE);
        problem.textProperty().bind(model.problemProperty());
        problem.visibleProperty().bind(model.problemProperty().isNotEmpty());
        problem.managedProperty().bind(problem.visibleProperty());
        ListView<String> inspection = new ListView<>(model.inspection());
        inspection.setId("inspection");
        inspection.setPrefHeight(160);
        inspection.setPlaceholder(new Label("Inspect a component to see the tokens where it fires."));
        VBox box = new VBox(6, actions, status, problem, inspection);
        box.setPadding(new Insets(8, 0, 0, 0));
        return box;
    }
}
