package dev.scalpel.engine.api;

import java.util.ArrayList;
import java.util.List;

/**
 * Which heads a model has: a head count per layer. Most models have the same count in every layer; a hybrid's Gated
 * DeltaNet layers have their own (their value heads), so the grid can be ragged. Drawn as a layers × {@link #width()}
 * rectangle, the cells of layer l at and beyond {@link #headsIn(int) headsIn(l)} are absent.
 *
 * @param headsPerLayer heads of each layer, each ≥ 1; unmodifiable
 */
public record HeadGrid(List<Integer> headsPerLayer) {

    public HeadGrid {
        headsPerLayer = List.copyOf(headsPerLayer);
        if (headsPerLayer.isEmpty()) {
            throw new IllegalArgumentException("A head grid needs at least one layer");
        }
        for (int l = 0; l < headsPerLayer.size(); l++) {
            if (headsPerLayer.get(l) < 1) {
                throw new IllegalArgumentException("Layer " + l + " of a head grid needs at least one head, got " + headsPerLayer.get(l));
            }
        }
    }

    /** {@code heads} heads in each of {@code layers} layers. */
    public static HeadGrid uniform(int layers, int heads) {
        return new HeadGrid(java.util.Collections.nCopies(layers, heads));
    }

    public int layers() {
        return headsPerLayer.size();
    }

    /** Heads of layer {@code layer}. */
    public int headsIn(int layer) {
        return headsPerLayer.get(layer);
    }

    /** The most heads of any layer: the width of the layers × heads rectangle. */
    public int width() {
        return headsPerLayer.stream().mapToInt(Integer::intValue).max().orElseThrow();
    }

    /** Whether some layer has fewer heads than the width. */
    public boolean isRagged() {
        return headsPerLayer.stream().anyMatch(h -> h != width());
    }

    /** Whether the model has this head (its layer exists and has more heads than its index). */
    public boolean contains(HeadId head) {
        return head.layer() < layers() && head.head() < headsIn(head.layer());
    }

    /** Every head, layer by layer. */
    public List<HeadId> all() {
        List<HeadId> heads = new ArrayList<>();
        for (int l = 0; l < layers(); l++) {
            for (int h = 0; h < headsIn(l); h++) {
                heads.add(new HeadId(l, h));
            }
        }
        return heads;
    }

    /**
     * Checks that the model has {@code head}.
     *
     * @throws ScalpelException in one line naming the layer count or the layer's head count
     */
    public void check(HeadId head) {
        if (!contains(head)) {
            throw new ScalpelException("Head " + head + " does not exist: " + absence(head) + ".");
        }
    }

    /**
     * Why the model lacks {@code head}: "the model has 4 layers (L0 to L3)", "the model has 4 heads per layer (H0 to
     * H3)", or for a ragged grid "layer 3 has 4 heads (H0 to H3)".
     */
    String absence(HeadId head) {
        if (head.layer() >= layers()) {
            return "the model has " + layers() + " layers (L0 to L" + (layers() - 1) + ")";
        }
        int n = headsIn(head.layer());
        return isRagged() ? "layer " + head.layer() + " has " + n + " heads (H0 to H" + (n - 1) + ")" : uniformAbsence(n);
    }

    /** "the model has 4 heads per layer (H0 to H3)". */
    static String uniformAbsence(int headsPerLayer) {
        return "the model has " + headsPerLayer + " heads per layer (H0 to H" + (headsPerLayer - 1) + ")";
    }
}
