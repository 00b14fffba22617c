package dev.scalpel.engine.model.arch.llama;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The chunked form of the gated delta rule equals the position-by-position form, across chunk boundaries and states. */
class GatedDeltaRuleTest {
    @ParameterizedTest
    @ValueSource(ints = {1, 5, 64, 70, 130})
    void chunkedEqualsRecurrentFromAnyState(int positions) {
        try (PointerScope scope = new PointerScope()) {
            torch.manual_seed(positions);
            long b = 2, h = 3, dk = 8, dv = 6;
            Tensor q = l2(torch.randn(b, h, positions, dk)).mul(new Scalar(1 / Math.sqrt(dk)));
            Tensor k = l2(torch.randn(b, h, positions, dk));
            Tensor v = torch.randn(b, h, positions, dv);
            Tensor beta = torch.rand(b, h, positions);
            Tensor decay = torch.rand(b, h, positions).mul(new Scalar(-0.5));                 // g ≤ 0
            Tensor state = torch.randn(b, h, dk, dv).mul(new Scalar(0.3));
            GatedDeltaRule.Result recurrent = GatedDeltaRule.recurrent(q, k, v, beta, decay, state);
            GatedDeltaRule.Result chunked = GatedDeltaRule.chunked(q, k, v, beta, decay, state);
            assertEquals(positions, chunked.output().size(2));
            double outDiff = recurrent.output().sub(chunked.output()).abs().max().item_double();
            double stateDiff = recurrent.state().sub(chunked.state()).abs().max().item_double();
            assertTrue(outDiff < 1e-5 && stateDiff < 1e-5, "output diff " + outDiff + ", state diff " + stateDiff);
            assertTrue(recurrent.output().abs().max().item_double() > 1e-2, "the outputs are not trivially zero");
        }
    }

    private static Tensor l2(Tensor x) {
        return x.div(x.norm(new org.bytedeco.pytorch.ScalarOptional(new Scalar(2)), new long[] {-1}, true));
    }
}
