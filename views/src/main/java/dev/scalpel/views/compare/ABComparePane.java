package dev.scalpel.views.compare;

import java.util.List;
import java.util.Locale;
import javafx.beans.binding.Bindings;
import javafx.beans.property.BooleanProperty;
import javafx.beans.property.IntegerProperty;
import javafx.beans.property.LongProperty;
import javafx.beans.property.ObjectProperty;
import javafx.beans.property.SimpleBooleanProperty;
import javafx.beans.property.SimpleIntegerProperty;
import javafx.beans.property.SimpleLongProperty;
import javafx.beans.property.SimpleObjectProperty;
import javafx.beans.property.StringProperty;
import javafx.geometry.Insets;
import javafx.geometry.Pos;
import javafx.scene.control.Button;
import javafx.scene.control.CheckBox;
import javafx.scene.control.Label;
import javafx.scene.control.Spinner;
import javafx.scene.control.SpinnerValueFactory;
import javafx.scene.control.TextArea;
import javafx.scene.control.TextField;
import javafx.scene.control.Tooltip;
import javafx.scene.layout.BorderPane;
import javafx.scene.layout.ColumnConstraints;
import javafx.scene.layout.GridPane;
import javafx.scene.layout.HBox;
import javafx.scene.layout.Priority;
import javafx.scene.layout.RowConstraints;
import javafx.scene.layout.VBox;
import javafx.scene.paint.Color;
import javafx.scene.paint.CycleMethod;
import javafx.scene.paint.LinearGradient;
import javafx.scene.paint.Stop;
import javafx.scene.shape.Rectangle;

/**
 * The A/B compare panel: a prompt, seed, token budget, "follow live training" switch and Generate button on top, an
 * optional reference text to score, and below them the base and the edited model's tokens side by side, each scored
 * token on a background from green (low loss) to red (high loss) on one scale shared by both columns, with the mean
 * loss under each column. The panel only shows and collects; the owner runs generation in {@link #onGenerateProperty}
 * and hands back tokens with {@link #showBase} / {@link #showEdited}. Use on the FX thread.
 */
public final class ABComparePane extends BorderPane {
    private final TextField prompt = new TextField();
    private final TextArea reference = new TextArea();
    private final SeedValueFactory seedValues = new SeedValueFactory(1);
    private final Spinner<Long> seedSpinner = new Spinner<>(seedValues);
    private final SpinnerValueFactory.IntegerSpinnerValueFactory maxTokenValues =
            new SpinnerValueFactory.IntegerSpinnerValueFactory(1, 4096, 64, 16);
    private final Spinner<Integer> maxTokenSpinner = new Spinner<>(maxTokenValues);
    private final CheckBox followLive = new CheckBox("follow live training");
    private final Button generate = new Button();
    private final LongProperty seed = new SimpleLongProperty(this, "seed", 1);
    private final ObjectProperty<Long> seedObject = seed.asObject(); // held: bidirectional bindings are weak
    private final IntegerProperty maxTokens = new SimpleIntegerProperty(this, "maxTokens", 64);
    private final ObjectProperty<Integer> maxTokensObject = maxTokens.asObject();
    private final ObjectProperty<Runnable> onGenerate = new SimpleObjectProperty<>(this, "onGenerate");
    private final BooleanProperty busy = new SimpleBooleanProperty(this, "busy");
    private final TokenColumn base = new TokenColumn("Base", "base");
    private final TokenColumn edited = new TokenColumn("Edited", "edited");
    private final Label scaleMax = new Label();

    public ABComparePane() {
        maxTokenValues.setConverter(new LenientConverter<>(Integer::valueOf, maxTokenValues));
        seedValues.valueProperty().bindBidirectional(seedObject);
        maxTokenValues.valueProperty().bindBidirectional(maxTokensObject);
        setTop(controls());
        setCenter(columns());
        setBottom(legend());
        setPadding(new Insets(8));
        showScale(LossScale.spanning(List.of()));
        setPrefSize(900, 560);
    }

    private VBox controls() {
        prompt.setId("prompt");
        prompt.setPromptText("prompt");
        HBox.setHgrow(prompt, Priority.ALWAYS);
        seedSpinner.setId("seed");
        seedSpinner.setEditable(true);
        seedSpinner.setPrefWidth(120);
        seedSpinner.setTooltip(new Tooltip("Sampling seed: the same seed gives the same text"));
        maxTokenSpinner.setId("maxTokens");
        maxTokenSpinner.setEditable(true);
        maxTokenSpinner.setPrefWidth(90);
        List.of(seedSpinner, maxTokenSpinner).forEach(ABComparePane::showValueOnFocusLoss);
        followLive.setId("followLive");
        followLive.setTooltip(new Tooltip("Generate from the model being trained, regenerating as training goes"));
        generate.setId("generate");
        generate.setDefaultButton(true);
        generate.textProperty().bind(Bindings.when(busy).then("Generating…").otherwise("Generate"));
        generate.disableProperty().bind(busy);
        generate.setOnAction(e -> generate());
        HBox row = new HBox(8, new Label("Prompt"), prompt, new Label("seed"), seedSpinner, new Label("max tokens"),
                maxTokenSpinner, followLive, generate);
        row.setAlignment(Pos.CENTER_LEFT);
        reference.setId("reference");
        reference.setPromptText("reference text: colour tokens by loss (optional)");
        reference.setPrefRowCount(2);
        reference.setWrapText(true);
        VBox top = new VBox(6, row, reference);
        top.setPadding(new Insets(0, 0, 8, 0));
        return top;
    }

