package dev.scalpel.app.ui.train;

import dev.scalpel.app.ui.Session;
import dev.scalpel.engine.api.HeadSet;
import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.train.FineTuner;
import java.io.File;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import javafx.beans.binding.Bindings;
import javafx.beans.binding.BooleanBinding;
import javafx.beans.binding.StringBinding;
import javafx.beans.property.DoubleProperty;
import javafx.beans.property.IntegerProperty;
import javafx.collections.FXCollections;
import javafx.collections.ObservableList;
import javafx.collections.ObservableMap;
import javafx.event.ActionEvent;
import javafx.geometry.Insets;
import javafx.scene.Node;
import javafx.scene.control.Button;
import javafx.scene.control.ButtonBar;
import javafx.scene.control.ButtonType;
import javafx.scene.control.ComboBox;
import javafx.scene.control.Dialog;
import javafx.scene.control.Label;
import javafx.scene.control.Separator;
import javafx.scene.control.TextField;
import javafx.scene.layout.ColumnConstraints;
import javafx.scene.layout.GridPane;
import javafx.scene.layout.HBox;
import javafx.scene.layout.VBox;
import javafx.stage.DirectoryChooser;
import javafx.stage.FileChooser;
import javafx.util.StringConverter;

/**
 * Training ▸ Train…: a form over a {@link TrainViewModel} (method, data, objective, optimizer settings), the number of
 * parameters the edit will train, the problem that blocks a launch in red, and a Train button that launches the job
 * and closes the dialog (disabled while there is a problem or a run is going). Controls carry ids ({@code #method},
 * {@code #objective}, {@code #target}, {@code #retain}, {@code #general}, {@code #optimizer}, {@code #lr},
 * {@code #steps}, {@code #rank}, {@code #batchSize}, {@code #context}, {@code #tokenBudget}, {@code #seed},
 * {@code #evalEvery}, {@code #retainWeight}, {@code #generalRatio}, {@code #modules}, {@code #layers},
 * {@code #freezeAbove}, {@code #lrFloor}, {@code #addText}, {@code #heads}, {@code #component}, {@code #parameters},
 * {@code #problem}, {@code #status}, {@code #train}) for tests and scripting.
 */
public final class TrainDialog extends Dialog<ButtonType> {
    /** The button that launches the run. */
    public static final ButtonType TRAIN = new ButtonType("Train", ButtonBar.ButtonData.OK_DONE);
    /** The button that writes the run as a torchrun / accelerate / Slurm job folder instead of training here. */
    public static final ButtonType EXPORT_JOB = new ButtonType("Export as job…", ButtonBar.ButtonData.LEFT);
    private static final double LABEL_WIDTH = 120;
    private static final double CONTROL_WIDTH = 170;
    private static final String ERROR_STYLE = "-fx-text-fill: #c62828;";

    private final TrainViewModel vm;
    /** Field id → why its text is not a number; while any is here, Train stays disabled. */
    private final ObservableMap<String, String> fieldErrors = FXCollections.observableMap(new LinkedHashMap<>());
    private final Label fileStatus = new Label();

