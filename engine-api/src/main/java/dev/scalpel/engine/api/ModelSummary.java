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

    /** "" when every layer is full attention, else runs of layer types: "L0-L2 linear_attention, L3 full_attention". */
    public String layerTypeRuns() {
        if (layerTypes.stream().allMatch("full_attention"::equals)) {
            return "";
        }
        java.util.List<String> runs = new java.util.ArrayList<>();
        for (int start = 0, l = 1; l <= layerTypes.size(); l++) {
            if (l == layerTypes.size() || !layerTypes.get(l).equals(layerTypes.get(start))) {
                runs.add((l - 1 == start ? "L" + start : "L" + start + "-L" + (l - 1)) + " " + layerTypes.get(start));
                start = l;
            }
        }
        return String.join(", ", runs);
    }
}
