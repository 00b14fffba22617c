package dev.scalpel.engine.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.scalpel.engine.infer.Generator;
import dev.scalpel.engine.infer.SamplingOptions;
import dev.scalpel.engine.model.safetensors.SafetensorsFile;
import dev.scalpel.engine.model.safetensors.TensorFloats;
import dev.scalpel.engine.testing.Fixtures;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The engine's outputs against Hugging Face transformers' own, on tiny random checkpoints that transformers wrote
 * (fixtures/models, made by tools/parity/make_fixtures.py): logits, the residual stream after block 0, and greedy
 * generation.
 */
class HfParityTest {
    /** Max |engine − HF| over all logits, relative to max |HF|. */
    private static final double RELATIVE_TOLERANCE = 1e-4;

    @ParameterizedTest
    @ValueSource(strings = {"llama-gqa", "llama3-tied", "mistral", "qwen2", "qwen3", "gpt2", "llama-f16-sharded", "qwen2-bf16",
            "llama-bias", "qwen3-bias", "qwen2-sliding", "qwen3-sliding", "mistral-window", "olmo2", "gemma2", "gemma3-text",
            "phi3", "phi3-partial", "qwen3-moe", "qwen3_5-hybrid", "qwen3-next", "qwen3_5-vl", "gpt2-untied", "qwen3-next-ragged", "qwen3_5-ragged"})
    void logitsAndHiddenStatesMatchTransformers(String fixture) {
        Path dir = Fixtures.model(fixture);
        try (PointerScope scope = new PointerScope();
             SafetensorsFile expected = SafetensorsFile.open(dir.resolve("expected.safetensors"));
             CausalLM model = ModelLoader.load(dir, ComputeDevice.CPU)) {
            long[][] inputs = rows(longs(expected, "input_ids"), 2);
            Hooks hooks = new Hooks();
            Map<String, Tensor> captured = hooks.capture(HookPoints.residPost(0));
            Tensor logits = model.forward(Tensors.ids(inputs, ComputeDevice.CPU), ForwardContext.withHooks(hooks));

            float[] hfLogits = TensorFloats.toFloatArray(expected.info("logits"), expected.data("logits"));
            assertArrayEquals(new long[] {2, 12, model.config().vocabSize()}, Tensors.shape(logits));
            assertClose(hfLogits, Tensors.toFloats(logits), fixture + " logits");

            float[] hfHidden = TensorFloats.toFloatArray(expected.info("hidden_after_layer0"), expected.data("hidden_after_layer0"));
            assertClose(hfHidden, Tensors.toFloats(captured.get(HookPoints.residPost(0))), fixture + " residual after block 0");
            captured.values().forEach(Tensor::releaseReference);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama-gqa", "llama3-tied", "mistral", "qwen2", "qwen3", "gpt2", "llama-f16-sharded", "qwen2-bf16",
            "llama-bias", "qwen3-bias", "qwen2-sliding", "qwen3-sliding", "mistral-window", "olmo2", "gemma2", "gemma3-text",
            "phi3", "phi3-partial", "qwen3-moe", "qwen3_5-hybrid", "qwen3-next", "qwen3_5-vl", "gpt2-untied", "qwen3-next-ragged", "qwen3_5-ragged"})
    void greedyGenerationWithKvCacheMatchesTransformers(String fixture) {
        Path dir = Fixtures.model(fixture);
        try (SafetensorsFile expected = SafetensorsFile.open(dir.resolve("expected.safetensors"));
             CausalLM model = ModelLoader.load(dir, ComputeDevice.CPU)) {
            long[] prompt = longs(expected, "greedy_prompt");
            long[] hfOutput = longs(expected, "greedy_output");
            long[] ours = new Generator(model).generate(prompt, SamplingOptions.greedy(10), null);
            assertArrayEquals(hfOutput, ours, fixture + ": greedy ids differ from transformers' generate()");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama-gqa", "qwen3", "gpt2", "qwen2-sliding", "mistral-window", "gemma2", "gemma3-text", "phi3-partial",
            "qwen3-moe", "olmo2", "qwen3_5-hybrid", "qwen3-next", "qwen3_5-vl", "qwen3-next-ragged", "qwen3_5-ragged"})
    void kvCacheGivesTheSameTokensAsRecomputingEverything(String fixture) {
        Path dir = Fixtures.model(fixture);
        try (CausalLM model = ModelLoader.load(dir, ComputeDevice.CPU)) {
            long[] prompt = {5, 17, 200, 33, 91, 402};
            int steps = 40;
            long[] cached = new Generator(model).generate(prompt, new SamplingOptions(steps, 0, 1, 0, false), null);
            long[] uncached = greedyWithoutCache(model, prompt, steps);
            assertEquals(steps, cached.length);
            assertArrayEquals(uncached, cached);
        }
    }

    private static long[] greedyWithoutCache(CausalLM model, long[] prompt, int steps) {
        long[] seq = Arrays.copyOf(prompt, prompt.length + steps);
        for (int i = 0; i < steps; i++) {
            try (PointerScope scope = new PointerScope()) {
                int len = prompt.length + i;
                Tensor logits = model.forward(Tensors.ids(Arrays.copyOf(seq, len), ComputeDevice.CPU), ForwardContext.plain());
                float[] last = Tensors.toFloats(logits.select(1, len - 1));
                int best = 0;
                for (int v = 1; v < last.length; v++) {
                    if (last[v] > last[best]) {
                        best = v;
                    }
                }
                seq[len] = best;
            }
        }
        return Arrays.copyOfRange(seq, prompt.length, seq.length);
    }

    static void assertClose(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what + ": element count");
        double maxRef = 0, maxDiff = 0;
        for (int i = 0; i < expected.length; i++) {
            maxRef = Math.max(maxRef, Math.abs(expected[i]));
            maxDiff = Math.max(maxDiff, Math.abs(expected[i] - actual[i]));
        }
        assertTrue(maxRef > 1e-2, what + ": the reference is near zero, the comparison would prove nothing");
        System.out.printf(java.util.Locale.ROOT, "parity %s: max |diff| %.2e of max |ref| %.3f%n", what, maxDiff, maxRef);
        assertTrue(maxDiff <= RELATIVE_TOLERANCE * maxRef,
                what + ": max |diff| " + maxDiff + " > " + RELATIVE_TOLERANCE + " × max |ref| " + maxRef);
    }

    private static long[] longs(SafetensorsFile file, String name) {
        var buf = file.data(name).order(ByteOrder.LITTLE_ENDIAN).asLongBuffer();
        long[] out = new long[buf.remaining()];
        buf.get(out);
        return out;
    }

    private static long[][] rows(long[] flat, int rows) {
        int cols = flat.length / rows;
        long[][] out = new long[rows][];
        for (int r = 0; r < rows; r++) {
            out[r] = Arrays.copyOfRange(flat, r * cols, (r + 1) * cols);
        }
        return out;
    }
}
