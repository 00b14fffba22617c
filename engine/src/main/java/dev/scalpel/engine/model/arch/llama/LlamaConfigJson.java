package dev.scalpel.engine.model.arch.llama;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.model.Architecture;
import dev.scalpel.engine.model.ConfigReader;
import dev.scalpel.engine.model.ModelConfig;
import dev.scalpel.engine.model.RopeScaling;

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
        @JsonProperty("hidden_act") String hiddenAct,
        @JsonProperty("max_position_embeddings") Integer maxPositions,
        @JsonProperty("sliding_window") Integer slidingWindow,
        @JsonProperty("use_sliding_window") Boolean useSlidingWindow,
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
        boolean qwen2 = arch == Architecture.QWEN2;
        boolean tied = Boolean.TRUE.equals(tieWordEmbeddings);
        // Qwen2 always has q/k/v bias (no attention_bias field); Qwen3 has q/k norm and attention_bias false by default.
        boolean bias = qwen2 || Boolean.TRUE.equals(attentionBias);
        Integer window = switch (arch) {
            case MISTRAL -> slidingWindow;
            case QWEN2, QWEN3 -> Boolean.TRUE.equals(useSlidingWindow) ? slidingWindow : null;
            default -> null;
        };
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
                bias,
                arch == Architecture.QWEN3,
                maxPositions != null ? maxPositions : 2048,
                window,
                bosTokenId,
                ConfigReader.idList(eosTokenId));
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
