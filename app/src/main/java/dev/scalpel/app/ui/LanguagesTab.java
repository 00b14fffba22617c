package dev.scalpel.app.ui;

import dev.scalpel.app.ui.compare.LanguageEvalViewModel;
import dev.scalpel.icons.Glyph;
import dev.scalpel.views.charts.LanguageLossChart;
import dev.scalpel.views.common.GlyphNodes;
import java.util.List;
import javafx.collections.ListChangeListener;
import javafx.geometry.Insets;
import javafx.scene.control.Button;
import javafx.scene.control.Label;
import javafx.scene.control.Separator;
import javafx.scene.control.ToolBar;
import javafx.scene.layout.BorderPane;
import javafx.scene.paint.Color;

/** The Languages tab: per-language cross-entropy of the base and the edited model, with the ln V line. */
final class LanguagesTab extends BorderPane {

    LanguagesTab(LanguageEvalViewModel vm) {
        LanguageLossChart chart = new LanguageLossChart();
        chart.setId("languages");
        Button evaluate = new Button("Evaluate base and edited", GlyphNodes.of(Glyph.EVAL, 16, Color.web("#333")));
        evaluate.setId("evaluate");
        evaluate.disableProperty().bind(vm.busyProperty());
        evaluate.setOnAction(e -> vm.evaluate());
        Label problem = new Label();
        problem.setStyle("-fx-text-fill: #b00020;");
        problem.textProperty().bind(vm.problemProperty());
        Label hint = new Label("CE on each open text (first tokens of each); edited = every edit on the stack");
        hint.setStyle("-fx-text-fill: #555;");
        vm.edited().addListener((ListChangeListener<Object>) c -> chart.show(List.copyOf(vm.base()), List.copyOf(vm.edited()), vm.uniformCe()));
        vm.base().addListener((ListChangeListener<Object>) c -> chart.show(List.copyOf(vm.base()), List.copyOf(vm.edited()), vm.uniformCe()));
        setTop(new ToolBar(evaluate, new Separator(), hint, problem));
        setCenter(chart);
        BorderPane.setMargin(chart, new Insets(8));
    }
}
