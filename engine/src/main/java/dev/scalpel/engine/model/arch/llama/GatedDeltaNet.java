package dev.scalpel.engine.model.arch.llama;

import dev.scalpel.engine.model.CausalSelfAttention;
import dev.scalpel.engine.model.ComputeDevice;
import dev.scalpel.engine.model.DecoderStyle.DeltaNetShape;
import dev.scalpel.engine.model.ForwardContext;
import dev.scalpel.engine.model.HookPoints;
import dev.scalpel.engine.model.Hooks;
import dev.scalpel.engine.model.KvCache;
import dev.scalpel.engine.model.LinearOverlay;
import dev.scalpel.engine.model.Tensors;
import dev.scalpel.engine.model.arch.llama.LlamaLayer.Linear;
import dev.scalpel.engine.model.arch.llama.LlamaLayer.Parameter;
import org.bytedeco.pytorch.DoubleOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * One Gated DeltaNet layer of Qwen3.5 or Qwen3-Next (linear attention), with transformers' semantics. Per value head h
 * and position t, with a state S [D_k, D_v]:
 * <pre>
 *   q, k, v  = silu(causal depthwise conv(in_proj_qkv(x)))      q, k per key head, shared by H_v / H_k value heads
 *   q, k     = l2norm(q), l2norm(k);  q /= √D_k
 *   β        = sigmoid(in_proj_b(x)),  g = −exp(A_log) · softplus(in_proj_a(x) + dt_bias)
 *   S        = exp(g) · S;   S += k ⊗ β(v − kᵀS);   o = qᵀS
 *   out      = out_proj(rmsnorm(o) · w · silu(in_proj_z(x)))
 * </pre>
 * Qwen3-Next computes the same four projections with two fused, per-key-head interleaved matrices ({@link Interleaved}).
 * The value heads are this layer's heads: {@code hook_z} and the head gates act on o per value head before out_proj.
 * Like transformers, a one-token step runs the recurrent form of the rule and longer inputs the chunked form
 * ({@link GatedDeltaRule}); with a cache the conv inputs and S carry over to the next pass.
 *
 * @param in      the input projections (q | k | v, z, b, a)
 * @param conv    conv1d.weight [C, 1, K], one K-tap causal filter per q|k|v channel, no bias
 * @param dtBias  dt_bias [H_v]
 * @param aLog    A_log [H_v]: the decay rate is exp(A_log)
 * @param norm    norm.weight [D_v], the gated RMSNorm's weight (plain, not 1 + w)
 * @param out     out_proj [d, H_v·D_v]
 */
record GatedDeltaNet(Projections in, Parameter conv, Parameter dtBias, Parameter aLog, Parameter norm, Linear out) {
    private static final double L2_EPS = 1e-6;

    /** The projections of x [B, S, d]: qkv [B, S, C] (rows q | k | v), z [B, S, H_v, D_v], b and a [B, S, H_v]. */
    record Projected(Tensor qkv, Tensor z, Tensor b, Tensor a) {}

    /** How a layer projects its input (Qwen3.5: four matrices; Qwen3-Next: two interleaved ones). */
    sealed interface Projections {
        Projected project(Tensor x, DeltaNetShape shape, LinearOverlay ov);
    }

    /**
     * Qwen3.5: in_proj_qkv [2·H_k·D_k + H_v·D_v, d] (rows q | k | v), in_proj_z [H_v·D_v, d] (the output gate),
     * in_proj_b [H_v, d] (β's logits) and in_proj_a [H_v, d] (the decay's input).
     */
    record Separate(Linear qkv, Linear z, Linear b, Linear a) implements Projections {
        @Override
        public Projected project(Tensor x, DeltaNetShape shape, LinearOverlay ov) {
            long bsz = x.size(0), s = x.size(1);
            return new Projected(linear(qkv, x, ov), linear(z, x, ov).reshape(bsz, s, shape.valueHeads(), shape.valueDim()),
                    linear(b, x, ov), linear(a, x, ov));
        }
    }

