package dev.scalpel.engine.model.arch.llama;

import dev.scalpel.engine.model.CausalLM;
import dev.scalpel.engine.model.CausalSelfAttention;
import dev.scalpel.engine.model.ComputeDevice;
import dev.scalpel.engine.model.DecoderStyle;
import dev.scalpel.engine.model.ForwardContext;
import dev.scalpel.engine.model.HookPoints;
import dev.scalpel.engine.model.Hooks;
import dev.scalpel.engine.model.LinearBiases;
import dev.scalpel.engine.model.LinearOverlay;
import dev.scalpel.engine.model.ModelConfig;
import dev.scalpel.engine.model.RotaryEmbedding;
import dev.scalpel.engine.model.WeightReader;
import dev.scalpel.engine.model.Weights;
import java.nio.file.Path;
import org.bytedeco.pytorch.DoubleOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

/**
 * Llama, Mistral, Qwen2 and Qwen3 with Hugging Face semantics: RMSNorm {@code x·rsqrt(mean(x²)+eps)·w},
 * rotate_half RoPE, grouped-query attention, optional q/k/v bias (Qwen2) and per-head q/k RMSNorm (Qwen3),
 * SiLU-gated MLP, tied or separate unembedding. Read the forward pass top to bottom.
 */
public final class LlamaModel implements CausalLM {
    private final ModelConfig config;
    private final ComputeDevice device;
    private final Weights weights;
    private final Tensor embed;      // [V, d]
    private final LlamaLayer[] layers;
    private final Tensor finalNorm;  // [d]
    private final Tensor unembed;    // [V, d], the embedding itself when tied
    private final RotaryEmbedding rope;
    private final HookPoints.Layer[] hookNames;
    private final LlamaLayer.Names[] weightNames;

    private LlamaModel(ModelConfig config, ComputeDevice device, Weights weights, Tensor embed, LlamaLayer[] layers,
                       Tensor finalNorm, Tensor unembed) {
        this.config = config;
        this.device = device;
        this.weights = weights;
        this.embed = embed;
        this.layers = layers;
        this.finalNorm = finalNorm;
        this.unembed = unembed;
        this.rope = new RotaryEmbedding(config);
        this.hookNames = new HookPoints.Layer[layers.length];
        this.weightNames = new LlamaLayer.Names[layers.length];
        for (int l = 0; l < layers.length; l++) {
            hookNames[l] = HookPoints.Layer.of(l);
            weightNames[l] = LlamaLayer.Names.of(l);
        }
    }

    /** Loads the weights of {@code dir} (already described by {@code config}) onto {@code device}. */
    public static LlamaModel load(Path dir, ModelConfig config, ComputeDevice device) {
        Weights weights = new Weights();
        try (WeightReader r = new WeightReader(dir, device, weights)) {
            long d = config.hiddenSize(), qw = config.qWidth(), kvw = config.kvWidth(), inter = config.intermediateSize();
            long vocab = config.vocabSize(), hd = config.headDim();
            Tensor embed = r.read("model.embed_tokens.weight", vocab, d);
            LlamaLayer[] layers = new LlamaLayer[config.numLayers()];
            for (int l = 0; l < layers.length; l++) {
                String p = "model.layers." + l + ".";
                LinearBiases bias = config.biases();
                boolean qk = config.style().qkNorm() == DecoderStyle.QkNorm.PER_HEAD;
                layers[l] = new LlamaLayer(
                        r.read(p + "input_layernorm.weight", d),
                        r.read(p + "self_attn.q_proj.weight", qw, d),
                        bias.qkv() ? r.read(p + "self_attn.q_proj.bias", qw) : null,
                        r.read(p + "self_attn.k_proj.weight", kvw, d),
                        bias.qkv() ? r.read(p + "self_attn.k_proj.bias", kvw) : null,
                        r.read(p + "self_attn.v_proj.weight", kvw, d),
                        bias.qkv() ? r.read(p + "self_attn.v_proj.bias", kvw) : null,
                        r.read(p + "self_attn.o_proj.weight", d, qw),
                        bias.output() ? r.read(p + "self_attn.o_proj.bias", d) : null,
                        qk ? r.read(p + "self_attn.q_norm.weight", hd) : null,
                        qk ? r.read(p + "self_attn.k_norm.weight", hd) : null,
                        r.read(p + "post_attention_layernorm.weight", d),
                        r.read(p + "mlp.gate_proj.weight", inter, d),
                        bias.mlp() ? r.read(p + "mlp.gate_proj.bias", inter) : null,
                        r.read(p + "mlp.up_proj.weight", inter, d),
                        bias.mlp() ? r.read(p + "mlp.up_proj.bias", inter) : null,
                        r.read(p + "mlp.down_proj.weight", d, inter),
                        bias.mlp() ? r.read(p + "mlp.down_proj.bias", d) : null);
            }
            Tensor norm = r.read("model.norm.weight", d);
            // A tied checkpoint may still carry lm_head.weight (a copy); HF then uses the embedding.
            Tensor unembed = config.tieWordEmbeddings() ? embed : r.read("lm_head.weight", vocab, d);
            return new LlamaModel(config, device, weights, embed, layers, norm, unembed);
        } catch (RuntimeException e) {
            weights.close();
            throw e;
        }
    }

