package dev.scalpel.engine.model;

import dev.scalpel.engine.files.TestOutputs;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.scalpel.engine.testing.Fixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.bytedeco.javacpp.PointerScope;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

/** A written checkpoint reloads to bit-identical logits (GPT-2 included: its Conv1D weights go back to [in, out]). */
class CheckpointWriterTest {
    private static final long[][] IDS = {{0, 45, 301, 77, 12, 99, 250, 3}};

    @ParameterizedTest
    @ValueSource(strings = {"llama-gqa", "qwen2-bf16", "gpt2"})
    void savedWeightsReloadToIdenticalLogits(String fixture, @TempDir Path out) throws IOException {
        Path source = Fixtures.model(fixture);
        Files.copy(source.resolve("config.json"), out.resolve("config.json"));
        float[] before;
        try (PointerScope s = new PointerScope(); CausalLM model = ModelLoader.load(source, ComputeDevice.CPU)) {
            before = Tensors.toFloats(model.forward(Tensors.ids(IDS, ComputeDevice.CPU), ForwardContext.plain()));
            CheckpointWriter.writeWeights(model, TestOutputs.scratch(out), out.resolve("model.safetensors"));
        }
        try (PointerScope s = new PointerScope(); CausalLM reloaded = ModelLoader.load(out, ComputeDevice.CPU)) {
            assertArrayEquals(before, Tensors.toFloats(reloaded.forward(Tensors.ids(IDS, ComputeDevice.CPU), ForwardContext.plain())));
        }
    }
}
