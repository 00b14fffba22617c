package dev.scalpel.engine.model;

import java.util.List;

/**
 * The numbers from config.json that change the math, in one shape for every architecture.
 *
 * @param headDim           per-head width; explicit in config.json or hidden / heads
 * @param normEps           RMSNorm eps (Llama family) or LayerNorm eps (GPT-2)
 * @param ropeTheta         RoPE base; unused by GPT-2 (learned positions)
 * @param ropeScaling       Llama 3 frequency scaling, or null for none
 * @param biases            which linear layers carry a bias
 * @param style             the family's block layout (norm placement, q/k norm, …)
 * @param slidingWindow     how many positions a sliding-attention layer sees (its own included), or null for none
 * @param layerTypes        per layer: full or sliding attention (size numLayers)
 * @param bosTokenId        null when the model has none
 * @param eosTokenIds       generation stops at any of these
 * @param checkpointNames   how the checkpoint names the weights (a multimodal Qwen3.5 keeps its text model elsewhere)
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
        LinearBiases biases,
        DecoderStyle style,
        int maxPositions,
        Integer slidingWindow,
        List<LayerType> layerTypes,
        Integer bosTokenId,
        List<Integer> eosTokenIds,
        CheckpointNames checkpointNames) {

    public ModelConfig {
        eosTokenIds = List.copyOf(eosTokenIds);
        layerTypes = List.copyOf(layerTypes);
        if (layerTypes.size() != numLayers) {
            throw new IllegalArgumentException(layerTypes.size() + " layer types for " + numLayers + " layers");
        }
    }

    /** The same config for a checkpoint that names its weights as {@code names} says. */
    public ModelConfig withCheckpointNames(CheckpointNames names) {
        return new ModelConfig(architecture, vocabSize, hiddenSize, numLayers, numHeads, numKvHeads, headDim, intermediateSize,
                normEps, ropeTheta, ropeScaling, tieWordEmbeddings, biases, style, maxPositions, slidingWindow, layerTypes,
                bosTokenId, eosTokenIds, names);
    }

    /** The window layer {@code layer} attends within, or null when it sees every earlier position. */
    public Integer windowOf(int layer) {
        return layerTypes.get(layer) == LayerType.SLIDING_ATTENTION ? slidingWindow : null;
    }

    /**
     * Heads of layer {@code layer} in Scalpel's layer × head grid: the query heads of an attention layer, the value heads
     * of a Gated DeltaNet layer.
     */
    public int headsIn(int layer) {
        return layerTypes.get(layer) == LayerType.LINEAR_ATTENTION ? style.deltaNet().valueHeads() : numHeads;
    }

    /** Width of one head's output z in layer {@code layer}: head_dim, or a Gated DeltaNet layer's value head dim. */
    public int headWidthIn(int layer) {
        return layerTypes.get(layer) == LayerType.LINEAR_ATTENTION ? style.deltaNet().valueDim() : headDim;
    }

    /** The heads of every layer ({@link #headsIn}); ragged when a hybrid's two kinds of layer have different counts. */
    public dev.scalpel.engine.api.HeadGrid headGrid() {
        return new dev.scalpel.engine.api.HeadGrid(java.util.stream.IntStream.range(0, numLayers).map(this::headsIn).boxed().toList());
    }

    /** The widest head output of any layer ({@link #headWidthIn}). */
    public int maxHeadWidth() {
        return java.util.stream.IntStream.range(0, numLayers).map(this::headWidthIn).max().orElseThrow();
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

    /** The factor on q·k: 1/√query_pre_attn_scalar where the style sets it (Gemma), else 1/√head_dim. */
    public double attentionScale() {
        return 1.0 / Math.sqrt(style.queryPreAttnScalar() != null ? style.queryPreAttnScalar() : headDim);
    }

    /** How many leading dimensions of each head RoPE turns: head_dim × the style's rotary fraction, even. */
    public int rotaryDims() {
        int r = (int) (headDim * style.rotaryFraction());
        return r - r % 2;
    }

    public boolean isEos(long id) {
        return eosTokenIds.contains((int) id);
    }
}
