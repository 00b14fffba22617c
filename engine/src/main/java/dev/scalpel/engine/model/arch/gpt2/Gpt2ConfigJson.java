package dev.scalpel.engine.model.arch.gpt2;

import com.fasterxml.jackson.annotation.JsonAlias;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.model.Architecture;
import dev.scalpel.engine.model.CheckpointNames;
import dev.scalpel.engine.model.ConfigReader;
import dev.scalpel.engine.model.DecoderStyle;
import dev.scalpel.engine.model.LayerType;
import dev.scalpel.engine.model.LinearBiases;
import dev.scalpel.engine.model.ModelConfig;
import java.util.Collections;

/** config.json of GPT-2 as Hugging Face writes it (with transformers' aliases: hidden_size for n_embd, …). */
@JsonIgnoreProperties(ignoreUnknown = true)
public record Gpt2ConfigJson(
        @JsonProperty("vocab_size") int vocabSize,
        @JsonProperty("n_embd") @JsonAlias("hidden_size") int nEmbd,
        @JsonProperty("n_layer") @JsonAlias("num_hidden_layers") int nLayer,
        @JsonProperty("n_head") @JsonAlias("num_attention_heads") int nHead,
        @JsonProperty("n_inner") Integer nInner,
        @JsonProperty("n_positions") @JsonAlias("max_position_embeddings") Integer nPositions,
        @JsonProperty("layer_norm_epsilon") Double layerNormEpsilon,
        @JsonProperty("activation_function") String activation,
        @JsonProperty("scale_attn_weights") Boolean scaleAttnWeights,
        @JsonProperty("scale_attn_by_inverse_layer_idx") Boolean scaleByInverseLayerIdx,
        @JsonProperty("tie_word_embeddings") Boolean tieWordEmbeddings,
        @JsonProperty("bos_token_id") Integer bosTokenId,
        @JsonProperty("eos_token_id") JsonNode eosTokenId) {

    public ModelConfig toModelConfig() {
        if (activation != null && !activation.equals("gelu_new") && !activation.equals("gelu_pytorch_tanh")) {
            throw new ScalpelException("Unsupported GPT-2 activation_function '" + activation
                    + "'; Scalpel runs gelu_new (the tanh approximation GPT-2 uses).");
        }
        if (Boolean.FALSE.equals(scaleAttnWeights) || Boolean.TRUE.equals(scaleByInverseLayerIdx)) {
            throw new ScalpelException("Unsupported GPT-2 attention scaling (scale_attn_weights=false or "
                    + "scale_attn_by_inverse_layer_idx=true); Scalpel runs the standard 1/sqrt(head_dim) scaling.");
        }
        int headDim = nHead > 0 ? nEmbd / nHead : 0;
        return new ModelConfig(
                Architecture.GPT2,
                vocabSize,
                nEmbd,
                nLayer,
                nHead,
                nHead,
                headDim,
                nInner != null ? nInner : 4 * nEmbd,
                layerNormEpsilon != null ? layerNormEpsilon : 1e-5,
                0,
                null,
                !Boolean.FALSE.equals(tieWordEmbeddings),
                LinearBiases.ALL,
                DecoderStyle.LLAMA,
                nPositions != null ? nPositions : 1024,
                null,
                Collections.nCopies(Math.max(nLayer, 0), LayerType.FULL_ATTENTION),
                bosTokenId,
                ConfigReader.idList(eosTokenId),
                CheckpointNames.CAUSAL_LM);
    }
}
