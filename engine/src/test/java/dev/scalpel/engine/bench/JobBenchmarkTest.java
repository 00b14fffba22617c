package dev.scalpel.engine.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.scalpel.engine.model.CausalLM;
import dev.scalpel.engine.model.ComputeDevice;
import dev.scalpel.engine.model.ModelLoader;
import dev.scalpel.engine.model.Tensors;
import dev.scalpel.engine.testing.Fixtures;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The bench's job timings measure without leaving a trace: every weight is bit-identical afterwards. */
class JobBenchmarkTest {
    @Test
    void theGradientMapAndTheGroupSwapAreTimedAndLeaveTheModelAsItWas() {
        Path dir = Fixtures.model("llama-gqa");
        try (CausalLM model = ModelLoader.load(dir, ComputeDevice.CPU)) {
            Map<String, float[]> before = new LinkedHashMap<>();
            model.weights().asMap().forEach((name, w) -> before.put(name, Tensors.toFloats(w)));

            var map = JobBenchmark.gradientMap(model, 2, 16, 3);
            assertTrue(map.mapSeconds() > 0 && map.forwardBackwardSeconds() > 0 && Double.isFinite(map.ratio()), map.toString());
            var swap = JobBenchmark.groupSwap(model, dir, ComputeDevice.CPU, 3);
            assertEquals(model.config().numLayers(), swap.heads(), "one head of every layer");
            assertTrue(swap.swapMs() > 0 && swap.reloadMs() > 0, swap.toString());

            model.weights().asMap().forEach((name, w) -> assertArrayEquals(before.get(name), Tensors.toFloats(w), 0f, name));
            assertTrue(model.weights().asMap().values().stream().noneMatch(w -> w.requires_grad()), "no weight left trainable");
        }
    }
}
