package dev.scalpel.engine.edit;

import dev.scalpel.engine.model.ComputeDevice;
import dev.scalpel.engine.model.Tensors;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Part of a weight matrix [out, in]: some of its rows (output features, dim 0) or columns (input features, dim 1).
 * A head's q/k/v weights are rows; its o_proj weights are columns.
 */
public record Slice(String weightName, int dim, List<Integer> indices) {

    public Slice {
        if (dim != 0 && dim != 1) {
            throw new IllegalArgumentException("dim must be 0 (rows) or 1 (columns), got " + dim);
        }
        indices = List.copyOf(indices);
    }

    /** The contiguous block [start, start + length) along dim. */
    public static Slice block(String weightName, int dim, int start, int length) {
        List<Integer> idx = new ArrayList<>(length);
        for (int i = 0; i < length; i++) {
            idx.add(start + i);
        }
        return new Slice(weightName, dim, idx);
    }

    /** The union of slices of one weight along one dim, indices sorted and without repeats. */
    public static Slice union(List<Slice> slices) {
        Slice first = slices.get(0);
        List<Integer> idx = slices.stream().flatMap(s -> s.indices().stream()).distinct().sorted().toList();
        return new Slice(first.weightName(), first.dim(), idx);
    }

    /**
     * Places y [..., k] into features {@code index} (k ids) of a zero [..., out] tensor (differentiable): how an edit
     * of some output rows of a weight adds to the layer's output.
     */
    public static Tensor scatterFeatures(Tensor y, Tensor index, long out) {
        long[] shape = Tensors.shape(y);
        shape[shape.length - 1] = out;
        return torch.zeros(shape, Tensors.floatOptions(ComputeDevice.of(y))).index_add(-1, index, y);
    }

    public int size() {
        return indices.size();
    }

    public long[] indexArray() {
        return indices.stream().mapToLong(Integer::longValue).toArray();
    }
}