    private GridPane columns() {
        GridPane grid = new GridPane();
        grid.setHgap(10);
        for (int i = 0; i < 2; i++) {
            ColumnConstraints half = new ColumnConstraints();
            half.setPercentWidth(50);
            half.setHgrow(Priority.ALWAYS);
            grid.getColumnConstraints().add(half);
        }
        RowConstraints fill = new RowConstraints();
        fill.setVgrow(Priority.ALWAYS);
        grid.getRowConstraints().add(fill);
        grid.add(base, 0, 0);
        grid.add(edited, 1, 0);
        return grid;
    }

    private HBox legend() {
        Rectangle ramp = new Rectangle(160, 12, new LinearGradient(0, 0, 1, 0, true, CycleMethod.NO_CYCLE,
                new Stop(0, LossScale.LOW), new Stop(0.5, LossScale.MID), new Stop(1, LossScale.HIGH)));
        ramp.setStroke(Color.web("#cccccc"));
        HBox legend = new HBox(6, new Label("token loss:"), new Label("0"), ramp, scaleMax);
        legend.setAlignment(Pos.CENTER_LEFT);
        legend.setPadding(new Insets(8, 0, 0, 0));
        return legend;
    }

    /** After the spinner commits typed text on focus loss, shows the value it kept (typed junk is not left behind). */
    private static <T> void showValueOnFocusLoss(Spinner<T> spinner) {
        spinner.focusedProperty().addListener((obs, was, now) -> {
            if (!now) {
                resetText(spinner);
            }
        });
    }

    private static <T> void resetText(Spinner<T> spinner) {
        spinner.getEditor().setText(spinner.getValueFactory().getConverter().toString(spinner.getValue()));
    }

    private void generate() {
        for (Spinner<?> spinner : List.of(seedSpinner, maxTokenSpinner)) {
            spinner.commitValue();
            resetText(spinner);
        }
        Runnable action = onGenerate.get();
        if (action != null && !busy.get()) {
            action.run();
        }
    }

    /** Shows the base model's tokens and recolours both columns on their shared loss scale. */
    public void showBase(List<ScoredToken> tokens) {
        show(base, edited, tokens);
    }

    /** Shows the edited model's tokens and recolours both columns on their shared loss scale. */
    public void showEdited(List<ScoredToken> tokens) {
        show(edited, base, tokens);
    }

    private void show(TokenColumn target, TokenColumn other, List<ScoredToken> tokens) {
        LossScale scale = LossScale.spanning(List.of(tokens, other.tokens()));
        target.show(tokens, scale);
        other.show(other.tokens(), scale);
        showScale(scale);
    }

    private void showScale(LossScale scale) {
        scaleMax.setText(String.format(Locale.ROOT, "%.1f nats and above", scale.max()));
    }

    public StringProperty promptProperty() {
        return prompt.textProperty();
    }

    /** Text to score under both models; empty for plain generation. */
    public StringProperty referenceProperty() {
        return reference.textProperty();
    }

    /** The sampling seed. */
    public LongProperty seedProperty() {
        return seed;
    }

    /** How many tokens to generate (1 to 4096). */
    public IntegerProperty maxTokensProperty() {
        return maxTokens;
    }

    /** Whether "Edited" follows the model being trained rather than the edit stack. */
    public BooleanProperty followLiveProperty() {
        return followLive.selectedProperty();
    }

    /** Run when the user presses Generate (not while {@link #busyProperty} is true). */
    public ObjectProperty<Runnable> onGenerateProperty() {
        return onGenerate;
    }

    /** True while a generation runs: Generate is disabled and says "Generating…". */
    public BooleanProperty busyProperty() {
        return busy;
    }

    /** The line beside "Base", e.g. "sample model". */
    public StringProperty baseSubtitleProperty() {
        return base.subtitleProperty();
    }

    /** The line beside "Edited", e.g. "live · step 12" or "2 edits". */
    public StringProperty editedSubtitleProperty() {
        return edited.subtitleProperty();
    }

    TokenColumn baseColumn() {
        return base;
    }

    TokenColumn editedColumn() {
        return edited;
    }
}
