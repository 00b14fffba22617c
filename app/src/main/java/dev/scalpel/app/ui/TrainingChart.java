package dev.scalpel.app.ui;

import dev.scalpel.app.ui.train.EvalPoint;
import dev.scalpel.app.ui.train.TrainViewModel;
import dev.scalpel.engine.api.TrainingProgress;
import dev.scalpel.views.charts.LossChart;
import javafx.collections.ListChangeListener;

/** The live loss chart beside the jobs panel: the training run's loss per step and its per-language evals, as they come. */
final class TrainingChart {
    private TrainingChart() {}

    /** A loss chart that follows {@code train}'s runs; a new run clears it. */
    static LossChart following(TrainViewModel train, double uniformCe) {
        LossChart chart = new LossChart();
        chart.setId("trainingChart");
        chart.setTitle("Training loss (live)");
        chart.setUniformCe(uniformCe);
        train.lossHistory().addListener((ListChangeListener<TrainingProgress>) c -> {
            while (c.next()) {
                if (c.wasRemoved() && train.lossHistory().isEmpty()) {
                    chart.clear();
                }
                c.getAddedSubList().forEach(p -> chart.addLoss(p.step(), p.loss()));
            }
        });
        train.evalHistory().addListener((ListChangeListener<EvalPoint>) c -> {
            while (c.next()) {
                c.getAddedSubList().forEach(p -> chart.addEval(p.step(), p.language(), p.ce()));
            }
        });
        return chart;
    }
}
