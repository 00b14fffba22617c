package dev.scalpel.engine.api;

/**
 * Facts about a model folder, read from its config and checkpoint header without loading the weights.
 *
 * @param parameters scalar parameters, a tied embedding counted once
 * @param dtype      the stored dtype of most of the weights (F32, BF16, …)
 * @param layerTypes per layer, as config.json's layer_types names it: full_attention, sliding_attention or
 *                   linear_attention (a Gated DeltaNet layer, whose heads are its value heads)
 */
public record ModelSummary(String architecture, int layers, int heads, int kvHeads, int headDim, int hiddenSize,
                           int intermediateSize, int vocabSize, int maxPositions, boolean tiedEmbeddings,
                           long parameters, String dtype, java.util.List<String> layerTypes) {
    public ModelSummary {
        layerTypes = java.util.List.copyOf(layerTypes);
    }
}
