package dev.scalpel.app.ui;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.scalpel.engine.api.HeadSet;
import dev.scalpel.engine.edit.HeadLayout;
import dev.scalpel.engine.edit.LoraEdit;
import dev.scalpel.engine.model.ComputeDevice;
import dev.scalpel.engine.model.LoadedModel;
import dev.scalpel.engine.testing.Fixtures;
import java.util.ArrayList;
import java.util.List;
import javafx.collections.ListChangeListener;
import org.junit.jupiter.api.Test;

/** The session's observable state as the window uses it. */
class SessionTest {

    @Test
    void listenersOnTheReadOnlyEditStackSurviveGarbageCollection() {
        try (Session s = new Session(LoadedModel.open(Fixtures.sampleModel(), ComputeDevice.CPU))) {
            List<Integer> sizes = new ArrayList<>();
            s.edits().addListener((ListChangeListener<Object>) c -> sizes.add(s.edits().size()));
            for (int i = 0; i < 3; i++) {
                System.gc();
            }
            s.addEdit(LoraEdit.heads(s.model().model(), HeadSet.parse("L1H1"), List.of(HeadLayout.Projection.values()), 2, 4, 0, 1));
            s.undo().undo();
            assertEquals(List.of(1, 0), sizes, "a view made per call would have been collected with its listener");
            assertSame(s.edits(), s.edits());
            assertSame(s.loadedGroups(), s.loadedGroups());
        }
    }
}
