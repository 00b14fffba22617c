package dev.scalpel.app.ui;

import dev.scalpel.app.ui.compare.CompareViewModel;
import dev.scalpel.views.compare.ABComparePane;
import java.util.List;
import javafx.beans.binding.Bindings;
import javafx.collections.ListChangeListener;
import javafx.scene.control.Label;
import javafx.scene.layout.BorderPane;

/** The A/B compare tab: the {@link ABComparePane} bound to a {@link CompareViewModel}. */
final class CompareTab extends BorderPane {

    CompareTab(CompareViewModel vm) {
        ABComparePane pane = new ABComparePane();
        pane.setId("compare");
        pane.promptProperty().bindBidirectional(vm.promptProperty());
        pane.referenceProperty().bindBidirectional(vm.referenceProperty());
        pane.followLiveProperty().bindBidirectional(vm.followLiveProperty());
        pane.seedProperty().set(vm.seedProperty().get());
        vm.seedProperty().bind(Bindings.createObjectBinding(() -> (int) pane.seedProperty().get(), pane.seedProperty()));
        pane.maxTokensProperty().set(vm.maxTokensProperty().get());
        vm.maxTokensProperty().bind(pane.maxTokensProperty().asObject());
        pane.busyProperty().bind(vm.busyProperty());
        pane.baseSubtitleProperty().bind(vm.baseSubtitleProperty());
        pane.editedSubtitleProperty().bind(vm.editedSubtitleProperty());
        pane.onGenerateProperty().set(vm::generate);
        vm.base().addListener((ListChangeListener<Object>) c -> pane.showBase(List.copyOf(vm.base())));
        vm.edited().addListener((ListChangeListener<Object>) c -> pane.showEdited(List.copyOf(vm.edited())));
        Label problem = new Label();
        problem.setStyle("-fx-text-fill: #b00020; -fx-padding: 4 8 4 8;");
        problem.textProperty().bind(vm.problemProperty());
        problem.managedProperty().bind(problem.textProperty().isNotEmpty());
        setCenter(pane);
        setBottom(problem);
    }
}
