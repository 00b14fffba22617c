package dev.scalpel.app.ui;

import dev.scalpel.app.ui.compare.CompareViewModel;
import dev.scalpel.app.ui.compare.LanguageEvalViewModel;
import dev.scalpel.app.ui.components.ComponentsPane;
import dev.scalpel.app.ui.components.ComponentsViewModel;
import dev.scalpel.app.ui.groups.ConflictDialog;
import dev.scalpel.app.ui.train.TrainDialog;
import dev.scalpel.app.ui.train.TrainViewModel;
import dev.scalpel.views.charts.LossChart;
import javafx.application.Platform;
import dev.scalpel.app.ui.groups.HeadGroupsViewModel;
import dev.scalpel.app.ui.jobs.JobRunner;
import dev.scalpel.engine.importance.HeadImportance;
import dev.scalpel.engine.importance.ImportanceCache;
import dev.scalpel.engine.importance.Normalization;
import dev.scalpel.icons.Glyph;
import dev.scalpel.views.common.GlyphNodes;
import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.views.groups.GroupCard;
import dev.scalpel.views.groups.HeadGroupDiagram;
import dev.scalpel.views.heatmap.HeadHeatmap;
import java.io.File;
import javafx.collections.FXCollections;
import javafx.collections.ListChangeListener;
import javafx.collections.ObservableList;
import javafx.stage.FileChooser;
import javafx.stage.Window;
import javafx.beans.binding.Bindings;
import javafx.beans.value.ObservableValue;
import javafx.geometry.Insets;
import javafx.scene.control.Button;
import javafx.scene.control.CheckBox;
import javafx.scene.control.ComboBox;
import javafx.scene.control.Label;
import javafx.scene.control.Separator;
import javafx.scene.control.Spinner;
import javafx.scene.control.Tab;
import javafx.scene.control.TabPane;
import javafx.scene.control.ToolBar;
import javafx.scene.control.TextField;
import javafx.scene.control.Tooltip;
import javafx.scene.layout.BorderPane;
import javafx.scene.layout.FlowPane;
import javafx.scene.layout.VBox;
import javafx.geometry.Pos;
import javafx.scene.paint.Color;
import java.util.function.Consumer;
import java.util.function.Function;
import javafx.beans.property.ObjectProperty;
import javafx.util.StringConverter;

/**
 * Everything the window shows for one open model: the model panel on the left and the tabs in the centre (importance
 * heatmap, …), each backed by its view model. Built when a model is opened and dropped when another replaces it.
 */
final class SessionView {
    private final Session session;
    private final ImportanceViewModel importance;
    private final HeadHeatmap heatmap = new HeadHeatmap();
    private final ComboBox<String> domain = new ComboBox<>();
    private final ComboBox<HeadImportance.Method> method = new ComboBox<>();
    private final TabPane tabs = new TabPane();
    private final Window owner;
    private final HeadGroupsViewModel groups;
    private final HeadGroupDiagram diagram = new HeadGroupDiagram();
    private final ObservableList<GroupCard> cards = FXCollections.observableArrayList();
    private final ComponentsViewModel components;
    private final CompareViewModel compare;
    private final LanguageEvalViewModel languages;
    private final TrainViewModel train;
    private final LossChart trainingChart;
    private final Tab languagesTab;
    private final ModelPanel modelPanel;

