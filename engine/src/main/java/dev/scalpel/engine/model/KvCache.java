package dev.scalpel.engine.model;

import dev.scalpel.engine.api.ScalpelException;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Keys and values of every layer for positions already processed, preallocated to a capacity so that a decode
 * step writes in place: per layer K and V are [B, H_kv, capacity, D]. {@link #length()} positions are filled.
 */
public final class KvCache implements AutoCloseable {
    private final Tensor[] keys;
    private final Tensor[] values;
    private final int capacity;
    private int length;

    public KvCache(ModelConfig config, int batch, int capacity, ComputeDevice device) {
        this.capacity = capacity;
        this.keys = new Tensor[config.numLayers()];
        this.values = new Tensor[config.numLayers()];
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

    /** Marks {@code positions} more positions as filled; called once per forward pass after every layer appended. */
    public void advance(int positions) {
        length += positions;
    }

    @Override
    public void close() {
        for (int l = 0; l < keys.length; l++) {
            keys[l].releaseReference();
            values[l].releaseReference();
        }
    }
}
