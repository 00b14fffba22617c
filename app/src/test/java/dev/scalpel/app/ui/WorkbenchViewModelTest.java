package dev.scalpel.app.ui;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.scalpel.engine.importance.HeadImportance;
import dev.scalpel.engine.model.ComputeDevice;
import dev.scalpel.engine.model.LoadedModel;
import dev.scalpel.engine.testing.Fixtures;
import dev.scalpel.views.heatmap.HeadMark;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The workbench's logic with current-thread executors: no toolkit, no sleeps. */
class WorkbenchViewModelTest {

    @Test
    void computingAContrastMapPublishesItAndReportsTheTopHeads() {
        try (LoadedModel m = LoadedModel.open(Fixtures.sampleModel(), ComputeDevice.CPU)) {
            List<Boolean> busyStates = new ArrayList<>();
            var vm = new WorkbenchViewModel(m, Runnable::run, Runnable::run);
            vm.busyProperty().addListener((obs, old, now) -> busyStates.add(now));
            assertTrue(vm.domains().containsAll(List.of("de", "en", "de-en", "fr-es")), vm.domains().toString());
            vm.computeImportance("de-en", HeadImportance.Method.GRADIENT);
            assertNotNull(vm.mapProperty().get());
            assertEquals("de-en", vm.mapProperty().get().domain());
            assertEquals(6, vm.mapProperty().get().layers());
            assertTrue(vm.statusProperty().get().contains("top heads L"), vm.statusProperty().get());
            assertEquals(List.of(true, false), busyStates, "busy while computing, then free");
            assertEquals(1.0, vm.progressProperty().get());
        }
    }

    @Test
    void anUnknownDomainIsReportedNotComputed() {
        try (LoadedModel m = LoadedModel.open(Fixtures.sampleModel(), ComputeDevice.CPU)) {
            var vm = new WorkbenchViewModel(m, Runnable::run, Runnable::run);
            vm.computeImportance("de-xx", HeadImportance.Method.GRADIENT);
            assertNull(vm.mapProperty().get());
            assertFalse(vm.busyProperty().get());
            assertEquals("no text named 'xx' ships with this model", vm.statusProperty().get());
        }
    }

    @Test
    void aClickCyclesNoneTrainFreeze() {
        assertEquals(HeadMark.TRAIN, HeadMark.NONE.next());
        assertEquals(HeadMark.FREEZE, HeadMark.TRAIN.next());
        assertEquals(HeadMark.NONE, HeadMark.FREEZE.next());
    }
}