    /**
     * @param statusSink receives every view model's status messages, for the status bar
     */
    SessionView(Session session, JobRunner jobs, ImportanceCache cache, Window owner, Consumer<ObservableValue<String>> statusSink) {
        this.session = session;
        this.owner = owner;
        this.importance = new ImportanceViewModel(session, jobs, cache);
        this.groups = new HeadGroupsViewModel(session, new ConflictDialog(owner));
        this.modelPanel = new ModelPanel(session);
        statusSink.accept(importance.statusProperty());
        statusSink.accept(groups.statusProperty());

        heatmap.setId("heatmap");
        heatmap.mapProperty().bind(session.mapProperty());
        heatmap.layerTypesProperty().set(session.summary().layerTypes());
        Bindings.bindContentBidirectional(heatmap.marks(), session.marks());
        BorderPane heatmapPane = new BorderPane(heatmap, new VBox(heatmapToolbar(), importanceOptions()), null, null, null);
        BorderPane.setMargin(heatmap, new Insets(8));
        tabs.getTabs().add(tab("Importance", Glyph.HEATMAP, heatmapPane));
        tabs.getTabs().add(tab("Head groups", Glyph.GROUPS, groupsPane()));
        this.components = new ComponentsViewModel(session, jobs);
        statusSink.accept(components.statusProperty());
        tabs.getTabs().add(tab("Components", Glyph.HEATMAP, new ComponentsPane(components)));
        this.compare = new CompareViewModel(session, jobs, Platform::runLater);
        statusSink.accept(compare.statusProperty());
        tabs.getTabs().add(tab("A/B compare", Glyph.COMPARE, new CompareTab(compare)));
        this.languages = new LanguageEvalViewModel(session, jobs);
        statusSink.accept(languages.statusProperty());
        this.languagesTab = tab("Languages", Glyph.EVAL, new LanguagesTab(languages));
        tabs.getTabs().add(languagesTab);
        this.train = new TrainViewModel(session, jobs, Platform::runLater);
        statusSink.accept(train.status());
        this.trainingChart = TrainingChart.following(train, session.uniformCe());
        TradeoffPane tradeoff = new TradeoffPane(owner);
        statusSink.accept(tradeoff.statusProperty());
        tabs.getTabs().add(tab("Trade-off", Glyph.EVAL, tradeoff));
        tabs.setTabClosingPolicy(TabPane.TabClosingPolicy.UNAVAILABLE);
    }

    private ToolBar heatmapToolbar() {
        domain.setId("contrast");   // a text, or the spec's contrast A-B
        domain.getItems().setAll(importance.domains());
        domain.getSelectionModel().select(importance.domains().contains("de-en") ? "de-en" : importance.domains().isEmpty() ? null : importance.domains().get(0));
        domain.setTooltip(new Tooltip("A text, or a contrast A-B of two (A minus B, each normalised as 'Contrast norm.' says)"));
        method.setId("method");
        method.setPrefWidth(170);
        method.getItems().setAll(HeadImportance.Method.values());
        method.getSelectionModel().select(HeadImportance.Method.GRADIENT);
        method.setConverter(named(HeadImportance.Method::cliName));
        Button compute = new Button("Compute map", GlyphNodes.of(Glyph.HEATMAP, 16, Color.web("#333")));
        compute.setId("computeMap");
        compute.disableProperty().bind(importance.busyProperty().or(domain.valueProperty().isNull()));
        compute.setOnAction(e -> computeMap());
        Spinner<Integer> k = new Spinner<>(1, 4096, 5);
        k.setId("topK");
        k.setEditable(true);
        k.setPrefWidth(80);
        Button markTop = new Button("Mark top-k");
        markTop.setId("markTopK");
        markTop.disableProperty().bind(session.mapProperty().isNull());
        markTop.setOnAction(e -> importance.markTopK(k.getValue()));
        Button addText = new Button("Add text…");
        addText.setId("addText");
        addText.setTooltip(new Tooltip("Add your own text (UTF-8) as a domain for maps, training and evaluation"));
        addText.setOnAction(e -> chooseTextFile());
        TextField threshold = new TextField("1.0");
        threshold.setId("threshold");
        threshold.setPrefColumnCount(5);
        threshold.setTooltip(new Tooltip("Mark every head scoring above this value in the map shown"));
        Button markAbove = new Button("Mark above");
        markAbove.setId("markAbove");
        markAbove.disableProperty().bind(session.mapProperty().isNull());
        markAbove.setOnAction(e -> {
            try {
                importance.markAbove(Double.parseDouble(threshold.getText().trim()));
            } catch (NumberFormatException ex) {
                importance.statusProperty().set("'" + threshold.getText() + "' is not a number; type a score such as 1.5");
            }
        });
        return new ToolBar(new Label("Domain"), domain, addText, new Label("Method"), method, compute, new Separator(),
                new Label("k"), k, markTop, threshold, markAbove);
    }

