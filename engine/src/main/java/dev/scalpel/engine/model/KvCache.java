package dev.scalpel.engine.model;

import dev.scalpel.engine.api.ScalpelException;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Keys and values of every layer for positions already processed, preallocated to a capacity so that a decode
 * step writes in place: per layer K and V are [B, H_kv, capacity, D]. {@link #length()} positions are filled.
 * A Gated DeltaNet layer keeps instead its {@link DeltaNetState}: the last inputs of its convolution and its
 * recurrent state, which summarise every processed position.
 */
public final class KvCache implements AutoCloseable {
    private final Tensor[] keys;
    private final Tensor[] values;
    private final DeltaNetState[] deltaNetStates;
    private final int capacity;
    private int length;

    /**
     * What a Gated DeltaNet layer carries from one forward pass to the next.
     *
     * @param conv      the last convolution-kernel − 1 inputs of q|k|v, [B, C, K − 1]
     * @param recurrent the per-value-head state, [B, H_v, D_k, D_v]
     */
    public record DeltaNetState(Tensor conv, Tensor recurrent) {}

    public KvCache(ModelConfig config, int batch, int capacity, ComputeDevice device) {
        this.capacity = capacity;
        this.keys = new Tensor[config.numLayers()];
        this.values = new Tensor[config.numLayers()];
        this.deltaNetStates = new DeltaNetState[config.numLayers()];
        var options = Tensors.floatOptions(device);
        long[] shape = {batch, config.numKvHeads(), capacity, config.headDim()};
        for (int l = 0; l < keys.length; l++) {
            keys[l] = torch.zeros(shape, options);
            values[l] = torch.zeros(shape, options);
            keys[l].retainReference();
            values[l].retainReference();
        }
    }

    /** Positions already in the cache; the next forward pass starts at this position. */
    public int length() {
        return length;
    }

    public int capacity() {
        return capacity;
    }

    /**
     * Writes the new positions' k and v ([B, H_kv, S, D]) of {@code layer} after the cached ones and returns views of
     * all T = length + S positions: {keys, values}, each [B, H_kv, T, D]. The length advances in {@link #advance}.
     */
    Tensor[] append(int layer, Tensor k, Tensor v) {
        long s = k.size(2);
        if (length + s > capacity) {
            throw new ScalpelException("The KV cache holds " + capacity + " positions but " + (length + s)
                    + " were needed; generate fewer tokens or use a shorter prompt.");
        }
        keys[layer].narrow(2, length, s).copy_(k);
        values[layer].narrow(2, length, s).copy_(v);
        return new Tensor[] {keys[layer].narrow(2, 0, length + s), values[layer].narrow(2, 0, length + s)};
    }

    /** The state {@code layer} (a Gated DeltaNet layer) left after the cached positions, or null before the first pass. */
    public DeltaNetState deltaNetState(int layer) {
        return deltaNetStates[layer];
    }

    /** Keeps {@code state} as what {@code layer} carries into the next pass (the previous one is released). */
    public void putDeltaNetState(int layer, DeltaNetState state) {
        state.conv().retainReference();
        state.recurrent().retainReference();
        release(deltaNetStates[layer]);
        deltaNetStates[layer] = state;
    }

    private static void release(DeltaNetState state) {
        if (state != null) {
            state.conv().releaseReference();
            state.recurrent().releaseReference();
        }
    }

    /** Marks {@code positions} more positions as filled; called once per forward pass after every layer appended. */
    public void advance(int positions) {
        length += positions;
    }

    @Override
    public void close() {
        for (int l = 0; l < keys.length; l++) {
            keys[l].releaseReference();
            values[l].releaseReference();
            release(deltaNetStates[l]);
        }
    }
}
