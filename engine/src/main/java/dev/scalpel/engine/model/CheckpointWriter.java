package dev.scalpel.engine.model;

import dev.scalpel.engine.model.safetensors.DType;
import dev.scalpel.engine.model.safetensors.SafetensorsWriter;
import dev.scalpel.engine.model.safetensors.TensorSource;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;

/** Writes a model's weights as a Hugging Face {@code model.safetensors} (F32, atomically). */
public final class CheckpointWriter {
    private CheckpointWriter() {}

    /** Every weight in HF layout and naming, to {@code file}. */
    public static void writeWeights(CausalLM model, Path file) {
        SafetensorsWriter.write(file, toSources(model.hfLayoutWeights()), Map.of("format", "pt"));
    }

    /** Copies tensors off the device into float32 sources for the writer. */
    public static Map<String, TensorSource> toSources(Map<String, Tensor> tensors) {
        Map<String, TensorSource> out = new LinkedHashMap<>();
        tensors.forEach((name, t) -> out.put(name, TensorSource.ofFloats(DType.F32, Tensors.shape(t), Tensors.toFloats(t))));
        return out;
    }
}
