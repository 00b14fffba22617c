package dev.scalpel.app.ui.compare;

import dev.scalpel.engine.api.HeadId;
import dev.scalpel.engine.api.HeadSet;
import dev.scalpel.engine.edit.HeadLayout;
import dev.scalpel.engine.edit.LoraEdit;
import dev.scalpel.engine.model.CausalLM;
import java.util.List;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;

/** Edits for the compare tests. */
final class TestEdits {
    private TestEdits() {}

    /** Head-LoRA on L1H0 and L3H2 (q, k, v, o) whose B is {@code value} everywhere, so that it changes the model. */
    static LoraEdit nonzeroLora(CausalLM model, double value) {
        LoraEdit edit = LoraEdit.heads(model, HeadSet.of(new HeadId(1, 0), new HeadId(3, 2)),
                List.of(HeadLayout.Projection.values()), 4, 8, 0, 1);
        try (NoGradGuard g = new NoGradGuard()) {
            edit.tensors().forEach((name, t) -> {
                if (name.endsWith(".lora_B")) {
                    t.fill_(new Scalar(value));
                }
            });
        }
        return edit;
    }
}
