package dev.scalpel.engine.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.scalpel.engine.api.HeadId;
import dev.scalpel.engine.testing.Fixtures;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Head gates, hooks (capture, patch, pattern) and their gradients on a GQA Llama fixture. */
class ForwardMechanicsTest {
    private static final long[][] IDS = {{0, 45, 301, 77, 12, 99, 250, 3, 18, 400}};
    private static CausalLM model;

    @BeforeAll
    static void load() {
        model = ModelLoader.load(Fixtures.model("llama-gqa"), ComputeDevice.CPU);
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
    void gatesOfOneAreTheUnmodifiedModel() {
        try (HeadGates gates = HeadGates.ones(model.config(), ComputeDevice.CPU)) {
            assertArrayEquals(logits(ForwardContext.plain()), logits(ForwardContext.withGates(gates)), 1e-6f);
        }
    }

    @Test
    void gateZeroEqualsZeroingThatHeadsOutputThroughTheZHook() {
        HeadId head = new HeadId(1, 2);
        float[] gated;
        try (HeadGates gates = HeadGates.ones(model.config(), ComputeDevice.CPU).set(head, 0)) {
            gated = logits(ForwardContext.withGates(gates));
        }
        Hooks hooks = new Hooks().add(HookPoints.z(head.layer()), z -> {           // z: [B, S, H, D]
            Tensor patched = z.clone();
            patched.select(2, head.head()).fill_(new Scalar(0.0));
            return patched;
        });
        float[] patched = logits(ForwardContext.withHooks(hooks));
        assertArrayEquals(patched, gated, 1e-6f);
        assertTrue(maxAbsDiff(gated, logits(ForwardContext.plain())) > 1e-3, "ablating a head must change the logits");
    }

    @Test
    void gateGradientMatchesFiniteDifferences() {
        HeadId head = new HeadId(0, 3);
        double analytic;
        try (PointerScope s = new PointerScope(); HeadGates gates = HeadGates.ones(model.config(), ComputeDevice.CPU).requireGrad()) {
            loss(gates).backward();
            Tensor grad = gates.grad();
            assertNotNull(grad);
            assertArrayEquals(new long[] {2, 4}, Tensors.shape(grad));
            analytic = Tensors.toFloats(grad)[head.layer() * 4 + head.head()];
        }
        double eps = 1e-2;
        double up, down;
        try (PointerScope s = new PointerScope(); HeadGates g = HeadGates.ones(model.config(), ComputeDevice.CPU)) {
            up = loss(g.set(head, 1 + eps)).item_double();
            down = loss(g.set(head, 1 - eps)).item_double();
        }
        double numeric = (up - down) / (2 * eps);
        assertTrue(Math.abs(analytic) > 1e-4, "gradient should not vanish: " + analytic);
        assertEquals(numeric, analytic, 2e-3 * Math.max(1, Math.abs(numeric)));
    }

    /** Mean next-token cross-entropy of IDS. */
    private static Tensor loss(HeadGates gates) {
        Tensor ids = Tensors.ids(IDS, ComputeDevice.CPU);
        long n = IDS[0].length;
        Tensor logits = model.forward(ids.narrow(1, 0, n - 1), ForwardContext.withGates(gates));    // [1, n-1, V]
        return torch.cross_entropy_loss(logits.reshape(-1, logits.size(2)), ids.narrow(1, 1, n - 1).reshape(-1));
    }

    @Test
    void explicitAttentionForThePatternHookGivesTheSameLogitsAndACausalPattern() {
        Hooks hooks = new Hooks();
        Map<String, Tensor> captured = hooks.capture(HookPoints.pattern(1));
        float[] eager = logits(ForwardContext.withHooks(hooks));
        assertArrayEquals(logits(ForwardContext.plain()), eager, 1e-5f);
        Tensor pattern = captured.get(HookPoints.pattern(1));                      // [1, H, S, S]
        assertArrayEquals(new long[] {1, 4, 10, 10}, Tensors.shape(pattern));
        float[] p = Tensors.toFloats(pattern);
        for (int h = 0; h < 4; h++) {
            for (int i = 0; i < 10; i++) {
                double rowSum = 0;
                for (int j = 0; j < 10; j++) {
                    float v = p[(h * 10 + i) * 10 + j];
                    rowSum += v;
                    if (j > i) {
                        assertEquals(0f, v, "query " + i + " must not see future key " + j);
                    }
                }
                assertEquals(1.0, rowSum, 1e-5);
            }
        }
        pattern.releaseReference();
    }

    @Test
    void hookQIsBeforeRopeAndHookRotQAfterAsInTransformerLens() {
        Hooks hooks = new Hooks();
        Map<String, Tensor> captured = hooks.capture(HookPoints.q(0), HookPoints.rotQ(0), HookPoints.k(0), HookPoints.rotK(0));
        try (PointerScope s = new PointerScope()) {
            model.forward(Tensors.ids(IDS, ComputeDevice.CPU), ForwardContext.withHooks(hooks));
            Tensor q = captured.get(HookPoints.q(0));                                 // [1, S, H, D]
            Tensor rotQ = captured.get(HookPoints.rotQ(0));
            Tensor rope = new RotaryEmbedding(model.config()).table(0, IDS[0].length, ComputeDevice.CPU).apply(q);
            assertEquals(0.0, rotQ.sub(rope).abs().max().item_double(), 1e-6, "hook_rot_q = RoPE(hook_q)");
            assertEquals(0.0, rotQ.select(1, 0).sub(q.select(1, 0)).abs().max().item_double(), 1e-6,
                    "position 0 is not rotated");
            assertTrue(rotQ.select(1, 5).sub(q.select(1, 5)).abs().max().item_double() > 1e-3, "position 5 is rotated");
            Tensor k = captured.get(HookPoints.k(0));                                 // [1, S, Hkv, D]
            assertEquals(model.config().numKvHeads(), k.size(2));
            assertTrue(captured.get(HookPoints.rotK(0)).sub(k).abs().max().item_double() > 1e-3, "keys are rotated too");
        }
        captured.values().forEach(Tensor::releaseReference);
    }

    @Test
    void patchingTheWholeResidualStreamTransplantsAnotherInputsOutput() {
        long[][] other = {{0, 11, 22, 33, 44, 55, 66, 77, 88, 99}};
        Hooks capture = new Hooks();
        Map<String, Tensor> saved = capture.capture(HookPoints.residPre(1));
        float[] otherLogits;
        try (PointerScope s = new PointerScope()) {
            otherLogits = Tensors.toFloats(model.forward(Tensors.ids(other, ComputeDevice.CPU), ForwardContext.withHooks(capture)));
        }
        Tensor donor = saved.get(HookPoints.residPre(1));
        Hooks patch = new Hooks().add(HookPoints.residPre(1), x -> donor);
        assertArrayEquals(otherLogits, logits(ForwardContext.withHooks(patch)), 1e-5f);
        donor.releaseReference();
    }

    @Test
    void slidingWindowMaskLimitsHowFarBackAQuerySees() {
        Tensor mask = CausalSelfAttention.causalMask(2, 3, 2, torch.zeros(1));      // queries at 2,3,4; keys 0..4
        long[] allowed = Tensors.toLongs(mask.to(torch.ScalarType.Long));
        assertArrayEquals(new long[] {
                0, 1, 1, 0, 0,
                0, 0, 1, 1, 0,
                0, 0, 0, 1, 1}, allowed);
    }

    private static double maxAbsDiff(float[] a, float[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - b[i]));
        }
        return m;
    }
}
