package dev.scalpel.engine.model;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.model.safetensors.DType;
import dev.scalpel.engine.model.safetensors.SafetensorsCheckpoint;
import dev.scalpel.engine.model.safetensors.SafetensorsWriter;
import dev.scalpel.engine.model.safetensors.TensorSource;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A checkpoint that does not fit its config fails with one sentence naming the tensor, and loads nothing. */
class WeightLoadingErrorsTest {
    private static final String Q = "model.layers.1.self_attn.q_proj.weight";

    @Test
    void missingTensor(@TempDir Path dir) {
        String msg = loadBroken(dir, tensors -> tensors.remove(Q));
        assertTrue(msg.contains("Tensor '" + Q + "' is missing"), msg);
    }

    @Test
    void wrongShape(@TempDir Path dir) {
        String msg = loadBroken(dir, tensors -> tensors.put(Q, TensorSource.ofFloats(DType.F32, new long[] {64, 32}, new float[64 * 32])));
        assertTrue(msg.contains("has shape [64, 32] but config.json implies [64, 64]"), msg);
    }

    @Test
    void unsupportedDtype(@TempDir Path dir) {
        String msg = loadBroken(dir, tensors -> tensors.put(Q, TensorSource.ofBytes(DType.I32, new long[] {64, 64},
                java.nio.ByteBuffer.allocate(64 * 64 * 4))));
        assertTrue(msg.contains("has dtype I32") && msg.contains("F32, F16, BF16"), msg);
    }

    /** Writes a valid random checkpoint, rewrites its safetensors through {@code breakIt}, and returns the load error. */
    private static String loadBroken(Path dir, Consumer<Map<String, TensorSource>> breakIt) {
        new RandomLlamaCheckpoint(2, 64, 4, 2, 128, 100, 64, false).write(dir, 1);
        Map<String, TensorSource> tensors = new LinkedHashMap<>();
        try (SafetensorsCheckpoint ckpt = SafetensorsCheckpoint.open(dir)) {
            for (String name : ckpt.names()) {
                var info = ckpt.info(name);
                var bytes = java.nio.ByteBuffer.allocate((int) info.byteLength());
                bytes.put(ckpt.data(name)).flip();
                tensors.put(name, TensorSource.ofBytes(info.dtype(), info.shapeArray(), bytes));
            }
        }
        breakIt.accept(tensors);
        SafetensorsWriter.write(dir.resolve("model.safetensors"), tensors);
        return assertThrows(ScalpelException.class, () -> ModelLoader.load(dir, ComputeDevice.CPU)).getMessage();
    }
}
