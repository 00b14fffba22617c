package dev.scalpel.engine.model;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.pytorch.DeviceOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;

/** Moving numbers between Java arrays and tensors. */
public final class Tensors {
    private Tensors() {}

    /** A float32 tensor [values.length] on {@code device} (copied). */
    public static Tensor floats(float[] values, ComputeDevice device) {
        FloatPointer p = new FloatPointer(values);
        Tensor cpu = torch.from_blob(p, new long[] {values.length}, new TensorOptions(torch.ScalarType.Float));
        return cpu.to(device.torchDevice(), torch.ScalarType.Float, false, true, new org.bytedeco.pytorch.MemoryFormatOptional());
    }

    /** An int64 tensor of token ids, [rows, cols], on {@code device} (copied); all rows must have the same length. */
    public static Tensor ids(long[][] rows, ComputeDevice device) {
        int cols = rows.length == 0 ? 0 : rows[0].length;
        long[] flat = new long[rows.length * cols];
        for (int r = 0; r < rows.length; r++) {
            if (rows[r].length != cols) {
                throw new IllegalArgumentException("row " + r + " has " + rows[r].length + " ids, expected " + cols);
            }
            System.arraycopy(rows[r], 0, flat, r * cols, cols);
        }
        LongPointer p = new LongPointer(flat);
        Tensor cpu = torch.from_blob(p, new long[] {rows.length, cols}, new TensorOptions(torch.ScalarType.Long));
        return cpu.to(device.torchDevice(), torch.ScalarType.Long, false, true, new org.bytedeco.pytorch.MemoryFormatOptional());
    }

    /** An int64 tensor [1, ids.length]. */
    public static Tensor ids(long[] ids, ComputeDevice device) {
        return ids(new long[][] {ids}, device);
    }

    /** All values of a tensor, flattened row-major, as float32 on the CPU. */
    public static float[] toFloats(Tensor t) {
        Tensor c = t.detach().to(new org.bytedeco.pytorch.Device("cpu"), torch.ScalarType.Float).contiguous();
        float[] out = new float[(int) c.numel()];
        c.data_ptr_float().get(out);
        return out;
    }

    /** All values of an integer tensor, flattened row-major. */
    public static long[] toLongs(Tensor t) {
        Tensor c = t.detach().to(new org.bytedeco.pytorch.Device("cpu"), torch.ScalarType.Long).contiguous();
        long[] out = new long[(int) c.numel()];
        c.data_ptr_long().get(out);
        return out;
    }

    /** The shape as a Java array. */
    public static long[] shape(Tensor t) {
        long[] s = new long[(int) t.dim()];
        for (int i = 0; i < s.length; i++) {
            s[i] = t.size(i);
        }
        return s;
    }

    /** Options for a float32 tensor on {@code device}. */
    public static TensorOptions floatOptions(ComputeDevice device) {
        return new TensorOptions(torch.ScalarType.Float).device(new DeviceOptional(device.torchDevice()));
    }

    /** Soft-capping {@code c·tanh(x / c)}: smooth, keeps |x| below c (Gemma 2's attention scores and logits). */
    public static Tensor softcap(Tensor x, double cap) {
        return x.div(new org.bytedeco.pytorch.Scalar(cap)).tanh().mul(new org.bytedeco.pytorch.Scalar(cap));
    }
}