    public TrainDialog(TrainViewModel vm) {
        this.vm = vm;
        setTitle("Train an edit");
        setResizable(true);
        StringBinding problemText = Bindings.createStringBinding(
                () -> fieldErrors.isEmpty() ? vm.problem().get() : fieldErrors.values().iterator().next(), fieldErrors, vm.problem());
        VBox form = new VBox(10);
        form.getChildren().addAll(whatToTrain());
        form.getChildren().addAll(new Separator(), data(), new Separator(), settings(), new Separator());
        form.getChildren().addAll(outlook(problemText));
        form.setPadding(new Insets(12));
        getDialogPane().setContent(form);
        getDialogPane().getButtonTypes().addAll(EXPORT_JOB, TRAIN, ButtonType.CANCEL);
        // each method shows its own rows: refit the window so the buttons stay in view
        vm.method().addListener(o -> javafx.application.Platform.runLater(() -> {
            if (getDialogPane().getScene() != null && getDialogPane().getScene().getWindow() != null) {
                getDialogPane().getScene().getWindow().sizeToScene();
            }
        }));

        Button train = (Button) getDialogPane().lookupButton(TRAIN);
        train.setId("train");
        train.disableProperty().bind(problemText.isNotEmpty().or(vm.running()));
        train.addEventFilter(ActionEvent.ACTION, e -> {
            if (vm.launch() == null) {
                e.consume();        // not started (the problem line or the status says why): keep the dialog open
            }
        });
        Button exportJob = (Button) getDialogPane().lookupButton(EXPORT_JOB);
        exportJob.setId("exportJob");
        exportJob.disableProperty().bind(problemText.isNotEmpty());
        exportJob.addEventFilter(ActionEvent.ACTION, e -> {
            e.consume();            // the dialog stays open; its status line says where the job went
            DirectoryChooser chooser = new DirectoryChooser();
            chooser.setTitle("Folder for the job (new or empty)");
            File folder = chooser.showDialog(getDialogPane().getScene().getWindow());
            if (folder != null) {
                vm.exportJob(folder.toPath());
            }
        });
    }

    /** The method chooser and the rows of the chosen method: its heads, modules, component or per-head rates. */
    private List<Node> whatToTrain() {
        ComboBox<TrainMethod> method = combo("method", FXCollections.observableArrayList(TrainMethod.values()));
        method.valueProperty().bindBidirectional(vm.method());
        Label heads = new Label();
        heads.setId("heads");
        heads.textProperty().bind(Bindings.createStringBinding(() -> headsText(vm.heads().get()), vm.heads()));
        Label module = new Label();
        module.setId("module");
        module.textProperty().bind(Bindings.createStringBinding(() -> componentText(vm.component().get()), vm.component()));
        Label component = boundLabel("component", () -> vm.component().get() == null ? "" : vm.component().get().label(), vm.component());
        Label components = boundLabel("components", () -> vm.component().get() == null || vm.component().get().decomposition() != null
                ? "" : "of a rank-" + vm.component().get().rank() + " SVD", vm.component());
        Label decomposition = boundLabel("decomposition", () -> vm.component().get() == null || vm.component().get().decomposition() == null
                ? "" : "of the decomposition " + vm.component().get().decomposition().getFileName(), vm.component());
        TextField projections = new TextField();
        projections.setId("projections");
        projections.setPrefColumnCount(8);
        projections.textProperty().bindBidirectional(vm.projections());
        TextField rankPattern = new TextField();
        rankPattern.setId("rankPattern");
        rankPattern.setPromptText("e.g. v_proj=8");
        rankPattern.textProperty().bindBidirectional(vm.rankPattern());
        Label perHeadMap = boundLabel("perHeadLrMap", () -> vm.perHeadLrMap().get().isEmpty() ? "none shown: compute a map first"
                : vm.perHeadLrMap().get(), vm.perHeadLrMap());
        TextField modules = new TextField();
        modules.setId("modules");
        modules.textProperty().bindBidirectional(vm.modules());
        TextField layers = new TextField();
        layers.setId("layers");
        layers.setPromptText("all");
        layers.textProperty().bindBidirectional(vm.layers());

        Node headsRow = grid(row("Heads", heads, "Projections", projections));
        Node moduleRows = grid(row("Modules", modules, "Layers", layers), row("Rank pattern", rankPattern));
        TextField start = decimal("start", "Start", vm.start());
        start.setTooltip(new javafx.scene.control.Tooltip("Where every prefactor starts; 1 is the unmodified model. The target "
                + "loss rises on both sides of 1, so the start decides which side training ends on"));
        Node componentRow = grid(row("Component", new HBox(6, module, component, components, decomposition)), row("Start s", start));
        Node perHeadRow = grid(row("Rates from map", perHeadMap),
                row("Freeze above", decimal("perHeadLrFreezeAbove", "Freeze above", vm.freezeAbove()),
                        "LR floor", decimal("perHeadLrFloor", "LR floor", vm.lrFloor())));
        showFor(headsRow, TrainMethod.HEAD_LORA, TrainMethod.HEAD_LORA_PER_HEAD_LR, TrainMethod.HEAD_FINETUNE,
                TrainMethod.HEAD_FINETUNE_PER_HEAD_LR, TrainMethod.DELTANET_DECAY);
        showFor(moduleRows, TrainMethod.MODULE_LORA);
        showFor(componentRow, TrainMethod.PREFACTOR);
        showFor(perHeadRow, TrainMethod.HEAD_LORA_PER_HEAD_LR, TrainMethod.HEAD_FINETUNE_PER_HEAD_LR);
        return List.of(grid(row("Method", method)), headsRow, moduleRows, componentRow, perHeadRow);
    }

