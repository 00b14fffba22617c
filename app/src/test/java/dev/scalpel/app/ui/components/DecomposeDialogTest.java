package dev.scalpel.app.ui.components;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.scalpel.app.SpecFields;
import dev.scalpel.app.ui.Session;
import dev.scalpel.app.ui.jobs.DirectJobRunner;
import dev.scalpel.engine.model.ComputeDevice;
import dev.scalpel.engine.model.LoadedModel;
import dev.scalpel.engine.spec.DecomposeSpec;
import dev.scalpel.engine.testing.Fixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javafx.scene.Scene;
import javafx.scene.layout.StackPane;
import javafx.stage.Stage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.testfx.api.FxRobot;
import org.testfx.framework.junit5.ApplicationExtension;
import org.testfx.framework.junit5.Start;

/**
 * Issue 20 in the workbench: the Decompose dialog exposes every field of the engine's DecomposeSpec (found by
 * reflection), and a run started from it writes the decomposition and hands it to the Components view; a cancelled run
 * checkpoints and the next start resumes it.
 */
@ExtendWith(ApplicationExtension.class)
class DecomposeDialogTest {
    private static final String MODULE = "model.layers.5.self_attn.v_proj";

    @TempDir
    Path tmp;
    private Session session;
    private ComponentsViewModel components;

    @Start
    void start(Stage stage) {
        session = new Session(LoadedModel.open(Fixtures.sampleModel(), ComputeDevice.CPU));
        components = new ComponentsViewModel(session, new DirectJobRunner());
        components.moduleProperty().set(MODULE);
        stage.setScene(new Scene(new StackPane(), 200, 100));
        stage.show();
        DecomposeDialog dialog = new DecomposeDialog(components.decomposer());
        dialog.initOwner(stage);
        dialog.show();
    }

    @AfterEach
    void close() {
        session.close();
    }

    @Test
    void everyDecomposeSpecFieldHasAControl(FxRobot robot) {
        List<String> missing = new ArrayList<>();
        for (String field : SpecFields.of(DecomposeSpec.class)) {
            if (robot.lookup("#" + SpecFields.controlId(field)).tryQuery().isEmpty()) {
                missing.add("#" + SpecFields.controlId(field));
            }
        }
        assertEquals(List.of(), missing, "DecomposeSpec fields without a control in the Decompose dialog");
    }

    @Test
    void aRunWritesTheFileAndTheComponentsViewTakesIt() {
        Path out = tmp.resolve("d.safetensors");
        ComponentsViewModel cancelling = new ComponentsViewModel(session, new DirectJobRunner().cancelAfterProgressReports(8));
        cancelling.moduleProperty().set(MODULE);
        DecomposeViewModel vm = cancelling.decomposer();
        assertEquals(MODULE, vm.modulesProperty().get());
        assertEquals(384, vm.componentsProperty().get(), "1.5 × the larger side of the 256 × 256 matrix");
        vm.componentsProperty().set(16);
        vm.stepsProperty().set(6);
        vm.warmupStepsProperty().set(4);
        vm.batchSizeProperty().set(2);
        vm.contextProperty().set(32);
        vm.outProperty().set(out.toString());
        vm.start();
        assertTrue(vm.statusProperty().get().startsWith("checkpointed " + out + " after 8 of 10 steps"), vm.statusProperty().get());
        assertEquals(null, components.spdProperty().get(), "an unfinished decomposition is not shown");

        DecomposeViewModel again = components.decomposer();
        again.componentsProperty().set(16);
        again.stepsProperty().set(6);
        again.warmupStepsProperty().set(4);
        again.batchSizeProperty().set(2);
        again.contextProperty().set(32);
        again.outProperty().set(out.toString());
        again.start();
        assertTrue(again.statusProperty().get().startsWith("wrote " + out + " after 10 of 10 steps"), again.statusProperty().get());
        assertEquals(out, components.spdProperty().get(), "the Components view now takes its subcomponents from the file");
        assertTrue(Files.isRegularFile(out));

        again.outProperty().set(session.modelDir().resolve("d.safetensors").toString());
        again.start();
        assertTrue(again.problemProperty().get().contains(session.modelDir().toString()), "the model folder is refused: "
                + again.problemProperty().get());
    }
}