    @Override
    public Tensor forward(Tensor inputIds, ForwardContext ctx) {
        Tensor x = ctx.hooks().run(HookPoints.EMBED, torch.embedding(embed, inputIds));    // [B, S, d]
        return forwardFromLayer(0, x, ctx);
    }

    @Override
    public Tensor forwardFromLayer(int first, Tensor residual, ForwardContext ctx) {
        Hooks hooks = ctx.hooks();
        LinearOverlay ov = ctx.overlay();
        long b = residual.size(0), s = residual.size(1);
        int h = config.numHeads(), hkv = config.numKvHeads(), hd = config.headDim();
        RotaryEmbedding.Table positions = rope.table(ctx.startPosition(), s, device);

        Tensor x = residual;                                                                  // [B, S, d]
        for (int l = first; l < layers.length; l++) {
            LlamaLayer w = layers[l];
            LlamaLayer.Names n = weightNames[l];
            HookPoints.Layer names = hookNames[l];
            x = hooks.run(names.residPre(), x);

            // attention
            Tensor a = rmsNorm(x, w.inputNorm(), config.hiddenSize());                       // [B, S, d]
            Tensor q = ov.linear(n.q(), a, w.q(), w.qBias()).view(b, s, h, hd);               // [B, S, H, D]
            Tensor k = ov.linear(n.k(), a, w.k(), w.kBias()).view(b, s, hkv, hd);             // [B, S, Hkv, D]
            Tensor v = ov.linear(n.v(), a, w.v(), w.vBias()).view(b, s, hkv, hd);             // [B, S, Hkv, D]
            if (w.qNorm() != null) {
                q = rmsNorm(q, w.qNorm(), hd);
                k = rmsNorm(k, w.kNorm(), hd);
            }
            Tensor z = CausalSelfAttention.attend(l, q, k, v, positions, config, ctx, names); // [B, S, H, D]
            Tensor attnOut = hooks.run(names.attnOut(), ov.linear(n.o(), z.reshape(b, s, (long) h * hd), w.o(), w.oBias())); // [B, S, d]
            x = hooks.run(names.residMid(), x.add(attnOut));

            // MLP: down(silu(gate(m)) · up(m))
            Tensor m = rmsNorm(x, w.postNorm(), config.hiddenSize());                        // [B, S, d]
            Tensor act = torch.silu(ov.linear(n.gate(), m, w.gate(), w.gateBias()))
                    .mul(ov.linear(n.up(), m, w.up(), w.upBias()));                               // [B, S, I]
            Tensor mlpOut = hooks.run(names.mlpOut(), ov.linear(n.down(), act, w.down(), w.downBias())); // [B, S, d]
            x = hooks.run(names.residPost(), x.add(mlpOut));
        }
        if (ctx.cache() != null) {
            ctx.cache().advance((int) s);
        }
        if (ctx.lastPositionOnly()) {
            x = x.narrow(1, s - 1, 1);                                                        // [B, 1, d]
        }
        Tensor normed = hooks.run(HookPoints.FINAL_NORMALIZED, rmsNorm(x, finalNorm, config.hiddenSize()));
        return torch.linear(normed, unembed);                                                  // [B, S, V]
    }

    private Tensor rmsNorm(Tensor x, Tensor weight, long width) {
        return torch.rms_norm(x, new long[] {width}, new TensorOptional(weight), new DoubleOptional(config.normEps()));
    }

    public LlamaLayer layer(int l) {
        return layers[l];
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
