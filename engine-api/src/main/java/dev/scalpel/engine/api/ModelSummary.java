package dev.scalpel.engine.api;

/**
 * Facts about a model folder, read from its config and checkpoint header without loading the weights.
 *
 * @param parameters scalar parameters, a tied embedding counted once
 * @param dtype      the stored dtype of most of the weights (F32, BF16, …)
 */
public record ModelSummary(String architecture, int layers, int heads, int kvHeads, int headDim, int hiddenSize,
                           int intermediateSize, int vocabSize, int maxPositions, boolean tiedEmbeddings,
                           long parameters, String dtype) {}
