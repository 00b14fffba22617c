package dev.scalpel.engine.testing;

import dev.scalpel.engine.model.CausalLM;
import dev.scalpel.engine.model.ComputeDevice;
import dev.scalpel.engine.model.ForwardContext;
import dev.scalpel.engine.model.LinearOverlay;
import dev.scalpel.engine.model.ModelHash;
import dev.scalpel.engine.model.ModelLoader;
import dev.scalpel.engine.model.Tensors;
import java.nio.file.Path;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;

/**
 * The model the fuzz targets check files against: the GQA fixture (2 layers, 4 query / 2 kv heads, d 64), loaded once
 * per JVM, with a check that whatever a hostile file put into it leaves the logits finite.
 */
public final class FuzzModel {
    private static final Path DIR = Fixtures.model("llama-gqa");
    private static final long[] PROMPT = {0, 5, 17, 42, 9};
    private static CausalLM model;
    private static String hash;

    private FuzzModel() {
    }

    public static synchronized CausalLM model() {
        if (model == null) {
            model = ModelLoader.load(DIR, ComputeDevice.CPU);
            hash = ModelHash.of(DIR);
        }
        return model;
    }

    /** The content hash files made for {@link #model} record. */
    public static synchronized String hash() {
        model();
        return hash;
    }

    /** Fails when a forward pass of a short prompt through the model (with {@code overlay}, if any) is not finite. */
    public static void requireFiniteLogits(LinearOverlay overlay, String what) {
        ForwardContext ctx = overlay == null ? ForwardContext.plain() : ForwardContext.withOverlay(overlay);
        boolean finite;
        try (NoGradGuard noGrad = new NoGradGuard(); PointerScope scope = new PointerScope()) {
            Tensor logits = model().forward(Tensors.ids(PROMPT, ComputeDevice.CPU), ctx);   // [1, 5, V]
            finite = logits.isfinite().all().item_bool();
        }
        if (!finite) {
            throw new AssertionError(what + " was accepted but makes the logits non-finite");
        }
    }
}
