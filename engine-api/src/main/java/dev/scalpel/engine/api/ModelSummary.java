package dev.scalpel.engine.api;

/**
 * Facts about a model folder, read from its config and checkpoint header without loading the weights.
 *
 * @param parameters scalar parameters, a tied embedding counted once
 * @param dtype      the stored dtype of most of the weights (F32, BF16, …)
 * @param layerTypes per layer, as config.json's layer_types names it: full_attention, sliding_attention or
 *                   linear_attention (a Gated DeltaNet layer, whose heads are its value heads)
 * @param grid       the heads of each layer: {@code heads} in attention layers, the value heads in Gated DeltaNet layers
 * @param headWidths per layer, the width of one of its heads' outputs (head_dim, or a DeltaNet's value head dim)
 */
public record ModelSummary(String architecture, int layers, int heads, int kvHeads, int headDim, int hiddenSize,
                           int intermediateSize, int vocabSize, int maxPositions, boolean tiedEmbeddings,
                           long parameters, String dtype, java.util.List<String> layerTypes, HeadGrid grid,
                           java.util.List<Integer> headWidths) {
    public ModelSummary {
        layerTypes = java.util.List.copyOf(layerTypes);
        headWidths = java.util.List.copyOf(headWidths);
    }

    /** "" when every layer is full attention, else runs of layer types: "L0-L2 linear_attention, L3 full_attention". */
    public String layerTypeRuns() {
        return layerTypes.stream().allMatch("full_attention"::equals) ? "" : runs(layerTypes);
    }

    /**
     * "" when every layer has {@code heads} heads of {@code headDim}, else runs of each layer's heads and their width:
     * "L0-L2 8 heads of 8, L3 4 heads of 16" (a hybrid whose Gated DeltaNet value heads differ from its attention heads).
     */
    public String headGridRuns() {
        java.util.List<String> perLayer = java.util.stream.IntStream.range(0, layers)
                .mapToObj(l -> grid.headsIn(l) + " heads of " + headWidths.get(l)).toList();
        return perLayer.stream().allMatch((heads + " heads of " + headDim)::equals) ? "" : runs(perLayer);
    }

    /** Consecutive equal items as "L0-L2 item, L3 other". */
    private static String runs(java.util.List<String> items) {
        java.util.List<String> runs = new java.util.ArrayList<>();
        for (int start = 0, l = 1; l <= items.size(); l++) {
            if (l == items.size() || !items.get(l).equals(items.get(start))) {
                runs.add((l - 1 == start ? "L" + start : "L" + start + "-L" + (l - 1)) + " " + items.get(start));
                start = l;
            }
        }
        return String.join(", ", runs);
    }
}