    /**
     * The rest of the importance spec, the settings {@code scalpel importance} takes as flags: each control's id is the
     * spec field's name in camel case.
     */
    private FlowPane importanceOptions() {
        ComboBox<HeadImportance.Method> agreeWith = new ComboBox<>();
        agreeWith.setId("agreeWith");
        agreeWith.getItems().add(null);
        agreeWith.getItems().addAll(HeadImportance.Method.values());
        agreeWith.setConverter(named(HeadImportance.Method::cliName));
        agreeWith.setTooltip(new Tooltip("Also compute the map with this method and report the Spearman rank correlation"));
        agreeWith.valueProperty().bindBidirectional(importance.agreeWithProperty());
        ComboBox<Normalization> normalize = normalizationBox("normalize", importance.normalizeProperty(),
                "How a single text's map is shown and saved");
        ComboBox<Normalization> contrastNormalize = normalizationBox("contrastNormalize", importance.contrastNormalizeProperty(),
                "How the two maps of a contrast A-B are normalised before B is subtracted");
        Spinner<Integer> maxTokens = spinner("maxTokens", 16, Session.TEXT_TOKENS, importance.maxTokensProperty(), 90);
        maxTokens.setTooltip(new Tooltip("Tokens used of each text (the open texts hold at most " + Session.TEXT_TOKENS + ")"));
        Spinner<Integer> context = spinner("context", 0, session.summary().maxPositions(), importance.contextProperty(), 80);
        context.setTooltip(new Tooltip("Window length in tokens; 0 = min(256, the model's context)"));
        Spinner<Integer> batchSize = spinner("batchSize", 1, 256, importance.batchSizeProperty(), 70);
        batchSize.setTooltip(new Tooltip("Windows per forward pass"));
        CheckBox cache = new CheckBox("Cache");
        cache.setId("cache");
        cache.setTooltip(new Tooltip("Read and write the map cache (~/.cache/scalpel/importance)"));
        cache.selectedProperty().bindBidirectional(importance.cacheProperty());
        Button save = new Button("Save map…");
        save.setId("out");
        save.setTooltip(new Tooltip("Write the map shown as JSON (as scalpel importance --out does)"));
        save.disableProperty().bind(session.mapProperty().isNull());
        save.setOnAction(e -> chooseMapFile());
        FlowPane row = new FlowPane(6, 4, new Label("Agree with"), agreeWith, new Label("Normalize"), normalize,
                new Label("Contrast norm."), contrastNormalize, new Label("Tokens"), maxTokens, new Label("Context (0 = auto)"), context,
                new Label("Batch"), batchSize, cache, save);   // wraps instead of hiding controls in an overflow menu
        row.setAlignment(Pos.CENTER_LEFT);
        row.setPadding(new Insets(4, 8, 4, 8));
        return row;
    }

    private static ComboBox<Normalization> normalizationBox(String id, ObjectProperty<Normalization> value,
                                                            String tip) {
        ComboBox<Normalization> box = new ComboBox<>();
        box.setId(id);
        box.getItems().setAll(Normalization.values());
        box.valueProperty().bindBidirectional(value);
        box.setTooltip(new Tooltip(tip));
        box.setConverter(named(Normalization::cliName));
        return box;
    }

    /** Shows an enum constant by its CLI name, and null as "none". */
    private static <T> StringConverter<T> named(Function<T, String> name) {
        return new StringConverter<>() {
            @Override
            public String toString(T value) {
                return value == null ? "none" : name.apply(value);
            }

            @Override
            public T fromString(String text) {
                throw new UnsupportedOperationException("the box is not editable");
            }
        };
    }

    private static Spinner<Integer> spinner(String id, int min, int max, ObjectProperty<Integer> value, double width) {
        Spinner<Integer> spinner = new Spinner<>(min, max, value.get());
        spinner.setId(id);
        spinner.setEditable(true);
        spinner.setPrefWidth(width);
        spinner.getValueFactory().valueProperty().bindBidirectional(value);
        return spinner;
    }

