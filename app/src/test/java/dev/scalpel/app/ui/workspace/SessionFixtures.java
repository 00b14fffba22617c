package dev.scalpel.app.ui.workspace;

import dev.scalpel.app.ui.Session;
import dev.scalpel.engine.api.HeadSet;
import dev.scalpel.engine.edit.Edit;
import dev.scalpel.engine.edit.HeadLayout;
import dev.scalpel.engine.edit.LoraEdit;
import dev.scalpel.engine.groups.HeadGroup;
import dev.scalpel.engine.model.ComputeDevice;
import dev.scalpel.engine.model.LoadedModel;
import dev.scalpel.engine.model.Tensors;
import dev.scalpel.engine.testing.Fixtures;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.global.torch;

/** Sessions on the sample model with non-trivial edits and head groups, for the workspace and export tests. */
public final class SessionFixtures {
    /** A short token sequence [1, 8] inside the sample model's vocabulary. */
    public static final long[][] IDS = {{0, 45, 301, 77, 12, 99, 250, 3}};
    public static final List<HeadLayout.Projection> QKVO = List.of(HeadLayout.Projection.values());

    private SessionFixtures() {}

    /** A session on the bundled sample model. */
    public static Session sampleSession() {
        return new Session(LoadedModel.open(Fixtures.sampleModel(), ComputeDevice.CPU));
    }

    /** Fills an edit's trainable tensors with N(0, 0.05²) noise, so it changes the logits (a fresh LoRA's B is 0). */
    public static <E extends Edit> E randomize(E edit) {
        torch.manual_seed(7);
        try (NoGradGuard g = new NoGradGuard()) {
            for (var t : edit.trainables()) {
                t.value().copy_(torch.randn(Tensors.shape(t.value())).mul(new Scalar(0.05)));
            }
        }
        return edit;
    }

    /** A head-LoRA of rank 2 on {@code heads} (q, k, v, o) with random weights. */
    public static LoraEdit headLora(Session session, HeadSet heads) {
        return randomize(LoraEdit.heads(session.model().model(), heads, QKVO, 2, 4, 0, 1));
    }

    /**
     * Saves the session model's current weights of {@code heads}, scaled by 1.5, as head group {@code name} in
     * {@code file}: applying it changes the model.
     */
    public static Path scaledGroup(Session session, HeadSet heads, String name, Path file) {
        HeadGroup group = HeadGroup.extract(session.model().model(), session.modelHash(), name, heads, Map.of("test", "scaled"));
        try (NoGradGuard g = new NoGradGuard()) {
            group.tensors().values().forEach(t -> t.mul_(new Scalar(1.5)));
        }
        group.write(file, java.util.List.of());
        group.close();
        return file;
    }
}