    /**
     * Qwen3-Next: in_proj_qkvz [H_k·W, d] with, per key head, W = 2·D_k + 2·r·D_v rows: its q, its k, then the v and
     * the z of its r = H_v / H_k value heads; in_proj_ba [2·H_v, d] with, per key head, the b then the a of its value
     * heads. Regrouped here into Qwen3.5's q | k | v order (the conv's channel order) and per-value-head z, b, a.
     */
    record Interleaved(Linear qkvz, Linear ba) implements Projections {
        @Override
        public Projected project(Tensor x, DeltaNetShape shape, LinearOverlay ov) {
            long bsz = x.size(0), s = x.size(1);
            int hk = shape.keyHeads(), hv = shape.valueHeads(), dk = shape.keyDim(), dv = shape.valueDim();
            long r = shape.valueHeadsPerKeyHead();
            Tensor groups = linear(qkvz, x, ov).view(bsz, s, hk, shape.qkvzGroupRows());                  // [B, S, Hk, W]
            Tensor q = groups.narrow(-1, 0, dk).reshape(bsz, s, (long) hk * dk);                          // [B, S, Hk·Dk]
            Tensor k = groups.narrow(-1, dk, dk).reshape(bsz, s, (long) hk * dk);                         // [B, S, Hk·Dk]
            Tensor v = groups.narrow(-1, 2L * dk, r * dv).reshape(bsz, s, (long) hv * dv);               // [B, S, Hv·Dv]
            Tensor z = groups.narrow(-1, 2L * dk + r * dv, r * dv).reshape(bsz, s, hv, dv);              // [B, S, Hv, Dv]
            Tensor bAndA = linear(ba, x, ov).view(bsz, s, hk, 2 * r);                                      // [B, S, Hk, 2r]
            return new Projected(torch.cat(new TensorVector(q, k, v), -1), z,
                    bAndA.narrow(-1, 0, r).reshape(bsz, s, hv), bAndA.narrow(-1, r, r).reshape(bsz, s, hv));
        }
    }

