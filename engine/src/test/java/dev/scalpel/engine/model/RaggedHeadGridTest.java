package dev.scalpel.engine.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.scalpel.engine.api.HeadGrid;
import dev.scalpel.engine.api.HeadId;
import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.testing.Fixtures;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The ragged head grid of a hybrid whose Gated DeltaNet layers have more (and narrower) heads than its attention layers:
 * qwen3-next-ragged, layers 0-2 with 8 value heads of 8, layer 3 with 4 attention heads of 16.
 */
class RaggedHeadGridTest {
    private static final long[][] IDS = {{0, 45, 301, 77, 12, 99, 250, 3, 18, 400}};
    private static CausalLM model;

    @BeforeAll
    static void load() {
        model = ModelLoader.load(Fixtures.model("qwen3-next-ragged"), ComputeDevice.CPU);
    }

    @AfterAll
    static void close() {
        model.close();
    }

    private static float[] logits(ForwardContext ctx) {
        try (PointerScope s = new PointerScope()) {
            return Tensors.toFloats(model.forward(Tensors.ids(IDS, ComputeDevice.CPU), ctx));
        }
    }

    @Test
    void eachLayerHasItsOwnHeadsAndHeadWidth() {
        ModelConfig c = model.config();
        assertEquals(new HeadGrid(List.of(8, 8, 8, 4)), c.headGrid());
        assertEquals(List.of(8, 8, 8, 16), List.of(c.headWidthIn(0), c.headWidthIn(1), c.headWidthIn(2), c.headWidthIn(3)));
        assertEquals(16, c.maxHeadWidth());
        assertEquals(new HeadGrid(List.of(8, 8, 8, 4)), ConfigReader.read(Fixtures.model("qwen3_5-ragged")).headGrid());
    }

    /** Gate 0 on one head equals zeroing that head's z through the hook, and no other head's; in both kinds of layer. */
    @Test
    void aGateOnOneHeadChangesOnlyThatHead() {
        float[] plain = logits(ForwardContext.plain());
        for (HeadId head : List.of(new HeadId(0, 6), new HeadId(2, 1), new HeadId(3, 3))) {
            float[] gated;
            try (HeadGates gates = HeadGates.ones(model.config(), ComputeDevice.CPU).set(head, 0)) {
                gated = logits(ForwardContext.withGates(gates));
            }
            assertArrayEquals(zeroedThroughHook(head), gated, 1e-6f, head + ": the gate is that head's z, nothing else");
            assertTrue(maxAbsDiff(gated, plain) > 1e-3, head + ": ablating it changes the logits");
            HeadId neighbour = new HeadId(head.layer(), head.head() == 0 ? 1 : head.head() - 1);
            assertTrue(maxAbsDiff(gated, zeroedThroughHook(neighbour)) > 1e-4, head + " is not " + neighbour);
        }
    }

    private static float[] zeroedThroughHook(HeadId head) {
        Hooks hooks = new Hooks().add(HookPoints.z(head.layer()), z -> {           // z: [B, S, H_l, D_l]
            Tensor patched = z.clone();
            patched.select(2, head.head()).fill_(new Scalar(0.0));
            return patched;
        });
        return logits(ForwardContext.withHooks(hooks));
    }

    @Test
    void aHeadBeyondItsLayersCountIsRefusedNamingThatCount() {
        try (HeadGates gates = HeadGates.ones(model.config(), ComputeDevice.CPU)) {
            gates.set(new HeadId(0, 7), 0);                                   // a Gated DeltaNet layer has 8
            ScalpelException e = assertThrows(ScalpelException.class, () -> gates.set(new HeadId(3, 4), 0));
            assertEquals("Head L3H4 does not exist: layer 3 has 4 heads (H0 to H3).", e.getMessage());
        }
    }

    /** The gate gradient is [L, W]: every head of every layer gets one, the absent cells of layer 3 stay 0. */
    @Test
    void theGateGradientCoversEveryHeadAndLeavesTheAbsentCellsZero() {
        try (PointerScope s = new PointerScope(); HeadGates gates = HeadGates.ones(model.config(), ComputeDevice.CPU).requireGrad()) {
            Tensor ids = Tensors.ids(IDS, ComputeDevice.CPU);
            long n = IDS[0].length;
            Tensor out = model.forward(ids.narrow(1, 0, n - 1), ForwardContext.withGates(gates));       // [1, n-1, V]
            torch.cross_entropy_loss(out.reshape(-1, out.size(2)), ids.narrow(1, 1, n - 1).reshape(-1)).backward();
            assertArrayEquals(new long[] {4, 8}, Tensors.shape(gates.grad()));
            float[] grad = Tensors.toFloats(gates.grad());                                                // [4 × 8]
            for (int l = 0; l < 4; l++) {
                for (int h = 0; h < 8; h++) {
                    boolean present = model.config().headGrid().contains(new HeadId(l, h));
                    assertEquals(present, grad[l * 8 + h] != 0, "L" + l + "H" + h + " gradient " + grad[l * 8 + h]);
                }
            }
        }
    }

    private static double maxAbsDiff(float[] a, float[] b) {
        double max = 0;
        for (int i = 0; i < a.length; i++) {
            max = Math.max(max, Math.abs(a[i] - b[i]));
        }
        return max;
    }
}
