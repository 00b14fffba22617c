package dev.scalpel.app.ui;

import dev.scalpel.engine.api.HeadId;
import dev.scalpel.engine.api.ImportanceMap;
import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.views.heatmap.HeadHeatmap;
import dev.scalpel.engine.api.HeadMark;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import javafx.application.Platform;
import javafx.scene.Scene;
import javafx.scene.layout.GridPane;
import javafx.scene.paint.Color;
import javafx.scene.shape.Rectangle;
import javafx.stage.Stage;

/**
 * How long the heatmap takes to redraw a big model's map, next to a peer measured in the same run: the same cells as
 * a scene graph (a GridPane of one Rectangle per head, the obvious alternative to a Canvas). Each repetition swaps
 * in a new map of random scores with 2 % of heads marked, then rasterises the control (a snapshot), so the time is
 * drawing commands plus pixels, as on screen; the heatmap's own redraw (recording the drawing commands) and a snapshot
 * of an unchanged control (the fixed cost of reading pixels back) are reported too. Needs a display (Xvfb works).
 */
public final class HeatmapBenchmark {
    /** One run's medians and 95th percentiles in milliseconds. */
    public record Result(int layers, int heads, int reps, double redrawMedianMs, double redrawP95Ms, double snapshotOnlyMs,
                         double canvasMedianMs, double canvasP95Ms, double nodeGridMedianMs, double nodeGridP95Ms) {
        /** The frame budget at 60 Hz. */
        public static final double FRAME_MS = 1000.0 / 60;

        public double canvasOverNodeGrid() {
            return canvasMedianMs / nodeGridMedianMs;
        }

        /** The heatmap's own drawing (its redraw method, without rasterising) against one 60 Hz frame. */
        public double redrawOverFrameBudget() {
            return redrawMedianMs / FRAME_MS;
        }
    }

    private HeatmapBenchmark() {}

    /** Starts the toolkit (if needed), measures, and returns; throws a clear error without a display. */
    public static Result run(int layers, int heads, int reps) {
        CompletableFuture<Result> result = new CompletableFuture<>();
        Runnable measure = () -> {
            try {
                result.complete(measureOnFxThread(layers, heads, reps));
            } catch (RuntimeException e) {
                result.completeExceptionally(e);
            }
        };
        try {
            Platform.startup(measure);
        } catch (IllegalStateException alreadyRunning) {
            Platform.runLater(measure);
        } catch (UnsupportedOperationException noDisplay) {
            throw new ScalpelException("The heatmap benchmark needs a display; run it under Xvfb: xvfb-run ./scalpel bench --heatmap", noDisplay);
        }
        try {
            return result.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ScalpelException("The heatmap benchmark was interrupted.", e);
        } catch (ExecutionException e) {
            throw new ScalpelException("The heatmap benchmark failed: " + e.getCause().getMessage(), e.getCause());
        }
    }

    private static Result measureOnFxThread(int layers, int heads, int reps) {
        Random random = new Random(1);
        HeadHeatmap heatmap = new HeadHeatmap();
        Stage stage = new Stage();
        stage.setScene(new Scene(heatmap, 1280, 900));
        stage.show();
        double[] canvas = new double[reps];
        double[] redraw = new double[reps];
        for (int r = -3; r < reps; r++) {
            ImportanceMap map = randomMap(random, layers, heads);
            long t0 = System.nanoTime();
            heatmap.marks().clear();
            for (int i = 0; i < layers * heads / 50; i++) {
                heatmap.marks().put(new HeadId(random.nextInt(layers), random.nextInt(heads)), i % 2 == 0 ? HeadMark.TRAIN : HeadMark.FREEZE);
            }
            heatmap.mapProperty().set(map);
            heatmap.snapshot(null, null);
            if (r >= 0) {
                canvas[r] = (System.nanoTime() - t0) / 1e6;
                redraw[r] = heatmap.lastRedrawNanos() / 1e6;
            }
        }
        double[] snapshotOnly = new double[reps];
        for (int r = 0; r < reps; r++) {
            long t0 = System.nanoTime();
            heatmap.snapshot(null, null);
            snapshotOnly[r] = (System.nanoTime() - t0) / 1e6;
        }
        GridPane grid = new GridPane();
        Rectangle[][] cells = new Rectangle[layers][heads];
        double cw = (1280 - 44) / (double) heads, ch = (900 - 64) / (double) layers;
        for (int l = 0; l < layers; l++) {
            for (int h = 0; h < heads; h++) {
                cells[l][h] = new Rectangle(cw - 1, ch - 1);
                grid.add(cells[l][h], h, l);
            }
        }
        stage.setScene(new Scene(grid, 1280, 900));
        double[] nodes = new double[reps];
        for (int r = -3; r < reps; r++) {
            ImportanceMap map = randomMap(random, layers, heads);
            long t0 = System.nanoTime();
            for (int l = 0; l < layers; l++) {
                for (int h = 0; h < heads; h++) {
                    double t = map.scores()[l][h];
                    cells[l][h].setFill(Color.web("#2166ac").interpolate(Color.web("#b2182b"), t));
                }
            }
            grid.snapshot(null, null);
            if (r >= 0) {
                nodes[r] = (System.nanoTime() - t0) / 1e6;
            }
        }
        stage.close();
        return new Result(layers, heads, reps, percentile(redraw, 0.5), percentile(redraw, 0.95), percentile(snapshotOnly, 0.5),
                percentile(canvas, 0.5), percentile(canvas, 0.95), percentile(nodes, 0.5), percentile(nodes, 0.95));
    }

    private static ImportanceMap randomMap(Random random, int layers, int heads) {
        double[][] scores = new double[layers][heads];
        for (double[] row : scores) {
            for (int h = 0; h < heads; h++) {
                row[h] = random.nextDouble();
            }
        }
        return new ImportanceMap("bench", "", "bench", "random", layers * heads, scores);
    }

    private static double percentile(double[] values, double q) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[Math.min(sorted.length - 1, (int) Math.floor(q * sorted.length))];
    }
}