    /** x [B, S, d] (already normed) → the layer's contribution to the residual stream [B, S, d]. */
    Tensor forward(int layer, Tensor x, DeltaNetShape shape, double normEps, ForwardContext ctx, HookPoints.Layer names) {
        Hooks hooks = ctx.hooks();
        LinearOverlay ov = ctx.overlay();
        long bsz = x.size(0), s = x.size(1);
        int hk = shape.keyHeads(), hv = shape.valueHeads(), dk = shape.keyDim(), dv = shape.valueDim();
        long keyWidth = (long) hk * dk;
        KvCache cache = ctx.cache();
        KvCache.DeltaNetState past = cache != null ? cache.deltaNetState(layer) : null;

        Projected projected = in.project(x, shape, ov);
        Tensor[] convolved = convolve(projected.qkv().transpose(1, 2), ov.parameter(conv.name(), conv.value()), past,
                shape.convKernel());
        Tensor mixed = convolved[0].transpose(1, 2);                                                             // [B, S, C]
        Tensor q = hooks.run(names.q(), mixed.narrow(-1, 0, keyWidth).reshape(bsz, s, hk, dk));             // [B, S, Hk, Dk]
        Tensor k = hooks.run(names.k(), mixed.narrow(-1, keyWidth, keyWidth).reshape(bsz, s, hk, dk));      // [B, S, Hk, Dk]
        Tensor v = hooks.run(names.v(), mixed.narrow(-1, 2 * keyWidth, (long) hv * dv).reshape(bsz, s, hv, dv)); // [B, S, Hv, Dv]
        Tensor beta = projected.b().sigmoid();                                                              // [B, S, Hv]
        Tensor aLogValue = ov.parameter(aLog.name(), aLog.value());                                          // [Hv]
        Tensor dtBiasValue = ov.parameter(dtBias.name(), dtBias.value());                                    // [Hv]
        Tensor decay = aLogValue.exp().neg().mul(torch.softplus(projected.a().add(dtBiasValue)));           // [B, S, Hv], g ≤ 0
        if (hv > hk) {
            q = q.repeat_interleave(hv / hk, new org.bytedeco.pytorch.LongOptional(2), new org.bytedeco.pytorch.LongOptional());
            k = k.repeat_interleave(hv / hk, new org.bytedeco.pytorch.LongOptional(2), new org.bytedeco.pytorch.LongOptional());
        }
        q = l2norm(q).mul(new Scalar(1.0 / Math.sqrt(dk)));                                                 // [B, S, Hv, Dk]
        k = l2norm(k);

        Tensor state = past != null ? past.recurrent()
                : torch.zeros(new long[] {bsz, hv, dk, dv}, Tensors.floatOptions(ComputeDevice.of(x)));     // [B, Hv, Dk, Dv]
        Tensor qh = q.transpose(1, 2), kh = k.transpose(1, 2), vh = v.transpose(1, 2);                    // [B, Hv, S, D]
        Tensor bh = beta.transpose(1, 2), gh = decay.transpose(1, 2);                                     // [B, Hv, S]
        GatedDeltaRule.Result rule = s == 1 ? GatedDeltaRule.recurrent(qh, kh, vh, bh, gh, state)
                : GatedDeltaRule.chunked(qh, kh, vh, bh, gh, state);
        state = rule.state();
        Tensor o = rule.output().transpose(1, 2);                                                          // [B, S, Hv, Dv]
        Tensor gate = projected.z();                                                                         // [B, S, Hv, Dv]
        Tensor normWeight = ov.parameter(norm.name(), norm.value());                                         // [Dv]
        o = torch.rms_norm(o, new long[] {dv}, new TensorOptional(normWeight), new DoubleOptional(normEps)).mul(torch.silu(gate));
        o = CausalSelfAttention.headOutputs(layer, o, ctx, names);                                           // [B, S, Hv, Dv]
        if (cache != null) {
            cache.putDeltaNetState(layer, new KvCache.DeltaNetState(convolved[1], state));
        }
        return linear(out, o.reshape(bsz, s, (long) hv * dv), ov);
    }

    /**
     * The causal depthwise convolution with SiLU over channels [B, C, S]: each output sees its own and the K − 1
     * previous inputs (zeros before the first position, or the cached ones).
     *
     * @return {silu(conv) [B, C, S], the last K − 1 inputs [B, C, K − 1] for the next pass}
     */
    private static Tensor[] convolve(Tensor channels, Tensor filters, KvCache.DeltaNetState past, int kernel) {
        long bsz = channels.size(0), c = channels.size(1);
        Tensor before = past != null ? past.conv()
                : torch.zeros(new long[] {bsz, c, kernel - 1}, Tensors.floatOptions(ComputeDevice.of(channels)));                         // [B, C, K−1]
        Tensor padded = torch.cat(new TensorVector(before, channels), -1);                                 // [B, C, K−1+S]
        Tensor out = torch.conv1d(padded, filters, new TensorOptional(), new long[] {1}, new long[] {0}, new long[] {1}, c); // [B, C, S]
        Tensor last = padded.narrow(-1, padded.size(-1) - (kernel - 1), kernel - 1);                       // [B, C, K−1]
        return new Tensor[] {torch.silu(out), last};
    }

    /** x · rsqrt(Σx² + ε) over the last dimension, as transformers' (and FLA's) l2norm. */
    private static Tensor l2norm(Tensor x) {
        return x.mul(x.mul(x).sum(new long[] {-1}, true, new org.bytedeco.pytorch.ScalarTypeOptional()).add(new Scalar(L2_EPS)).rsqrt());
    }

    private static Tensor linear(Linear p, Tensor x, LinearOverlay ov) {
        return ov.linear(p.name(), x, p.weight(), p.bias());
    }
}
