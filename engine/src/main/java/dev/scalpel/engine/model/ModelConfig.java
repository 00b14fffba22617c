package dev.scalpel.engine.model;

import java.util.List;

/**
 * The numbers from config.json that change the math, in one shape for every architecture.
 *
 * @param headDim           per-head width; explicit in config.json or hidden / heads
 * @param normEps           RMSNorm eps (Llama family) or LayerNorm eps (GPT-2)
 * @param ropeTheta         RoPE base; unused by GPT-2 (learned positions)
 * @param ropeScaling       Llama 3 frequency scaling, or null for none
 * @param attentionBias     q/k/v (and for GPT-2 every linear) carry a bias
 * @param qkNorm            Qwen3: RMSNorm over head_dim on each head's q and k before RoPE
 * @param slidingWindow     Mistral: a query sees at most this many positions back, or null for full attention
 * @param bosTokenId        null when the model has none
 * @param eosTokenIds       generation stops at any of these
 */
public record ModelConfig(
        Architecture architecture,
        int vocabSize,
        int hiddenSize,
        int numLayers,
        int numHeads,
        int numKvHeads,
        int headDim,
        int intermediateSize,
        double normEps,
        double ropeTheta,
        RopeScaling ropeScaling,
        boolean tieWordEmbeddings,
        boolean attentionBias,
        boolean qkNorm,
        int maxPositions,
        Integer slidingWindow,
        Integer bosTokenId,
        List<Integer> eosTokenIds) {

    public ModelConfig {
        eosTokenIds = List.copyOf(eosTokenIds);
    }

    /** Query heads that share one key/value head (1 without GQA). */
    public int queriesPerKvHead() {
        return numHeads / numKvHeads;
    }

    /** Width of all query heads together: numHeads × headDim. */
    public int qWidth() {
        return numHeads * headDim;
    }

    /** Width of all key (or value) heads together: numKvHeads × headDim. */
    public int kvWidth() {
        return numKvHeads * headDim;
    }

    public boolean isEos(long id) {
        return eosTokenIds.contains((int) id);
    }
}