    /** Objective and texts: target, retain (with its weight), general (with its ratio), and adding a file. */
    private Node data() {
        ComboBox<FineTuner.Objective> objective = combo("objective", FXCollections.observableArrayList(TrainViewModel.OBJECTIVES));
        objective.setConverter(new StringConverter<>() {
            @Override
            public String toString(FineTuner.Objective o) {
                return o == null ? "" : o.jsonName();
            }

            @Override
            public FineTuner.Objective fromString(String s) {
                return FineTuner.Objective.parse(s);
            }
        });
        objective.valueProperty().bindBidirectional(vm.objective());
        ComboBox<String> target = combo("target", vm.textNames());
        target.valueProperty().bindBidirectional(vm.target());
        ComboBox<String> retain = combo("retain", vm.textNames());
        retain.valueProperty().bindBidirectional(vm.retain());
        retain.disableProperty().bind(vm.retainWeight().lessThanOrEqualTo(0));
        ComboBox<String> general = combo("general", vm.textNames());
        general.valueProperty().bindBidirectional(vm.general());
        TextField generalRatio = decimal("generalRatio", "General ratio", vm.generalRatio());
        generalRatio.disableProperty().bind(vm.general().isNull());   // general text is mixed in with any objective
        Button addText = new Button("Add text file…");
        addText.setId("addText");
        addText.setOnAction(e -> chooseTextFile());
        fileStatus.setId("fileStatus");
        TextField teacher = new TextField();
        teacher.setId("teacherSteerVector");
        teacher.setPromptText("control vector .gguf (match-teacher)");
        teacher.textProperty().bindBidirectional(vm.teacherSteerVector());
        Button chooseTeacher = new Button("Browse…");
        chooseTeacher.setMinWidth(javafx.scene.layout.Region.USE_PREF_SIZE);   // the path field gives way, not the button
        teacher.setPrefColumnCount(10);
        chooseTeacher.setOnAction(e -> chooseTeacherVector());
        TextField coefficient = decimal("teacherSteerCoefficient", "Teacher coefficient", vm.teacherSteerCoefficient());
        BooleanBinding noTeacher = vm.objective().isNotEqualTo(FineTuner.Objective.MATCH_TEACHER);
        teacher.disableProperty().bind(noTeacher);
        chooseTeacher.disableProperty().bind(noTeacher);
        coefficient.disableProperty().bind(noTeacher);
        return grid(
                row("Objective", objective, "Retain weight", decimal("retainWeight", "Retain weight", vm.retainWeight())),
                row("Target text", target, "Retain text", retain),
                row("General text", general, "General ratio", generalRatio),
                row("Teacher", new HBox(6, teacher, chooseTeacher), "Coefficient", coefficient),
                row("", new HBox(8, addText, fileStatus)));
    }

