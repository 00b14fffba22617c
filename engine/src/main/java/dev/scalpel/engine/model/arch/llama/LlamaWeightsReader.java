package dev.scalpel.engine.model.arch.llama;

import dev.scalpel.engine.model.CheckpointNames;
import dev.scalpel.engine.model.ComputeDevice;
import dev.scalpel.engine.model.DecoderStyle;
import dev.scalpel.engine.model.LayerType;
import dev.scalpel.engine.model.LinearBiases;
import dev.scalpel.engine.model.ModelConfig;
import dev.scalpel.engine.model.WeightReader;
import dev.scalpel.engine.model.Weights;
import dev.scalpel.engine.model.arch.llama.LlamaLayer.Attention;
import dev.scalpel.engine.model.arch.llama.LlamaLayer.Linear;
import dev.scalpel.engine.model.arch.llama.LlamaLayer.Mlp;
import dev.scalpel.engine.model.arch.llama.LlamaLayer.Moe;
import dev.scalpel.engine.model.arch.llama.LlamaLayer.Parameter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.pytorch.Tensor;

/**
 * Reads a Llama-family checkpoint into {@link LlamaLayer}s: which tensors a block has follows from the config's
 * {@link DecoderStyle} and {@link LinearBiases}, and every tensor the checkpoint holds must be one of them (or belong
 * to a part the {@link CheckpointNames} say is only carried, such as a multimodal model's vision tower). Weights are
 * kept under their causal-LM names whatever prefix the checkpoint uses.
 */
final class LlamaWeightsReader {
    private final WeightReader r;
    private final ModelConfig config;
    private final DecoderStyle style;
    private final long d;
    private final CheckpointNames names;

    private LlamaWeightsReader(WeightReader r, ModelConfig config) {
        this.names = config.checkpointNames();
        this.r = r.storingAs(names::inScalpel);
        this.config = config;
        this.style = config.style();
        this.d = config.hiddenSize();
    }

    static LlamaModel load(Path dir, ModelConfig config, ComputeDevice device) {
        Weights weights = new Weights();
        try (WeightReader r = new WeightReader(dir, device, weights)) {
            LlamaWeightsReader reader = new LlamaWeightsReader(r, config);
            long vocab = config.vocabSize();
            Parameter embed = reader.parameter("model.embed_tokens.weight", vocab, config.hiddenSize());
            LlamaLayer[] layers = new LlamaLayer[config.numLayers()];
            for (int l = 0; l < layers.length; l++) {
                layers[l] = config.layerTypes().get(l) == LayerType.LINEAR_ATTENTION ? reader.linearLayer(l) : reader.attentionLayer(l);
            }
            Parameter norm = reader.parameter("model.norm.weight", config.hiddenSize());
            // A tied checkpoint may still carry lm_head.weight (a copy); HF then uses the embedding.
            Parameter unembed = config.tieWordEmbeddings() ? embed : reader.parameter("lm_head.weight", vocab, config.hiddenSize());
            r.requireEveryTensorRead(n -> config.tieWordEmbeddings() && n.equals("lm_head.weight")
                    || n.endsWith(".rotary_emb.inv_freq") || config.checkpointNames().isCarried(n));
            return new LlamaModel(config, device, weights, embed, layers, norm, unembed);
        } catch (RuntimeException e) {
            weights.close();
            throw e;
        }
    }

    /** A Qwen3.5 / Qwen3-Next linear-attention block: pre-norms, the Gated DeltaNet and a dense or sparse MLP. */
    private LlamaLayer linearLayer(int l) {
        String p = "model.layers." + l + ".";
        Parameter preAttn = parameter(p + "input_layernorm.weight", d);
        Parameter preMlp = parameter(p + "post_attention_layernorm.weight", d);
        Moe sparse = sparseMlp(l);
        Mlp dense = sparse != null ? null : mlp(p + "mlp.", config.intermediateSize(), config.biases().mlp());
        return new LlamaLayer(preAttn, deltaNet(p + "linear_attn."), null, null, null, null, null, preMlp, dense, sparse, null);
    }

    /** The Gated DeltaNet weights under {@code prefix} ({@code model.layers.N.linear_attn.}). */
    private GatedDeltaNet deltaNet(String prefix) {
        DecoderStyle.DeltaNetShape shape = style.deltaNet();
        long hv = shape.valueHeads(), values = hv * shape.valueDim(), channels = shape.convChannels();
        GatedDeltaNet.Projections in = shape.interleaved()
                ? new GatedDeltaNet.Interleaved(linear(prefix + "in_proj_qkvz", shape.keyHeads() * shape.qkvzGroupRows(), d, false),
                        linear(prefix + "in_proj_ba", 2 * hv, d, false))
                : new GatedDeltaNet.Separate(linear(prefix + "in_proj_qkv", channels, d, false),
                        linear(prefix + "in_proj_z", values, d, false), linear(prefix + "in_proj_b", hv, d, false),
                        linear(prefix + "in_proj_a", hv, d, false));
        return new GatedDeltaNet(in,
                parameter(prefix + "conv1d.weight", channels, 1, shape.convKernel()),
                parameter(prefix + "dt_bias", hv),
                parameter(prefix + "A_log", hv),
                parameter(prefix + "norm.weight", shape.valueDim()),
                linear(prefix + "out_proj", d, values, false));
    }

