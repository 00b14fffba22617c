package dev.scalpel.engine.model.arch.llama;

import dev.scalpel.engine.model.CausalLM;
import dev.scalpel.engine.model.CausalSelfAttention;
import dev.scalpel.engine.model.ComputeDevice;
import dev.scalpel.engine.model.DecoderStyle;
import dev.scalpel.engine.model.ForwardContext;
import dev.scalpel.engine.model.HookPoints;
import dev.scalpel.engine.model.Hooks;
import dev.scalpel.engine.model.LayerType;
import dev.scalpel.engine.model.LinearOverlay;
import dev.scalpel.engine.model.ModelConfig;
import dev.scalpel.engine.model.RotaryEmbedding;
import dev.scalpel.engine.model.Tensors;
import dev.scalpel.engine.model.Weights;
import dev.scalpel.engine.model.arch.llama.LlamaLayer.Linear;
import dev.scalpel.engine.model.arch.llama.LlamaLayer.Mlp;
import dev.scalpel.engine.model.arch.llama.LlamaLayer.Moe;
import dev.scalpel.engine.model.arch.llama.LlamaLayer.Parameter;
import java.nio.file.Path;
import org.bytedeco.pytorch.DoubleOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.T_TensorTensor_T;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

/**
 * The Llama family with Hugging Face semantics: Llama, Mistral, Qwen2, Qwen3, Qwen3-MoE, OLMo 2, Gemma 2, Gemma 3 and
 * Phi-3. RMSNorm {@code x·rsqrt(mean(x²)+eps)·w} (Gemma: {@code ·(1 + w)}), rotate_half RoPE, grouped-query attention,
 * gated MLP, tied or separate unembedding; the {@link DecoderStyle} says where each family differs. Read the forward
 * pass top to bottom.
 */
public final class LlamaModel implements CausalLM {
    private final ModelConfig config;
    private final DecoderStyle style;
    private final ComputeDevice device;
    private final Weights weights;
    private final Parameter embed;      // [V, d]
    private final LlamaLayer[] layers;
    private final Parameter finalNorm;  // [d]
    private final Parameter unembed;    // [V, d], the embedding itself when tied
    private final RotaryEmbedding rope;
    private final RotaryEmbedding localRope; // sliding layers' RoPE (Gemma 3), or null when every layer uses rope
    private final HookPoints.Layer[] hookNames;

    LlamaModel(ModelConfig config, ComputeDevice device, Weights weights, Parameter embed, LlamaLayer[] layers,
               Parameter finalNorm, Parameter unembed) {
        this.config = config;
        this.style = config.style();
        this.device = device;
        this.weights = weights;
        this.embed = embed;
        this.layers = layers;
        this.finalNorm = finalNorm;
        this.unembed = unembed;
        this.rope = new RotaryEmbedding(config);
        this.localRope = style.localRopeTheta() == null ? null
                : new RotaryEmbedding(style.localRopeTheta(), null, config.rotaryDims());
        this.hookNames = new HookPoints.Layer[layers.length];
        for (int l = 0; l < layers.length; l++) {
            hookNames[l] = HookPoints.Layer.of(l);
        }
    }

    /** Loads the weights of {@code dir} (already described by {@code config}) onto {@code device}. */
    public static LlamaModel load(Path dir, ModelConfig config, ComputeDevice device) {
        return LlamaWeightsReader.load(dir, config, device);
    }

    @Override
    public Tensor forward(Tensor inputIds, ForwardContext ctx) {
        Tensor x = torch.embedding(ctx.overlay().parameter(embed.name(), embed.value()), inputIds); // [B, S, d]
        if (style.scaleEmbeddings()) {
            x = x.mul(new Scalar((float) Math.sqrt(config.hiddenSize())));                    // Gemma: × √d, in float32
        }
        return forwardFromLayer(0, ctx.hooks().run(HookPoints.EMBED, x), ctx);
    }