    /** Optimizer, learning rate, steps, batch, context, budget, LoRA rank, seed and live evaluation. */
    private Node settings() {
        ComboBox<String> optimizer = combo("optimizer", FXCollections.observableArrayList(TrainViewModel.OPTIMIZERS));
        optimizer.valueProperty().bindBidirectional(vm.optimizer());
        TextField rank = whole("rank", "LoRA rank", vm.rank());
        TextField alpha = decimal("alpha", "LoRA alpha", vm.alpha());
        TextField dropout = decimal("dropout", "LoRA dropout", vm.dropout());
        BooleanBinding notLora = Bindings.createBooleanBinding(
                () -> vm.method().get() == null || !vm.method().get().usesLoraRank(), vm.method());
        rank.disableProperty().bind(notLora);
        alpha.disableProperty().bind(notLora);
        dropout.disableProperty().bind(notLora);
        TextField apolloRank = whole("apolloRank", "APOLLO rank", vm.apolloRank());
        TextField apolloScale = decimal("apolloScale", "APOLLO scale", vm.apolloScale());
        TextField apolloRefresh = whole("apolloRefreshPeriod", "APOLLO refresh", vm.apolloRefreshPeriod());
        TextField apolloGamma = decimal("apolloNormGrowthLimit", "Norm growth limit", vm.apolloNormGrowthLimit());
        TextField apolloDecay = decimal("apolloWeightDecay", "APOLLO weight decay", vm.apolloWeightDecay());
        BooleanBinding notApollo = Bindings.createBooleanBinding(
                () -> vm.optimizer().get() == null || !vm.optimizer().get().startsWith("apollo"), vm.optimizer());
        for (TextField f : List.of(apolloRank, apolloScale, apolloRefresh, apolloGamma, apolloDecay)) {
            f.disableProperty().bind(notApollo);
        }
        apolloRank.setPromptText("0 = 256 / Mini 1");
        apolloScale.setPromptText("0 = √(k/r)");
        return grid(
                row("Optimizer", optimizer, "Learning rate", decimal("lr", "Learning rate", vm.lr())),
                row("Steps", whole("steps", "Steps", vm.steps()), "Batch size", whole("batchSize", "Batch size", vm.batchSize())),
                row("Context", whole("context", "Context", vm.context()),
                        "Token budget", whole("tokenBudget", "Token budget", vm.tokenBudget())),
                row("LoRA rank", rank,
                        "Seed", NumberField.of("seed", "Seed", "a whole number", vm.seed(), Long::valueOf, fieldErrors)),
                row("LoRA alpha", alpha, "LoRA dropout", dropout),
                row("APOLLO rank", apolloRank, "APOLLO scale", apolloScale),
                row("Refresh every", apolloRefresh, "Norm growth γ", apolloGamma),
                row("APOLLO decay", apolloDecay, "", new Label("rank/scale 0: the variant's")),
                row("Frozen context", whole("frozenContext", "Frozen context", vm.frozenContext()), "", new Label("leading tokens")),
                row("Evaluate every", new HBox(8, whole("evalEvery", "Evaluate every", vm.evalEvery()), new Label("steps (0 = off)"))));
    }

    /** The trainable-parameter line, the problem in red and the last run's status. */
    private List<Node> outlook(StringBinding problemText) {
        Label parameters = new Label();
        parameters.setId("parameters");
        parameters.setStyle("-fx-font-size: 1.25em; -fx-font-weight: bold;");
        parameters.textProperty().bind(Bindings.createStringBinding(
                () -> parametersLine(vm.trainableParameters().get(), vm.totalParameters()), vm.trainableParameters()));
        Label problem = new Label();
        problem.setId("problem");
        problem.setStyle(ERROR_STYLE);
        problem.setWrapText(true);
        problem.textProperty().bind(problemText);
        Label status = new Label();
        status.setId("status");
        status.setWrapText(true);
        status.textProperty().bind(vm.status());
        return List.of(parameters, problem, status);
    }

    /** "trainable parameters: 1,280 of 7,212,288 (0.018 %)". */
    static String parametersLine(long trainable, long total) {
        if (trainable == 0) {
            return "trainable parameters: none yet";
        }
        double percent = 100.0 * trainable / total;
        return String.format(Locale.ROOT, "trainable parameters: %,d of %,d (%s %%)", trainable, total,
                percent >= 0.001 ? String.format(Locale.ROOT, "%.3f", percent) : "< 0.001");
    }