    /** Save map…: where to write the map shown. */
    private void chooseMapFile() {
        FileChooser chooser = new FileChooser();
        chooser.setTitle("Save the importance map shown");
        chooser.getExtensionFilters().add(new FileChooser.ExtensionFilter("Importance map", "*.json"));
        chooser.setInitialFileName(session.mapProperty().get().domain() + ".json");
        File file = chooser.showSaveDialog(owner);
        if (file != null) {
            importance.saveShownMap(file.toPath());
        }
    }

    /** The model as head slots and the group library as cards to drag onto it. */
    private BorderPane groupsPane() {
        diagram.setId("groupDiagram");
        diagram.gridProperty().set(session.summary().grid());
        Bindings.bindContent(diagram.loaded(), session.loadedGroups());
        Bindings.bindContent(diagram.library(), cards);
        session.library().addListener((ListChangeListener<Session.LibraryGroup>) c -> showCards());
        showCards();
        diagram.conflictsProperty().set(groups::conflicts);
        diagram.onDropProperty().set(groups::apply);
        diagram.onSwapOutProperty().set(groups::swapOut);
        Button add = new Button("Add group file…", GlyphNodes.of(Glyph.OPEN, 16, Color.web("#333")));
        add.setId("addGroup");
        add.setOnAction(e -> chooseGroupFile());
        BorderPane pane = new BorderPane(diagram, new ToolBar(add), null, null, null);
        BorderPane.setMargin(diagram, new Insets(8));
        return pane;
    }

    private void showCards() {
        cards.setAll(session.library().stream().map(g -> new GroupCard(g.name(), g.group().heads())).toList());
    }

    /** File ▸ Add head group to library. */
    void chooseGroupFile() {
        FileChooser chooser = new FileChooser();
        chooser.setTitle("Add a head group (scalpel heads extract, or Export ▸ Head group)");
        chooser.getExtensionFilters().add(new FileChooser.ExtensionFilter("Head group", "*.json"));
        File file = chooser.showOpenDialog(owner);
        if (file != null) {
            groups.addToLibrary(file.toPath());
        }
    }

    /** A user text becomes a domain (and a training / evaluation text) under its file name. */
    private void chooseTextFile() {
        FileChooser chooser = new FileChooser();
        chooser.setTitle("Add a text (UTF-8) as a domain");
        File file = chooser.showOpenDialog(owner);
        if (file != null) {
            try {
                String name = train.addTextFile(file.toPath());
                domain.getItems().setAll(importance.domains());
                domain.getSelectionModel().select(name);
                importance.statusProperty().set("added text '" + name + "' (" + session.texts().get(name).length + " tokens used)");
            } catch (ScalpelException ex) {
                importance.statusProperty().set(ex.getMessage());
            }
        }
    }

    /** Computes the map chosen in the heatmap toolbar (Heads ▸ Compute map). */
    void computeMap() {
        if (domain.getValue() != null) {
            importance.compute(domain.getValue(), method.getValue());
        }
    }

    private static Tab tab(String title, Glyph glyph, javafx.scene.Node content) {
        Tab t = new Tab(title, content);
        t.setGraphic(GlyphNodes.of(glyph, 14, Color.web("#444")));
        return t;
    }

    Session session() {
        return session;
    }

    ImportanceViewModel importance() {
        return importance;
    }

    /** Train ▸ Train…: the dialog on the marks, map and component of this session. */
    void showTrainDialog() {
        TrainDialog dialog = new TrainDialog(train);
        dialog.initOwner(owner);
        dialog.show();
    }

    /** Train ▸ Evaluate languages. */
    void evaluateLanguages() {
        tabs.getSelectionModel().select(languagesTab);
        languages.evaluate();
    }

    TrainViewModel train() {
        return train;
    }

    LossChart trainingChart() {
        return trainingChart;
    }

    HeadGroupDiagram diagram() {
        return diagram;
    }

    HeadGroupsViewModel groups() {
        return groups;
    }

    HeadHeatmap heatmap() {
        return heatmap;
    }

    TabPane tabs() {
        return tabs;
    }

    ModelPanel modelPanel() {
        return modelPanel;
    }
}