    private LlamaLayer attentionLayer(int l) {
        String p = "model.layers." + l + ".";
        LinearBiases bias = config.biases();
        long qw = config.qWidth(), kvw = config.kvWidth();
        long qRows = style.outputGate() ? 2 * qw : qw;   // Qwen3.5: each head's query rows, then its gate rows
        Attention attention = style.fusedProjections()
                ? new Attention(null, null, null, linear(p + "self_attn.qkv_proj", qw + 2 * kvw, d, bias.qkv()))
                : new Attention(linear(p + "self_attn.q_proj", qRows, d, bias.qkv()), linear(p + "self_attn.k_proj", kvw, d, bias.qkv()),
                        linear(p + "self_attn.v_proj", kvw, d, bias.qkv()), null);
        long qNormWidth = switch (style.qkNorm()) {
            case NONE -> 0;
            case PER_HEAD -> config.headDim();
            case FULL_WIDTH -> qw;
        };
        long kNormWidth = style.qkNorm() == DecoderStyle.QkNorm.FULL_WIDTH ? kvw : qNormWidth;
        Parameter qNorm = qNormWidth == 0 ? null : parameter(p + "self_attn.q_norm.weight", qNormWidth);
        Parameter kNorm = kNormWidth == 0 ? null : parameter(p + "self_attn.k_norm.weight", kNormWidth);
        Linear o = linear(p + "self_attn.o_proj", d, qw, bias.output());

        boolean pre = style.norms() != DecoderStyle.NormPlacement.POST;
        boolean post = style.norms() != DecoderStyle.NormPlacement.PRE;
        // Llama's post_attention_layernorm is the norm before the MLP; OLMo 2's and Gemma's is on the attention output.
        Parameter preAttn = pre ? parameter(p + "input_layernorm.weight", d) : null;
        Parameter postAttn = post ? parameter(p + "post_attention_layernorm.weight", d) : null;
        Parameter preMlp = !pre ? null : parameter(p + (post ? "pre_feedforward_layernorm.weight" : "post_attention_layernorm.weight"), d);
        Parameter postMlp = post ? parameter(p + "post_feedforward_layernorm.weight", d) : null;

        Moe sparse = sparseMlp(l);
        Mlp dense = sparse != null ? null : mlp(p + "mlp.", config.intermediateSize(), bias.mlp());
        return new LlamaLayer(preAttn, null, attention, qNorm, kNorm, o, postAttn, preMlp, dense, sparse, postMlp);
    }

    /** Layer l's sparse MLP (router, experts and Qwen3-Next's shared expert), or null when the layer is dense. */
    private Moe sparseMlp(int l) {
        DecoderStyle.MixtureOfExperts moe = style.moe();
        if (moe == null || !moe.isSparse(l)) {
            return null;
        }
        String p = "model.layers." + l + ".mlp.";
        List<Mlp> experts = new ArrayList<>();
        for (int e = 0; e < moe.experts(); e++) {
            experts.add(mlp(p + "experts." + e + ".", moe.intermediateSize(), false));
        }
        boolean shared = moe.sharedExpertSize() > 0;
        return new Moe(linear(p + "gate", moe.experts(), d, false), experts,
                shared ? mlp(p + "shared_expert.", moe.sharedExpertSize(), false) : null,
                shared ? linear(p + "shared_expert_gate", 1, d, false) : null);
    }

    /** A gated MLP under {@code prefix} with intermediate size {@code inter}. */
    private Mlp mlp(String prefix, long inter, boolean bias) {
        Linear down = linear(prefix + "down_proj", d, inter, bias);
        if (style.fusedProjections()) {
            return new Mlp(null, null, linear(prefix + "gate_up_proj", 2 * inter, d, bias), down);
        }
        return new Mlp(linear(prefix + "gate_proj", inter, d, bias), linear(prefix + "up_proj", inter, d, bias), null, down);
    }

    /** Tensor {@code name}, read directly by the forward pass (not as a linear layer), of shape {@code shape}. */
    private Parameter parameter(String name, long... shape) {
        return new Parameter(name, r.read(names.inCheckpoint(name), shape));
    }

    /** Module {@code name}: its weight [out, in] and, when {@code bias}, its bias [out]. */
    private Linear linear(String name, long out, long in, boolean bias) {
        String weight = name + ".weight";
        return new Linear(weight, r.read(names.inCheckpoint(weight), out, in), bias ? r.read(names.inCheckpoint(name + ".bias"), out) : null);
    }
}
