package dev.scalpel.engine.edit;

import dev.scalpel.engine.model.ComputeDevice;
import dev.scalpel.engine.model.Tensors;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * One LoRA adapter on one linear layer W [out, in]: y += (α/r) · B·A·dropout(x), with A [r, in'] and B [out', r].
 * Unrestricted, in' = in and out' = out (PEFT's LoRA). Restricted to a row slice (a head's q/k/v rows), B only has
 * the slice's rows (out' = |rows|) and the update is zero elsewhere; restricted to a column slice (a head's o_proj
 * columns), A only reads those input features (in' = |cols|). Init as PEFT: A ~ U(−1/√in, 1/√in) (kaiming-uniform,
 * a = √5), B = 0, so a fresh adapter leaves the model unchanged.
 */
final class LoraAdapter implements AutoCloseable {
    final String weightName;
    final Slice slice;          // null = the whole matrix
    final Tensor a;             // [r, in']
    final Tensor b;             // [out', r]
    final double scaling;       // α / r
    private final Tensor sliceIndex; // [|slice|] int64, or null

    LoraAdapter(String weightName, Slice slice, Tensor a, Tensor b, double scaling) {
        this.weightName = weightName;
        this.slice = slice;
        this.a = a;
        this.b = b;
        this.scaling = scaling;
        a.retainReference();
        b.retainReference();
        if (slice != null) {
            sliceIndex = Tensors.ids(slice.indexArray(), ComputeDevice.of(a)).view(-1);                    // [|slice|]
            sliceIndex.retainReference();
        } else {
            sliceIndex = null;
        }
    }

    /** A fresh adapter (B = 0) of rank r for W [out, in], trainable. */
    static LoraAdapter fresh(String weightName, Slice slice, long out, long in, int rank, double alpha,
                             ComputeDevice device, long seed) {
        long outRows = slice != null && slice.dim() == 0 ? slice.size() : out;
        long inCols = slice != null && slice.dim() == 1 ? slice.size() : in;
        double bound = 1.0 / Math.sqrt(in);
        java.util.SplittableRandom random = new java.util.SplittableRandom(seed);
        float[] values = new float[(int) (rank * inCols)];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) ((2 * random.nextDouble() - 1) * bound);
        }
        Tensor a = Tensors.floats(values, device).view(rank, inCols);                            // [r, in']
        Tensor b = torch.zeros(new long[] {outRows, rank}, Tensors.floatOptions(device));       // [out', r]
        a.requires_grad_(true);
        b.requires_grad_(true);
        return new LoraAdapter(weightName, slice, a, b, alpha / rank);
    }

    /** A frozen copy: cloned A and B without gradients. */
    LoraAdapter copy() {
        return new LoraAdapter(weightName, slice, a.detach().clone(), b.detach().clone(), scaling);
    }

    /** (α/r)·B·A·x placed into the layer's output features; x [..., in] → [..., out]. */
    Tensor contribution(Tensor x, long out, double dropout, boolean training) {
        Tensor input = dropout > 0 && training ? torch.dropout(x, dropout, true) : x;
        if (slice != null && slice.dim() == 1) {
            input = input.index_select(-1, sliceIndex);                                        // [..., |cols|]
        }
        Tensor y = input.matmul(a.t()).matmul(b.t()).mul(new Scalar(scaling));                  // [..., out']
        if (slice == null || slice.dim() == 1) {
            return y;                                                                           // [..., out]
        }
        return Slice.scatterFeatures(y, sliceIndex, out);                                        // [..., out]
    }

    /** A as PEFT stores it for the whole layer, [r, in]: zero on input features outside a column slice. */
    Tensor denseA(long in) {
        if (slice == null || slice.dim() == 0) {
            return a.detach();
        }
        return torch.zeros(new long[] {a.size(0), in}, Tensors.floatOptions(ComputeDevice.of(a)))
                .index_copy(1, sliceIndex, a.detach());
    }

    /** B as PEFT stores it for the whole layer, [out, r]: zero on output features outside a row slice. */
    Tensor denseB(long out) {
        if (slice == null || slice.dim() == 1) {
            return b.detach();
        }
        return torch.zeros(new long[] {out, b.size(1)}, Tensors.floatOptions(ComputeDevice.of(b)))
                .index_copy(0, sliceIndex, b.detach());
    }

    /** The dense update (α/r)·B·A placed into a zero [out, in] matrix. */
    Tensor denseDelta(long out, long in) {
        Tensor ba = b.matmul(a).mul(new Scalar(scaling));                                        // [out', in']
        if (slice == null) {
            return ba;
        }
        Tensor zeros = torch.zeros(new long[] {out, in}, Tensors.floatOptions(ComputeDevice.of(ba)));
        return zeros.index_copy(slice.dim(), sliceIndex, ba);
    }

    @Override
    public void close() {
        a.releaseReference();
        b.releaseReference();
        if (sliceIndex != null) {
            sliceIndex.releaseReference();
        }
    }
}
