package dev.scalpel.engine.model;

import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.model.safetensors.SafetensorsCheckpoint;
import dev.scalpel.engine.model.safetensors.TensorInfo;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;

/**
 * Reads named weights of a safetensors checkpoint into float32 tensors on the compute device, checking that each
 * exists, has the shape the architecture expects and a dtype the engine computes with (F32, F16, BF16, F64).
 */
public final class WeightReader implements AutoCloseable {
    private final SafetensorsCheckpoint checkpoint;
    private final Path dir;
    private final ComputeDevice device;
    private final Weights into;
    private UnaryOperator<String> storedName = UnaryOperator.identity();
    private final Set<String> readNames = new HashSet<>();

    public WeightReader(Path dir, ComputeDevice device, Weights into) {
        this.checkpoint = SafetensorsCheckpoint.open(dir);
        this.dir = dir;
        this.device = device;
        this.into = into;
    }

    /**
     * Stores what {@link #read} reads under {@code rename(name)} instead of the checkpoint's name: an architecture that
     * accepts several key spellings keeps one set of names for edits, hooks and head operations.
     */
    public WeightReader storingAs(UnaryOperator<String> rename) {
        this.storedName = rename;
        return this;
    }

    public boolean has(String name) {
        return checkpoint.contains(name);
    }

    /** Reads {@code name}, requires {@code expectedShape}, and adds it to the weight store (under its stored name). */
    public Tensor read(String name, long... expectedShape) {
        if (!checkpoint.contains(name)) {
            throw new ScalpelException("Tensor '" + name + "' is missing from the checkpoint in " + dir
                    + "; the config.json says this architecture needs it. Is the checkpoint complete and matching its config?");
        }
        TensorInfo info = checkpoint.info(name);
        if (!Arrays.equals(info.shapeArray(), expectedShape)) {
            throw new ScalpelException("Tensor '" + name + "' in " + dir + " has shape " + info.shape()
                    + " but config.json implies " + Arrays.toString(expectedShape)
                    + "; the weights do not match the config (wrong config.json, or a different model's shards).");
        }
        readNames.add(name);
        return into.put(storedName.apply(name), toTensor(info, checkpoint.data(name), device));
    }

    /**
     * Refuses a checkpoint that holds a tensor the architecture did not read (other than {@code ignorable} ones, such
     * as buffers transformers saves): such a tensor means config.json describes a different computation than the
     * weights (an o_proj bias with attention_bias false, say), and ignoring it would give wrong numbers silently.
     */
    public void requireEveryTensorRead(Predicate<String> ignorable) {
        List<String> unused = checkpoint.names().stream()
                .filter(n -> !readNames.contains(n) && !ignorable.test(n))
                .sorted()
                .toList();
        if (!unused.isEmpty()) {
            throw new ScalpelException("The checkpoint in " + dir + " holds " + unused.size() + " tensor(s) that config.json "
                    + "does not describe, e.g. '" + unused.get(0) + "'; Scalpel refuses to ignore weights (the numbers would "
                    + "be wrong). Check config.json against the model's source (a bias flag, norm or expert count).");
        }
    }

    /** Copies safetensors bytes into a new float32 tensor on {@code device}. */
    static Tensor toTensor(TensorInfo info, ByteBuffer data, ComputeDevice device) {
        torch.ScalarType stored = switch (info.dtype()) {
            case F32 -> torch.ScalarType.Float;
            case F16 -> torch.ScalarType.Half;
            case BF16 -> torch.ScalarType.BFloat16;
            case F64 -> torch.ScalarType.Double;
            default -> throw new ScalpelException("Tensor '" + info.name() + "' has dtype " + info.dtype()
                    + ", which Scalpel cannot compute with; it reads F32, F16, BF16 and F64 weights.");
        };
        if (info.numel() == 0) {
            return torch.zeros(info.shapeArray(), Tensors.floatOptions(device));
        }
        BytePointer bytes = new BytePointer(data);
        Tensor view = torch.from_blob(bytes, info.shapeArray(), new TensorOptions(stored)); // borrows the mapped bytes
        // copy = true: the result must own its memory, not point into the memory-mapped file.
        return view.to(device.torchDevice(), torch.ScalarType.Float, false, true, new MemoryFormatOptional());
    }

    @Override
    public void close() {
        checkpoint.close();
    }
}
