package dev.scalpel.app.ui;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.scalpel.app.ui.jobs.DirectJobRunner;
import dev.scalpel.engine.api.HeadId;
import dev.scalpel.engine.api.ImportanceMap;
import dev.scalpel.engine.importance.HeadImportance;
import dev.scalpel.engine.importance.ImportanceCache;
import dev.scalpel.engine.importance.Normalization;
import dev.scalpel.engine.spec.ImportanceSpec;
import dev.scalpel.engine.model.ComputeDevice;
import dev.scalpel.engine.model.LoadedModel;
import dev.scalpel.engine.testing.Fixtures;
import dev.scalpel.engine.api.HeadMark;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The heatmap's actions with a direct job runner: no toolkit, no sleeps. */
class ImportanceViewModelTest {

    @Test
    void aContrastMapIsComputedShownAndCachedForTheNextRun(@TempDir Path cacheDir) {
        try (Session s = new Session(LoadedModel.open(Fixtures.sampleModel(), ComputeDevice.CPU))) {
            var jobs = new DirectJobRunner();
            var vm = new ImportanceViewModel(s, jobs, new ImportanceCache(cacheDir));
            assertTrue(vm.domains().containsAll(List.of("de", "en", "de-en", "fr-es")), vm.domains().toString());
            vm.compute("de-en", HeadImportance.Method.GRADIENT);
            ImportanceMap first = s.mapProperty().get();
            assertNotNull(first);
            assertEquals("de-en", first.domain());
            assertEquals(6, first.layers());
            assertTrue(vm.statusProperty().get().matches("gradient importance on de-en \\(.*\\) in [0-9.]+ s; top heads L.*"),
                    vm.statusProperty().get());
            assertFalse(vm.busyProperty().get());
            assertTrue(jobs.messages().size() > 2, "the job reported progress: " + jobs.messages());
            assertEquals(first, s.maps().get("de-en · " + first.method()));

            vm.compute("de-en", HeadImportance.Method.GRADIENT);
            assertTrue(vm.statusProperty().get().contains("from the cache"), vm.statusProperty().get());
            assertEquals(first, s.mapProperty().get(), "the cached maps give the same contrast");
        }
    }

    /** The settings are the engine's ImportanceSpec: tokens, normalisation and agree-with reach the map and the status. */
    @Test
    void theSpecSettingsDecideTheMapAndTheAgreementIsReported() {
        try (Session s = new Session(LoadedModel.open(Fixtures.sampleModel(), ComputeDevice.CPU))) {
            var vm = new ImportanceViewModel(s, new DirectJobRunner(), null);
            vm.maxTokensProperty().set(200);
            vm.contextProperty().set(64);
            vm.normalizeProperty().set(Normalization.GLOBAL_RANK);
            vm.agreeWithProperty().set(HeadImportance.Method.ACTIVATION_NORM);
            assertEquals(new ImportanceSpec(HeadImportance.Method.GRADIENT, HeadImportance.Method.ACTIVATION_NORM, null,
                    Normalization.GLOBAL_RANK, Normalization.LAYER_ZSCORE, 200, 64, 4, null, true),
                    vm.spec("de", HeadImportance.Method.GRADIENT));
            vm.compute("de", HeadImportance.Method.GRADIENT);
            ImportanceMap map = s.mapProperty().get();
            assertEquals(200, map.tokens());
            double[] sorted = java.util.Arrays.stream(map.scores()).flatMapToDouble(java.util.Arrays::stream).sorted().toArray();
            assertEquals(48, sorted.length);
            assertEquals(0.0, sorted[0], 1e-12, "rank-normalised: the lowest head is 0");
            assertEquals(1.0, sorted[47], 1e-12, "and the highest 1");
            assertTrue(vm.statusProperty().get().matches(".*; Spearman vs activation-norm [+-][0-9.]+$"), vm.statusProperty().get());

            vm.contextProperty().set(100_000);
            vm.compute("de", HeadImportance.Method.GRADIENT);
            assertTrue(vm.statusProperty().get().startsWith("context (--context) is 100000 tokens, but this model has"),
                    vm.statusProperty().get());
        }
    }

    @Test
    void anUnknownDomainIsReportedNotComputed() {
        try (Session s = new Session(LoadedModel.open(Fixtures.sampleModel(), ComputeDevice.CPU))) {
            var vm = new ImportanceViewModel(s, new DirectJobRunner(), null);
            vm.compute("de-xx", HeadImportance.Method.GRADIENT);
            assertNull(s.mapProperty().get());
            assertFalse(vm.busyProperty().get());
            assertEquals("no text named 'xx' is open; choose one of [code, de, en, es, fr]", vm.statusProperty().get());
        }
    }

    @Test
    void cancellingStopsTheJobAndShowsNoMap() {
        try (Session s = new Session(LoadedModel.open(Fixtures.sampleModel(), ComputeDevice.CPU))) {
            var vm = new ImportanceViewModel(s, new DirectJobRunner().cancelAfterProgressReports(1), null);
            vm.compute("de", HeadImportance.Method.ABLATION_ZERO);
            assertNull(s.mapProperty().get());
            assertEquals("importance on de cancelled", vm.statusProperty().get());
            assertFalse(vm.busyProperty().get());
        }
    }

    @Test
    void topKAndThresholdMarkHeadsForTrainingButKeepFrozenOnes() {
        try (Session s = new Session(LoadedModel.open(Fixtures.sampleModel(), ComputeDevice.CPU))) {
            var vm = new ImportanceViewModel(s, new DirectJobRunner(), null);
            double[][] scores = new double[6][8];
            for (int l = 0; l < 6; l++) {
                for (int h = 0; h < 8; h++) {
                    scores[l][h] = l * 8 + h;
                }
            }
            s.showMap(new ImportanceMap(s.modelHash(), "", "de", "gradient", 1, scores));
            s.marks().put(new HeadId(5, 7), HeadMark.FREEZE);
            s.marks().put(new HeadId(0, 0), HeadMark.TRAIN);
            vm.markTopK(3);
            assertEquals(List.of(new HeadId(5, 5), new HeadId(5, 6)), List.copyOf(s.marked(HeadMark.TRAIN).heads()));
            assertEquals(HeadMark.FREEZE, s.marks().get(new HeadId(5, 7)));
            assertEquals("marked 2 heads for training (top 3), skipped 1 frozen", vm.statusProperty().get());
            vm.markAbove(43);
            assertEquals(List.of(new HeadId(5, 4), new HeadId(5, 5), new HeadId(5, 6)), List.copyOf(s.marked(HeadMark.TRAIN).heads()));
            assertEquals("marked 3 heads for training (score > 43.00), skipped 1 frozen", vm.statusProperty().get());
        }
    }
}
