package dev.scalpel.engine.model;

import dev.scalpel.engine.files.Output;
import dev.scalpel.engine.model.safetensors.DType;
import dev.scalpel.engine.model.safetensors.TensorSource;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;

/** Writes a model's weights as a Hugging Face {@code model.safetensors} (F32, atomically). */
public final class CheckpointWriter {
    private CheckpointWriter() {}

    /** Every weight in HF layout and naming, to {@code file} of {@code out}. */
    public static void writeWeights(CausalLM model, Output out, Path file) {
        out.writeSafetensors(file, toSources(model.hfLayoutWeights(), out), Map.of("format", "pt"));
    }

    /**
     * Copies tensors off the device into float32 sources for {@code out}, refusing non-finite values unless the
     * output allows them.
     */
    public static Map<String, TensorSource> toSources(Map<String, Tensor> tensors, Output out) {
        Map<String, TensorSource> sources = new LinkedHashMap<>();
        tensors.forEach((name, t) -> sources.put(name, out.floats(name, DType.F32, Tensors.shape(t), Tensors.toFloats(t))));
        return sources;
    }
}