    @Override
    public Tensor forwardFromLayer(int first, Tensor residual, ForwardContext ctx) {
        Hooks hooks = ctx.hooks();
        LinearOverlay ov = ctx.overlay();
        long s = residual.size(1);
        RotaryEmbedding.Table positions = rope.table(ctx.startPosition(), s, device);
        RotaryEmbedding.Table localPositions = localRope == null ? positions : localRope.table(ctx.startPosition(), s, device);

        Tensor x = residual;                                                                  // [B, S, d]
        for (int l = first; l < layers.length; l++) {
            LlamaLayer w = layers[l];
            HookPoints.Layer names = hookNames[l];
            x = hooks.run(names.residPre(), x);

            Tensor a = norm(x, w.preAttnNorm(), ov);                                          // [B, S, d]
            Tensor mixed = w.deltaNet() != null
                    ? w.deltaNet().forward(l, a, style.deltaNet(), config.normEps(), ctx, names)
                    : attention(l, w, a, positions, localPositions, ctx, names);                 // [B, S, d]
            Tensor attnOut = norm(mixed, w.postAttnNorm(), ov);                               // [B, S, d]
            x = hooks.run(names.residMid(), x.add(hooks.run(names.attnOut(), attnOut)));

            // MLP (dense, or a router's weighted mix of experts)
            Tensor m = norm(x, w.preMlpNorm(), ov);                                           // [B, S, d]
            Tensor mlpOut = norm(w.moe() != null ? mixtureOfExperts(w.moe(), m, ov) : mlp(w.mlp(), m, ov),
                    w.postMlpNorm(), ov);                                                     // [B, S, d]
            x = hooks.run(names.residPost(), x.add(hooks.run(names.mlpOut(), mlpOut)));
        }
        if (ctx.cache() != null) {
            ctx.cache().advance((int) s);
        }
        if (ctx.lastPositionOnly()) {
            x = x.narrow(1, s - 1, 1);                                                        // [B, 1, d]
        }
        Tensor normed = hooks.run(HookPoints.FINAL_NORMALIZED, norm(x, finalNorm, ov));
        Tensor logits = torch.linear(normed, ov.parameter(unembed.name(), unembed.value()));   // [B, S, V]
        return style.finalSoftcap() == null ? logits : Tensors.softcap(logits, style.finalSoftcap());
    }

    /** Softmax attention of layer l over a [B, S, d] (normed): q/k norms, RoPE, the cache, gates, o_proj → [B, S, d]. */
    private Tensor attention(int l, LlamaLayer w, Tensor a, RotaryEmbedding.Table positions,
                             RotaryEmbedding.Table localPositions, ForwardContext ctx, HookPoints.Layer names) {
        LinearOverlay ov = ctx.overlay();
        long b = a.size(0), s = a.size(1);
        int h = config.numHeads(), hkv = config.numKvHeads(), hd = config.headDim();
        Tensor[] qkv = project(w.attention(), a, ov);                                         // [B, S, H·D], 2 × [B, S, Hkv·D]
        if (style.qkNorm() == DecoderStyle.QkNorm.FULL_WIDTH) {
            qkv[0] = norm(qkv[0], w.qNorm(), ov);
            qkv[1] = norm(qkv[1], w.kNorm(), ov);
        }
        Tensor gate = null;                                                                   // [B, S, H, D] (Qwen3.5)
        Tensor q;
        if (style.outputGate()) {
            Tensor perHead = qkv[0].view(b, s, h, 2L * hd);                                   // [B, S, H, 2D]: query | gate
            q = perHead.narrow(-1, 0, hd);
            gate = perHead.narrow(-1, hd, hd);
        } else {
            q = qkv[0].view(b, s, h, hd);                                                     // [B, S, H, D]
        }
        Tensor k = qkv[1].view(b, s, hkv, hd);                                                // [B, S, Hkv, D]
        Tensor v = qkv[2].view(b, s, hkv, hd);                                                // [B, S, Hkv, D]
        if (style.qkNorm() == DecoderStyle.QkNorm.PER_HEAD) {
            q = norm(q, w.qNorm(), ov);
            k = norm(k, w.kNorm(), ov);
        }
        RotaryEmbedding.Table layerPositions =
                config.layerTypes().get(l) == LayerType.SLIDING_ATTENTION ? localPositions : positions;
        Tensor z = CausalSelfAttention.attend(l, q, k, v, layerPositions, config, ctx, names);    // [B, S, H, D]
        if (gate != null) {
            z = z.mul(gate.sigmoid());
        }
        return linear(w.o(), z.reshape(b, s, (long) h * hd), ov);
    }

    /** q [.., H·D] (Qwen3.5: [.., 2·H·D] with the gates), k and v [.., Hkv·D] from one fused projection (rows q | k | v) or three. */
    private Tensor[] project(LlamaLayer.Attention p, Tensor a, LinearOverlay ov) {
        if (p.qkv() == null) {
            return new Tensor[] {linear(p.q(), a, ov), linear(p.k(), a, ov), linear(p.v(), a, ov)};
        }
        Tensor qkv = linear(p.qkv(), a, ov);                                                  // [B, S, (H + 2·Hkv)·D]
        long qw = config.qWidth(), kvw = config.kvWidth();
        return new Tensor[] {qkv.narrow(-1, 0, qw), qkv.narrow(-1, qw, kvw), qkv.narrow(-1, qw + kvw, kvw)};
    }

