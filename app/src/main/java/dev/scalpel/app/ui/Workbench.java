package dev.scalpel.app.ui;

import dev.scalpel.engine.api.HeadId;
import dev.scalpel.engine.api.ModelSummary;
import dev.scalpel.engine.importance.HeadImportance;
import dev.scalpel.engine.model.ComputeDevice;
import dev.scalpel.engine.model.LoadedModel;
import dev.scalpel.icons.Icons;
import dev.scalpel.views.heatmap.HeadHeatmap;
import dev.scalpel.views.heatmap.HeadMark;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import javafx.application.Application;
import javafx.application.Platform;
import javafx.collections.MapChangeListener;
import javafx.geometry.Insets;
import javafx.scene.Scene;
import javafx.scene.control.Button;
import javafx.scene.control.ComboBox;
import javafx.scene.control.Label;
import javafx.scene.control.ProgressBar;
import javafx.scene.control.ToolBar;
import javafx.scene.image.Image;
import javafx.scene.layout.BorderPane;
import javafx.scene.layout.GridPane;
import javafx.scene.layout.HBox;
import javafx.scene.layout.Priority;
import javafx.stage.Stage;

/**
 * The workbench window (first slice): model facts, the importance heatmap you click to mark heads for training or
 * freezing, a domain/method chooser whose computation runs off the UI thread, and a status bar.
 */
public final class Workbench extends Application {
    /** Set by {@link #open} before launch: the model folder to show. */
    private static Path modelDir;

    private final ExecutorService jobs = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "scalpel-job");
        t.setDaemon(true);
        return t;
    });
    private LoadedModel model;

    /** Opens the window on {@code dir} and returns when it is closed. */
    public static void open(Path dir) {
        modelDir = dir;
        Application.launch(Workbench.class);
    }

    @Override
    public void start(Stage stage) {
        model = LoadedModel.open(modelDir, ComputeDevice.CPU);
        WorkbenchViewModel vm = new WorkbenchViewModel(model, jobs, Platform::runLater);
        HeadHeatmap heatmap = new HeadHeatmap();
        heatmap.mapProperty().bind(vm.mapProperty());

        ComboBox<String> domain = new ComboBox<>();
        domain.getItems().setAll(vm.domains());
        domain.getSelectionModel().select(vm.domains().contains("de-en") ? "de-en" : vm.domains().isEmpty() ? null : vm.domains().get(0));
        ComboBox<HeadImportance.Method> method = new ComboBox<>();
        method.getItems().setAll(HeadImportance.Method.values());
        method.getSelectionModel().select(HeadImportance.Method.GRADIENT);
        Button compute = new Button("Compute map");
        compute.disableProperty().bind(vm.busyProperty());
        compute.setOnAction(e -> vm.computeImportance(domain.getValue(), method.getValue()));
        ProgressBar progress = new ProgressBar();
        progress.progressProperty().bind(vm.progressProperty());
        progress.visibleProperty().bind(vm.busyProperty());
        ToolBar toolbar = new ToolBar(new Label("Domain"), domain, new Label("Method"), method, compute, progress);

        Label marks = new Label("no heads marked");
        heatmap.marks().addListener((MapChangeListener<HeadId, HeadMark>) c -> marks.setText(String.format(Locale.ROOT,
                "train %d · freeze %d", heatmap.marks().values().stream().filter(m -> m == HeadMark.TRAIN).count(),
                heatmap.marks().values().stream().filter(m -> m == HeadMark.FREEZE).count())));
        Label status = new Label();
        status.textProperty().bind(vm.statusProperty());
        HBox.setHgrow(status, Priority.ALWAYS);
        status.setMaxWidth(Double.MAX_VALUE);
        HBox statusBar = new HBox(16, status, marks, new Label("cpu · " + org.bytedeco.pytorch.global.torch.get_num_threads() + " threads"));
        statusBar.setPadding(new Insets(4, 8, 4, 8));

        BorderPane root = new BorderPane(heatmap, toolbar, null, statusBar, facts(vm.summary(), vm.modelDir()));
        BorderPane.setMargin(heatmap, new Insets(8));
        stage.setTitle("Scalpel — " + vm.modelDir().getFileName());
        stage.getIcons().add(new Image(Icons.resource(Icons.APP_PNG).toExternalForm()));
        stage.setScene(new Scene(root, 1100, 640));
        stage.show();
        vm.computeImportance(domain.getValue(), HeadImportance.Method.GRADIENT);
    }

    private static GridPane facts(ModelSummary s, Path dir) {
        GridPane grid = new GridPane();
        grid.setHgap(8);
        grid.setVgap(4);
        grid.setPadding(new Insets(12));
        String[][] rows = {
                {"model", dir.getFileName().toString()},
                {"architecture", s.architecture()},
                {"layers", Integer.toString(s.layers())},
                {"heads", s.heads() + " (kv " + s.kvHeads() + ")"},
                {"head_dim", Integer.toString(s.headDim())},
                {"hidden", Integer.toString(s.hiddenSize())},
                {"vocabulary", Integer.toString(s.vocabSize())},
                {"parameters", String.format(Locale.ROOT, "%,d", s.parameters())},
                {"dtype", s.dtype()}};
        for (int i = 0; i < rows.length; i++) {
            Label key = new Label(rows[i][0]);
            key.setStyle("-fx-text-fill: #666666;");
            grid.addRow(i, key, new Label(rows[i][1]));
        }
        return grid;
    }

    @Override
    public void stop() {
        jobs.shutdownNow();
        if (model != null) {
            model.close();
        }
    }
}
