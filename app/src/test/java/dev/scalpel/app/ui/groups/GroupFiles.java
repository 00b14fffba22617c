package dev.scalpel.app.ui.groups;

import dev.scalpel.engine.api.HeadSet;
import dev.scalpel.engine.groups.HeadGroup;
import dev.scalpel.engine.model.ComputeDevice;
import dev.scalpel.engine.model.LoadedModel;
import dev.scalpel.engine.model.ModelHash;
import dev.scalpel.engine.testing.Fixtures;
import java.nio.file.Path;
import java.util.Map;
import org.bytedeco.pytorch.NoGradGuard;

/** Head-group files for tests: heads of the sample model whose weights were scaled first, so applying one changes the model. */
public final class GroupFiles {
    private GroupFiles() {}

    /** Writes group {@code name} with {@code heads} taken from the sample model with every weight × {@code scale}. */
    public static Path write(Path dir, String name, String heads, double scale) {
        try (LoadedModel m = LoadedModel.open(Fixtures.sampleModel(), ComputeDevice.CPU); NoGradGuard g = new NoGradGuard()) {
            m.model().weights().asMap().values().forEach(w -> w.mul_(new org.bytedeco.pytorch.Scalar(scale)));
            Path file = dir.resolve(name + ".json");
            HeadGroup group = HeadGroup.extract(m.model(), ModelHash.of(m.dir()), name, HeadSet.parse(heads, 8), Map.of("test", "scaled"));
            group.write(file, java.util.List.of());
            group.close();
            return file;
        }
    }
}