    /** down(act(gate(m)) · up(m)), gate and up separate or fused (rows gate | up): [B, S, d] → [B, S, d]. */
    private Tensor mlp(Mlp p, Tensor m, LinearOverlay ov) {
        Tensor gate, up;                                                                       // [.., I] each
        if (p.gateUp() == null) {
            gate = linear(p.gate(), m, ov);
            up = linear(p.up(), m, ov);
        } else {
            Tensor both = linear(p.gateUp(), m, ov);                                           // [.., 2I]
            long inter = both.size(-1) / 2;
            gate = both.narrow(-1, 0, inter);
            up = both.narrow(-1, inter, inter);
        }
        Tensor act = style.activation() == DecoderStyle.Activation.SILU ? torch.silu(gate) : torch.gelu(gate, "tanh");
        return linear(p.down(), act.mul(up), ov);
    }

    /**
     * Qwen3-MoE's and Qwen3-Next's sparse MLP, as transformers computes it: softmax over the router's logits, the top k
     * experts per token (their probabilities renormalised to sum 1 when the style says so), each chosen expert's MLP on
     * its tokens only, weighted and summed; plus Qwen3-Next's gated shared expert.
     */
    private Tensor mixtureOfExperts(Moe p, Tensor m, LinearOverlay ov) {
        DecoderStyle.MixtureOfExperts shape = style.moe();
        long b = m.size(0), s = m.size(1), d = m.size(2);
        Tensor tokens = m.reshape(b * s, d);                                                   // [N, d]
        Tensor probs = torch.softmax(linear(p.router(), tokens, ov), -1);                     // [N, E]
        T_TensorTensor_T top = probs.topk(shape.perToken(), -1, true, true);
        Tensor chosen = top.get0();                                                            // [N, k]
        Tensor expert = top.get1();                                                            // [N, k] expert ids
        if (shape.normalizeTopK()) {
            chosen = chosen.div(chosen.sum(new long[] {-1}, true, new org.bytedeco.pytorch.ScalarTypeOptional()));
        }
        Tensor out = torch.zeros_like(tokens);                                                 // [N, d]
        for (int e = 0; e < p.experts().size(); e++) {
            Tensor picked = expert.eq(new Scalar(e));                                          // [N, k]
            Tensor rows = torch.nonzero(picked.any(1)).view(-1);                               // [n] tokens routed to e
            if (rows.size(0) == 0) {
                continue;
            }
            Tensor weight = chosen.mul(picked).sum(1).index_select(0, rows).unsqueeze(1);      // [n, 1]
            Tensor y = mlp(p.experts().get(e), tokens.index_select(0, rows), ov).mul(weight);  // [n, d]
            out = out.index_add(0, rows, y);
        }
        if (p.shared() != null) {   // Qwen3-Next: + sigmoid(shared_expert_gate(x)) · shared_expert(x)
            Tensor sharedGate = torch.sigmoid(linear(p.sharedGate(), tokens, ov));             // [N, 1]
            out = out.add(mlp(p.shared(), tokens, ov).mul(sharedGate));
        }
        return out.view(b, s, d);
    }

    private static Tensor linear(Linear p, Tensor x, LinearOverlay ov) {
        return ov.linear(p.name(), x, p.weight(), p.bias());
    }

    /** RMSNorm over the last dimension with {@code weight} (Gemma: 1 + weight); the identity when weight is null. */
    private Tensor norm(Tensor x, Parameter norm, LinearOverlay ov) {
        if (norm == null) {
            return x;
        }
        Tensor weight = ov.parameter(norm.name(), norm.value());                              // [width]
        Tensor scale = style.normPlusOne() ? weight.add(new Scalar(1.0)) : weight;
        return torch.rms_norm(x, new long[] {weight.size(0)}, new TensorOptional(scale), new DoubleOptional(config.normEps()));
    }

    @Override
    public ModelConfig config() {
        return config;
    }

    @Override
    public ComputeDevice device() {
        return device;
    }

    @Override
    public Weights weights() {
        return weights;
    }

    @Override
    public void close() {
        weights.close();
    }
}
