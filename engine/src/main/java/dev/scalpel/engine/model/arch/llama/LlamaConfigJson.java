package dev.scalpel.engine.model.arch.llama;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.model.Architecture;
import dev.scalpel.engine.model.CheckpointNames;
import dev.scalpel.engine.model.ConfigReader;
import dev.scalpel.engine.model.DecoderStyle;
import dev.scalpel.engine.model.DecoderStyle.Activation;
import dev.scalpel.engine.model.DecoderStyle.MixtureOfExperts;
import dev.scalpel.engine.model.DecoderStyle.NormPlacement;
import dev.scalpel.engine.model.DecoderStyle.QkNorm;
import dev.scalpel.engine.model.LayerType;
import dev.scalpel.engine.model.LinearBiases;
import dev.scalpel.engine.model.ModelConfig;
import dev.scalpel.engine.model.RopeScaling;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;

/**
 * config.json of the Llama family (Llama, Mistral, Qwen2, Qwen3, Qwen3-MoE, OLMo 2, Gemma 2, Gemma 3 text, Phi-3) as
 * Hugging Face writes it, in transformers 4 and 5 spellings. Which keys exist and which of them Scalpel reads or
 * refuses is checked against transformers' own config classes by {@code ConfigKeysTest}.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record LlamaConfigJson(
        @JsonProperty("vocab_size") int vocabSize,
        @JsonProperty("hidden_size") int hiddenSize,
        @JsonProperty("num_hidden_layers") int numLayers,
        @JsonProperty("num_attention_heads") int numHeads,
        @JsonProperty("num_key_value_heads") Integer numKvHeads,
        @JsonProperty("head_dim") Integer headDim,
        @JsonProperty("intermediate_size") int intermediateSize,
        @JsonProperty("rms_norm_eps") Double rmsNormEps,
        @JsonProperty("rope_theta") Double ropeTheta,
        @JsonProperty("rope_scaling") JsonNode ropeScaling,
        @JsonProperty("rope_parameters") JsonNode ropeParameters,
        @JsonProperty("rope_local_base_freq") Double ropeLocalBaseFreq,
        @JsonProperty("partial_rotary_factor") Double partialRotaryFactor,
        @JsonProperty("tie_word_embeddings") Boolean tieWordEmbeddings,
        @JsonProperty("attention_bias") Boolean attentionBias,
        @JsonProperty("mlp_bias") Boolean mlpBias,
        @JsonProperty("hidden_act") String hiddenAct,
        @JsonProperty("hidden_activation") String hiddenActivation,
        @JsonProperty("max_position_embeddings") Integer maxPositions,
        @JsonProperty("sliding_window") Integer slidingWindow,
        @JsonProperty("use_sliding_window") Boolean useSlidingWindow,
        @JsonProperty("max_window_layers") Integer maxWindowLayers,
        @JsonProperty("sliding_window_pattern") Integer slidingWindowPattern,
        @JsonProperty("_sliding_window_pattern") Integer privateSlidingWindowPattern,
        @JsonProperty("layer_types") List<String> layerTypes,
        @JsonProperty("query_pre_attn_scalar") Double queryPreAttnScalar,
        @JsonProperty("attn_logit_softcapping") Double attnLogitSoftcapping,
        @JsonProperty("final_logit_softcapping") Double finalLogitSoftcapping,
        @JsonProperty("num_local_experts") Integer numLocalExperts,
        @JsonProperty("num_experts") Integer numExperts,
        @JsonProperty("num_experts_per_tok") Integer numExpertsPerTok,
        @JsonProperty("moe_intermediate_size") Integer moeIntermediateSize,
        @JsonProperty("norm_topk_prob") Boolean normTopkProb,
        @JsonProperty("decoder_sparse_step") Integer decoderSparseStep,
        @JsonProperty("mlp_only_layers") List<Integer> mlpOnlyLayers,
        @JsonProperty("shared_expert_intermediate_size") Integer sharedExpertIntermediateSize,
        @JsonProperty("linear_num_key_heads") Integer linearNumKeyHeads,
        @JsonProperty("linear_num_value_heads") Integer linearNumValueHeads,
        @JsonProperty("linear_key_head_dim") Integer linearKeyHeadDim,
        @JsonProperty("linear_value_head_dim") Integer linearValueHeadDim,
        @JsonProperty("linear_conv_kernel_dim") Integer linearConvKernelDim,
        @JsonProperty("bos_token_id") Integer bosTokenId,
        @JsonProperty("eos_token_id") JsonNode eosTokenId) {

    public ModelConfig toModelConfig(Architecture arch) {
        Rope rope = rope(arch);
        Integer window = window(arch);
        boolean gemma = arch == Architecture.GEMMA2 || arch == Architecture.GEMMA3_TEXT;
        return new ModelConfig(
                arch,
                vocabSize,
                hiddenSize,
                numLayers,
                numHeads,
                numKvHeads != null ? numKvHeads : numHeads,
                headDim != null ? headDim : numHeads > 0 ? hiddenSize / numHeads : 0,
                intermediateSize,
                rmsNormEps != null ? rmsNormEps : 1e-6,
                rope.theta(),
                rope.scaling(),
                tieWordEmbeddings != null ? tieWordEmbeddings : gemma,   // Gemma ties by default, the others do not
                biases(arch),
                style(arch, rope),
                maxPositions != null ? maxPositions : 2048,
                window,
                layerTypes(arch, window),
                bosTokenId,
                ConfigReader.idList(eosTokenId),
                CheckpointNames.CAUSAL_LM);
    }

    /** The block layout of {@code arch}. */
    private DecoderStyle style(Architecture arch, Rope rope) {
        Activation activation = activation(arch);
        return switch (arch) {
            case QWEN3 -> new DecoderStyle(NormPlacement.PRE, QkNorm.PER_HEAD, false, activation, false, null, null, null,
                    false, 1.0, null, null, false, null);
            case QWEN3_MOE -> new DecoderStyle(NormPlacement.PRE, QkNorm.PER_HEAD, false, activation, false, null, null, null,
                    false, 1.0, null, moe(arch), false, null);
            case OLMO2 -> new DecoderStyle(NormPlacement.POST, QkNorm.FULL_WIDTH, false, activation, false, null, null, null,
                    false, 1.0, null, null, false, null);
            case GEMMA2 -> new DecoderStyle(NormPlacement.SANDWICH, QkNorm.NONE, true, activation, true,
                    queryPreAttnScalar, attnLogitSoftcapping, finalLogitSoftcapping, false, 1.0, null, null, false, null);
            case GEMMA3_TEXT -> new DecoderStyle(NormPlacement.SANDWICH, QkNorm.PER_HEAD, true, activation, true,
                    queryPreAttnScalar, attnLogitSoftcapping, finalLogitSoftcapping, false, 1.0, rope.localTheta(), null,
                    false, null);
            case PHI3 -> new DecoderStyle(NormPlacement.PRE, QkNorm.NONE, false, activation, false, null, null, null,
                    true, rope.rotaryFraction(), null, null, false, null);
            // zero-centred norms (1 + w), per-head q/k norm, output-gated attention with partial RoPE, and Gated DeltaNet
            case QWEN3_5_TEXT -> new DecoderStyle(NormPlacement.PRE, QkNorm.PER_HEAD, true, activation, false, null, null, null,
                    false, rope.rotaryFraction(), null, null, true, deltaNet(arch));
            // as Qwen3.5, with interleaved in_proj_qkvz / in_proj_ba and sparse MLPs with a shared expert
            case QWEN3_NEXT -> new DecoderStyle(NormPlacement.PRE, QkNorm.PER_HEAD, true, activation, false, null, null, null,
                    false, rope.rotaryFraction(), null, moe(arch), true, deltaNet(arch));
            default -> new DecoderStyle(NormPlacement.PRE, QkNorm.NONE, false, activation, false, null, null, null,
                    false, 1.0, null, null, false, null);
        };
    }

    /** SiLU for all but Gemma (GELU-tanh); anything else is refused, never approximated. */
    private Activation activation(Architecture arch) {
        String act = hiddenActivation != null ? hiddenActivation : hiddenAct;
        boolean gemma = arch == Architecture.GEMMA2 || arch == Architecture.GEMMA3_TEXT;
        if (act == null) {
            return gemma ? Activation.GELU_TANH : Activation.SILU;
        }
        return switch (act) {
            case "silu" -> Activation.SILU;
            case "gelu_pytorch_tanh" -> Activation.GELU_TANH;
            default -> throw new ScalpelException("Unsupported hidden activation '" + act + "' for " + arch.modelType()
                    + "; Scalpel runs silu and gelu_pytorch_tanh gated MLPs.");
        };
    }

    /**
     * Qwen2 always biases q/k/v and never o_proj; Llama, Qwen3, Qwen3-MoE, OLMo 2, Gemma's {@code attention_bias}
     * biases q, k, v and o_proj; Llama's {@code mlp_bias} biases gate, up and down; Mistral and Phi-3 have no biases.
     */
    private LinearBiases biases(Architecture arch) {
        boolean attention = Boolean.TRUE.equals(attentionBias);
        return switch (arch) {
            case QWEN2 -> new LinearBiases(true, false, false);
            case QWEN3, QWEN3_MOE, QWEN3_5_TEXT, QWEN3_NEXT, OLMO2, GEMMA2, GEMMA3_TEXT -> new LinearBiases(attention, attention, false);
            case LLAMA -> new LinearBiases(attention, attention, Boolean.TRUE.equals(mlpBias));
            default -> LinearBiases.NONE;
        };
    }

    private MixtureOfExperts moe(Architecture arch) {
        // transformers 5 writes num_local_experts for qwen3_moe; transformers 4 (and the Hub's configs) and qwen3_next num_experts.
        Integer numExperts = numLocalExperts != null ? numLocalExperts : this.numExperts;
        boolean next = arch == Architecture.QWEN3_NEXT;
        if (numExperts == null || numExpertsPerTok == null || moeIntermediateSize == null
                || next && sharedExpertIntermediateSize == null) {
            throw new ScalpelException("A " + arch.modelType() + " config.json needs num_experts, num_experts_per_tok"
                    + (next ? ", moe_intermediate_size and shared_expert_intermediate_size" : " and moe_intermediate_size")
                    + "; restore config.json from the model's source.");
        }
        int shared = next ? sharedExpertIntermediateSize : 0;
        if (shared < 0 || next && shared == 0) {
            throw new ScalpelException("Invalid shared_expert_intermediate_size " + shared + " in config.json; it must be ≥ 1.");
        }
        int step = decoderSparseStep != null ? decoderSparseStep : 1;
        if (numExperts < 1 || numExpertsPerTok < 1 || numExpertsPerTok > numExperts || moeIntermediateSize < 1 || step < 1) {
            throw new ScalpelException("Invalid mixture of experts in config.json: num_experts " + numExperts
                    + ", num_experts_per_tok " + numExpertsPerTok + ", moe_intermediate_size " + moeIntermediateSize
                    + ", decoder_sparse_step " + step + " (each must be ≥ 1, and at most num_experts experts per token).");
        }
        return new MixtureOfExperts(numExperts, numExpertsPerTok, moeIntermediateSize, Boolean.TRUE.equals(normTopkProb), step,
                new HashSet<>(mlpOnlyLayers != null ? mlpOnlyLayers : List.of()), shared);
    }

    /**
     * The Gated DeltaNet shape of Qwen3.5 or Qwen3-Next. Its value heads are the heads of its layers in Scalpel's layer ×
     * head grid (gates, importance, the heatmap), which is ragged when they are not as many as the attention heads
     * ({@link ModelConfig#headsIn}).
     */
    private DecoderStyle.DeltaNetShape deltaNet(Architecture arch) {
        if (linearNumKeyHeads == null || linearNumValueHeads == null || linearKeyHeadDim == null || linearValueHeadDim == null
                || linearConvKernelDim == null) {
            throw new ScalpelException("A " + arch.modelType() + " config.json needs linear_num_key_heads, linear_num_value_heads, "
                    + "linear_key_head_dim, linear_value_head_dim and linear_conv_kernel_dim; restore it from the model's source.");
        }
        if (linearNumKeyHeads < 1 || linearNumValueHeads % linearNumKeyHeads != 0 || linearKeyHeadDim < 1
                || linearValueHeadDim < 1 || linearConvKernelDim < 1) {
            throw new ScalpelException("Invalid Gated DeltaNet shape in config.json: " + linearNumKeyHeads + " key heads, "
                    + linearNumValueHeads + " value heads (must be a multiple), head dims " + linearKeyHeadDim + "/"
                    + linearValueHeadDim + ", conv kernel " + linearConvKernelDim + ".");
        }
        return new DecoderStyle.DeltaNetShape(linearNumKeyHeads, linearNumValueHeads, linearKeyHeadDim, linearValueHeadDim,
                linearConvKernelDim, arch == Architecture.QWEN3_NEXT);
    }

    /** The sliding window, or null when no layer slides. */
    private Integer window(Architecture arch) {
        Integer window = switch (arch) {
            case MISTRAL, PHI3, GEMMA2, GEMMA3_TEXT -> slidingWindow;
            case QWEN2, QWEN3, QWEN3_MOE -> Boolean.TRUE.equals(useSlidingWindow) ? slidingWindow : null;
            default -> null;
        };
        if (window != null && window < 1) {
            throw new ScalpelException("sliding_window must be a positive number of positions, got " + window + ".");
        }
        return window;
    }

    /**
     * Which layers slide, as transformers decides: Mistral, Phi-3 and Qwen3-MoE slide every layer when there is a window; the
     * others follow {@code layer_types} when config.json has it (transformers 5 always writes it), else their
     * transformers 4 rule: Qwen slides the layers from {@code max_window_layers} on, Gemma 2 every other layer from
     * layer 0, Gemma 3 all but every {@code sliding_window_pattern}-th. Without a window every layer is full attention.
     */
    private List<LayerType> layerTypes(Architecture arch, Integer window) {
        if (layerTypes != null && layerTypes.size() != numLayers) {
            throw new ScalpelException("layer_types lists " + layerTypes.size() + " layers but num_hidden_layers is "
                    + numLayers + "; restore config.json from the model's source.");
        }
        if (arch.isGatedDeltaNetHybrid()) {
            return hybridLayerTypes(arch);
        }
        List<LayerType> types = new ArrayList<>();
        for (int l = 0; l < numLayers; l++) {
            boolean slides;
            if (window == null) {
                slides = false;
            } else if (arch == Architecture.MISTRAL || arch == Architecture.PHI3 || arch == Architecture.QWEN3_MOE) {
                slides = true;
            } else if (layerTypes != null) {
                LayerType t = LayerType.of(layerTypes.get(l));
                if (t == LayerType.LINEAR_ATTENTION) {
                    throw new ScalpelException("layer_types lists linear_attention for " + arch.modelType()
                            + ", which has no linear-attention layers; restore config.json from the model's source.");
                }
                slides = t == LayerType.SLIDING_ATTENTION;
            } else {
                slides = switch (arch) {
                    case GEMMA2 -> l % 2 == 0;
                    case GEMMA3_TEXT -> (l + 1) % fullAttentionPeriod() != 0;
                    default -> l >= (maxWindowLayers != null ? maxWindowLayers : 28);
                };
            }
            types.add(slides ? LayerType.SLIDING_ATTENTION : LayerType.FULL_ATTENTION);
        }
        return types;
    }

    /** Qwen3.5, Qwen3-Next: {@code layer_types} (linear_attention / full_attention), else transformers' default of every 4th full. */
    private List<LayerType> hybridLayerTypes(Architecture arch) {
        List<LayerType> types = new ArrayList<>();
        for (int l = 0; l < numLayers; l++) {
            LayerType t = layerTypes != null ? LayerType.of(layerTypes.get(l))
                    : (l + 1) % 4 == 0 ? LayerType.FULL_ATTENTION : LayerType.LINEAR_ATTENTION;
            if (t == LayerType.SLIDING_ATTENTION) {
                throw new ScalpelException("layer_types of a " + arch.modelType() + " model lists sliding_attention, which "
                        + "it does not have; restore config.json from the model's source.");
            }
            types.add(t);
        }
        return types;
    }

    /** Gemma 3's period of full-attention layers (transformers 4 {@code sliding_window_pattern}, 5 {@code _sliding_window_pattern}). */
    /** Gemma 3's sliding_window_pattern: every n-th layer is global (n ≥ 1; transformers' default 6). */
    private int fullAttentionPeriod() {
        int period = slidingWindowPattern != null ? slidingWindowPattern
                : privateSlidingWindowPattern != null ? privateSlidingWindowPattern : 6;
        if (period < 1) {
            throw new ScalpelException("sliding_window_pattern is " + period + "; it must be at least 1 (every n-th layer is global). "
                    + "Restore config.json from the model's source.");
        }
        return period;
    }

    /**
     * RoPE: transformers 5 nests theta and scaling in {@code rope_parameters} (Gemma 3: one entry per layer type);
     * transformers 4 has top-level {@code rope_theta}, {@code rope_scaling}, {@code rope_local_base_freq} and
     * {@code partial_rotary_factor}. Read both spellings.
     */
    private Rope rope(Architecture arch) {
        JsonNode params = ropeParameters != null && !ropeParameters.isNull() ? ropeParameters : ropeScaling;
        JsonNode global = params;
        Double localTheta = ropeLocalBaseFreq;
        if (params != null && params.has(LayerType.FULL_ATTENTION.configName())) {
            global = params.get(LayerType.FULL_ATTENTION.configName());
            JsonNode local = params.path(LayerType.SLIDING_ATTENTION.configName());
            if (!local.isMissingNode()) {
                if (ropeScalingOf(local) != null) {
                    throw new ScalpelException("Unsupported rope scaling on sliding_attention layers; Scalpel runs the "
                            + "default RoPE there.");
                }
                localTheta = local.path("rope_theta").asDouble(10000.0);
            }
        }
        double theta = ropeTheta != null ? ropeTheta
                : global != null && global.has("rope_theta") ? global.get("rope_theta").asDouble() : 10000.0;
        double fraction = partialRotaryFactor != null ? partialRotaryFactor
                : global != null && global.has("partial_rotary_factor") ? global.get("partial_rotary_factor").asDouble() : 1.0;
        if (!(fraction > 0 && fraction <= 1)) {
            throw new ScalpelException("partial_rotary_factor must be in (0, 1], got " + fraction + ".");
        }
        if (fraction != 1 && arch != Architecture.PHI3 && !arch.isGatedDeltaNetHybrid()) {
            throw new ScalpelException("partial_rotary_factor " + fraction + " is set for " + arch.modelType()
                    + ", whose attention turns whole heads (transformers cannot run it either); only phi3, qwen3_5_text and qwen3_next rotate "
                    + "part of each head. Remove the key or restore config.json from the model's source.");
        }
        if (arch != Architecture.GEMMA3_TEXT) {
            localTheta = null;
        }
        return new Rope(theta, ropeScalingOf(global), localTheta, fraction);
    }

    /** RoPE of full-attention layers (theta, scaling), of sliding layers (theta or null = same), rotated fraction. */
    private record Rope(double theta, RopeScaling scaling, Double localTheta, double rotaryFraction) {}

    private static RopeScaling ropeScalingOf(JsonNode node) {
        if (node == null || node.isNull()) {
            return null;
        }
        String type = node.path("rope_type").asText(node.path("type").asText("default"));
        if (type.equals("default")) {
            return null;
        }
        if (!type.equals("llama3")) {
            throw new ScalpelException("Unsupported rope_scaling type '" + type
                    + "'; Scalpel supports the default RoPE and rope_type 'llama3'.");
        }
        return new RopeScaling(
                node.path("factor").asDouble(8.0),
                node.path("low_freq_factor").asDouble(1.0),
                node.path("high_freq_factor").asDouble(4.0),
                node.path("original_max_position_embeddings").asInt(8192));
    }
}
