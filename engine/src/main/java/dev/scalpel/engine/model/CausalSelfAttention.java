package dev.scalpel.engine.model;

import org.bytedeco.pytorch.DoubleOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

/**
 * The part of attention every architecture shares: RoPE, the KV cache, grouped-query expansion, the causal (and
 * sliding window) mask, score soft-capping, the softmax, the hook points q/k/rot_q/rot_k/v/pattern/z and the head gates.
 * Shapes: B batch, S new positions, T = cached + S key positions, H query heads, Hkv key/value heads, D head_dim.
 */
public final class CausalSelfAttention {
    private CausalSelfAttention() {}

    /**
     * @param q         queries [B, S, H, D], before RoPE
     * @param k         keys of the new positions [B, S, Hkv, D], before RoPE
     * @param v         values of the new positions [B, S, Hkv, D]
     * @param positions the rotary table of these positions, or null for a model without RoPE (GPT-2)
     * @return z, the per-head outputs after hooks and gates, [B, S, H, D]
     */
    public static Tensor attend(int layer, Tensor q, Tensor k, Tensor v, RotaryEmbedding.Table positions,
                                ModelConfig config, ForwardContext ctx, HookPoints.Layer names) {
        Hooks hooks = ctx.hooks();
        q = hooks.run(names.q(), q);
        k = hooks.run(names.k(), k);
        v = hooks.run(names.v(), v);
        if (positions != null) {
            q = hooks.run(names.rotQ(), positions.apply(q));
            k = hooks.run(names.rotK(), positions.apply(k));
        }
        long s = q.size(1);
        long past = ctx.startPosition();

        Tensor qh = q.transpose(1, 2);                                                     // [B, H, S, D]
        Tensor kh = k.transpose(1, 2);                                                     // [B, Hkv, S, D]
        Tensor vh = v.transpose(1, 2);                                                     // [B, Hkv, S, D]
        if (ctx.cache() != null) {
            Tensor[] all = ctx.cache().append(layer, kh, vh);
            kh = all[0];                                                                    // [B, Hkv, T, D]
            vh = all[1];                                                                    // [B, Hkv, T, D]
        }
        kh = repeatKv(kh, config.queriesPerKvHead());                                      // [B, H, T, D]
        vh = repeatKv(vh, config.queriesPerKvHead());                                      // [B, H, T, D]
        double scale = config.attentionScale();
        Double softcap = config.style().attnSoftcap();

        Tensor out;                                                                         // [B, H, S, D]
        Integer window = config.windowOf(layer);
        long t = past + s;
        boolean windowBinds = window != null && t > window;
        if (hooks.has(names.pattern()) || softcap != null) {
            Tensor scores = qh.matmul(kh.transpose(-2, -1)).mul(new Scalar(scale));        // [B, H, S, T]
            if (softcap != null) {
                scores = Tensors.softcap(scores, softcap);
            }
            scores = scores.masked_fill(causalMask(past, s, window, q).logical_not(),
                    new Scalar(Double.NEGATIVE_INFINITY));
            Tensor pattern = hooks.run(names.pattern(), torch.softmax(scores, -1));        // [B, H, S, T]
            out = pattern.matmul(vh);
        } else if (past == 0 && !windowBinds) {
            out = torch.scaled_dot_product_attention(qh, kh, vh, new TensorOptional(), 0.0, true,
                    new DoubleOptional(scale), false);
        } else if (s == 1 && !windowBinds) {
            out = torch.scaled_dot_product_attention(qh, kh, vh, new TensorOptional(), 0.0, false,
                    new DoubleOptional(scale), false);
        } else {
            out = torch.scaled_dot_product_attention(qh, kh, vh,
                    new TensorOptional(causalMask(past, s, window, q)), 0.0, false, new DoubleOptional(scale), false);
        }
        return headOutputs(layer, out.transpose(1, 2), ctx, names);                        // [B, S, H, D]
    }

    /**
     * The per-head outputs z [B, S, H, D] of any token mixer (softmax attention, a Gated DeltaNet's value heads)
     * through the {@code hook_z} hook and the head gates.
     */
    public static Tensor headOutputs(int layer, Tensor z, ForwardContext ctx, HookPoints.Layer names) {
        z = ctx.hooks().run(names.z(), z);
        return ctx.gates() != null ? ctx.gates().apply(layer, z) : z;
    }

    /** [B, Hkv, T, D] → [B, Hkv·n, T, D], each kv head repeated for the n query heads of its group (HF repeat_kv). */
    static Tensor repeatKv(Tensor x, int n) {
        if (n == 1) {
            return x;
        }
        long b = x.size(0), hkv = x.size(1), t = x.size(2), d = x.size(3);
        return x.unsqueeze(2).expand(b, hkv, n, t, d).reshape(b, hkv * n, t, d);
    }

    /**
     * [S, T] booleans, true where query i (at position past + i) may attend key j: j ≤ past + i, and within the
     * sliding window when there is one (past + i − j &lt; window).
     */
    static Tensor causalMask(long past, long s, Integer window, Tensor like) {
        var options = new org.bytedeco.pytorch.TensorOptions(torch.ScalarType.Long).device(
                new org.bytedeco.pytorch.DeviceOptional(like.device()));
        Tensor qPos = torch.arange(new Scalar(past), new Scalar(past + s), options).view(s, 1);   // [S, 1]
        Tensor kPos = torch.arange(new Scalar(0), new Scalar(past + s), options).view(1, past + s); // [1, T]
        Tensor allowed = kPos.le(qPos);                                                           // [S, T]
        if (window != null) {
            allowed = allowed.logical_and(qPos.sub(kPos).lt(new Scalar(window)));
        }
        return allowed;
    }
}
