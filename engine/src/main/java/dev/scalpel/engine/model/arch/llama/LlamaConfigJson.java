package dev.scalpel.engine.model.arch.llama;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.model.Architecture;
import dev.scalpel.engine.model.ConfigReader;
import dev.scalpel.engine.model.DecoderStyle;
import dev.scalpel.engine.model.LayerType;
import dev.scalpel.engine.model.LinearBiases;
import dev.scalpel.engine.model.ModelConfig;
import dev.scalpel.engine.model.RopeScaling;
import java.util.ArrayList;
import java.util.List;

/** config.json of Llama, Mistral, Qwen2 and Qwen3 as Hugging Face writes it. */
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
        @JsonProperty("tie_word_embeddings") Boolean tieWordEmbeddings,
        @JsonProperty("attention_bias") Boolean attentionBias,
        @JsonProperty("mlp_bias") Boolean mlpBias,
        @JsonProperty("hidden_act") String hiddenAct,
        @JsonProperty("max_position_embeddings") Integer maxPositions,
        @JsonProperty("sliding_window") Integer slidingWindow,
        @JsonProperty("use_sliding_window") Boolean useSlidingWindow,
        @JsonProperty("max_window_layers") Integer maxWindowLayers,
        @JsonProperty("layer_types") List<String> layerTypes,
        @JsonProperty("bos_token_id") Integer bosTokenId,
        @JsonProperty("eos_token_id") JsonNode eosTokenId) {

    public ModelConfig toModelConfig(Architecture arch) {
        if (hiddenAct != null && !hiddenAct.equals("silu")) {
            throw new ScalpelException("Unsupported hidden_act '" + hiddenAct + "' for " + arch.modelType()
                    + "; Scalpel's Llama-family MLP is SiLU-gated (hidden_act: silu).");
        }
        // transformers 5 moved rope_theta / rope_scaling into rope_parameters; read both spellings.
        JsonNode rope = ropeParameters != null && !ropeParameters.isNull() ? ropeParameters : ropeScaling;
        double theta = ropeTheta != null ? ropeTheta
                : rope != null && rope.has("rope_theta") ? rope.get("rope_theta").asDouble() : 10000.0;
        boolean tied = Boolean.TRUE.equals(tieWordEmbeddings);
        Integer window = switch (arch) {
            case MISTRAL -> slidingWindow;
            case QWEN2, QWEN3 -> Boolean.TRUE.equals(useSlidingWindow) ? slidingWindow : null;
            default -> null;
        };
        if (window != null && window < 1) {
            throw new ScalpelException("sliding_window must be a positive number of positions, got " + window + ".");
        }
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
                theta,
                ropeScalingOf(rope),
                tied,
                biases(arch),
                arch == Architecture.QWEN3 ? new DecoderStyle(DecoderStyle.QkNorm.PER_HEAD) : DecoderStyle.LLAMA,
                maxPositions != null ? maxPositions : 2048,
                window,
                layerTypes(arch, window),
                bosTokenId,
                ConfigReader.idList(eosTokenId));
    }

    /**
     * Qwen2 always biases q/k/v and never o_proj; Llama and Qwen3's {@code attention_bias} biases q, k, v and o_proj;
     * Llama's {@code mlp_bias} biases gate, up and down; Mistral has no biases.
     */
    private LinearBiases biases(Architecture arch) {
        boolean attention = Boolean.TRUE.equals(attentionBias);
        return switch (arch) {
            case QWEN2 -> new LinearBiases(true, false, false);
            case QWEN3 -> new LinearBiases(attention, attention, false);
            case LLAMA -> new LinearBiases(attention, attention, Boolean.TRUE.equals(mlpBias));
            default -> LinearBiases.NONE;
        };
    }

    /**
     * Which layers slide, as transformers decides: Mistral slides every layer when it has a window; Qwen2/Qwen3 follow
     * {@code layer_types} when config.json has it (transformers 5 writes it), else the layers from
     * {@code max_window_layers} on slide; with no window every layer is full attention.
     */
    private List<LayerType> layerTypes(Architecture arch, Integer window) {
        if (layerTypes != null && layerTypes.size() != numLayers) {
            throw new ScalpelException("layer_types lists " + layerTypes.size() + " layers but num_hidden_layers is "
                    + numLayers + "; restore config.json from the model's source.");
        }
        List<LayerType> types = new ArrayList<>();
        for (int l = 0; l < numLayers; l++) {
            LayerType t;
            if (window == null) {
                t = LayerType.FULL_ATTENTION;
            } else if (arch == Architecture.MISTRAL) {
                t = LayerType.SLIDING_ATTENTION;
            } else if (layerTypes != null) {
                t = LayerType.of(layerTypes.get(l));
            } else {
                int firstSliding = maxWindowLayers != null ? maxWindowLayers : 28;
                t = l >= firstSliding ? LayerType.SLIDING_ATTENTION : LayerType.FULL_ATTENTION;
            }
            types.add(t);
        }
        return types;
    }

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