    private static String headsText(HeadSet heads) {
        return heads.isEmpty() ? "none marked: click heads on the heatmap"
                : heads + " (" + heads.size() + (heads.size() == 1 ? " head)" : " heads)");
    }

    private static String componentText(Session.ComponentChoice c) {
        return c == null ? "none chosen: pick one in the Components view" : c.module();
    }

    private void chooseTeacherVector() {
        FileChooser chooser = new FileChooser();
        chooser.setTitle("The teacher's steering vector (llama.cpp control vector)");
        chooser.getExtensionFilters().add(new FileChooser.ExtensionFilter("Control vectors", "*.gguf"));
        File file = chooser.showOpenDialog(getDialogPane().getScene().getWindow());
        if (file != null) {
            vm.teacherSteerVector().set(file.getAbsolutePath());
        }
    }

    private static Label boundLabel(String id, java.util.concurrent.Callable<String> text, javafx.beans.Observable... on) {
        Label label = new Label();
        label.setId(id);
        label.textProperty().bind(Bindings.createStringBinding(text, on));
        return label;
    }

    private void chooseTextFile() {
        FileChooser chooser = new FileChooser();
        chooser.setTitle("Add a UTF-8 text file");
        chooser.getExtensionFilters().addAll(new FileChooser.ExtensionFilter("Text files", "*.txt"),
                new FileChooser.ExtensionFilter("All files", "*"));
        File file = chooser.showOpenDialog(getDialogPane().getScene().getWindow());
        if (file != null) {
            addTextFile(file.toPath());
        }
    }

    /** Adds the file as a session text and makes it the target; a file that cannot be read is reported in red. */
    void addTextFile(Path file) {
        try {
            String name = vm.addTextFile(file);
            vm.target().set(name);
            fileStatus.setStyle("");
            fileStatus.setText("added '" + name + "' as the target text");
        } catch (ScalpelException e) {
            fileStatus.setStyle(ERROR_STYLE);
            fileStatus.setText(e.getMessage());
        }
    }

    private TextField whole(String id, String label, IntegerProperty property) {
        return NumberField.of(id, label, "a whole number", property, Integer::valueOf, fieldErrors);
    }

    private TextField decimal(String id, String label, DoubleProperty property) {
        return NumberField.of(id, label, "a number", property, Double::valueOf, fieldErrors);
    }

    private static <T> ComboBox<T> combo(String id, ObservableList<T> items) {
        ComboBox<T> box = new ComboBox<>(items);
        box.setId(id);
        box.setMaxWidth(Double.MAX_VALUE);
        return box;
    }

    /** Shows {@code node} (and gives it room) only while the method is one of {@code methods}. */
    private void showFor(Node node, TrainMethod... methods) {
        BooleanBinding shown = Bindings.createBooleanBinding(() -> List.of(methods).contains(vm.method().get()), vm.method());
        node.visibleProperty().bind(shown);
        node.managedProperty().bind(shown);
    }

    /** One form row: a label and its control, which spans the row. */
    private static Node[] row(String label, Node control) {
        GridPane.setColumnSpan(control, 3);
        return new Node[] {label(label), control};
    }

    /** One form row with two labelled controls side by side. */
    private static Node[] row(String label, Node control, String label2, Node control2) {
        return new Node[] {label(label), control, label(label2), control2};
    }

    private static ColumnConstraints column(double width) {
        ColumnConstraints c = new ColumnConstraints(width);
        c.setMinWidth(width);
        return c;
    }

    private static Label label(String text) {
        return new Label(text);
    }

    /** Rows in four columns (label, control, label, control) of the same widths in every grid, so the form lines up. */
    private static GridPane grid(Node[]... rows) {
        GridPane grid = new GridPane();
        grid.setHgap(8);
        grid.setVgap(6);
        grid.getColumnConstraints().addAll(column(LABEL_WIDTH), column(CONTROL_WIDTH), column(LABEL_WIDTH), column(CONTROL_WIDTH));
        for (int r = 0; r < rows.length; r++) {
            grid.addRow(r, rows[r]);
        }
        return grid;
    }
}
