package dev.scalpel.engine.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.scalpel.engine.api.HeadSet;
import dev.scalpel.engine.api.ImportanceMap;
import dev.scalpel.engine.edit.Edit;
import dev.scalpel.engine.edit.TaskVector;
import dev.scalpel.engine.files.TestOutputs;
import dev.scalpel.engine.groups.HeadGroup;
import dev.scalpel.engine.groups.HeadGroupRegistry;
import dev.scalpel.engine.importance.HeadImportance;
import dev.scalpel.engine.model.safetensors.SafetensorsFile;
import dev.scalpel.engine.model.safetensors.TensorSource;
import dev.scalpel.engine.spec.EditSpec;
import dev.scalpel.engine.testing.Fixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A GPT-2 checkpoint saved without HF's {@code transformer.} prefix (the original OpenAI export) loads with the same
 * logits and supports every head operation: head-LoRA, head groups, pruning and importance (they failed with a
 * NullPointerException when the weights kept the checkpoint's names).
 */
class Gpt2UnprefixedTest {
    private static final long[][] IDS = {{1, 17, 43, 8, 99, 5}};

    @Test
    void headOperationsWorkOnAnUnprefixedCheckpoint(@TempDir Path tmp) throws IOException {
        Path prefixed = Fixtures.model("gpt2");
        Path bare = stripPrefix(prefixed, tmp.resolve("gpt2-bare"));
        try (LoadedModel a = LoadedModel.open(prefixed, ComputeDevice.CPU); LoadedModel b = LoadedModel.open(bare, ComputeDevice.CPU)) {
            assertEquals(a.model().weights().asMap().keySet(), b.model().weights().asMap().keySet(), "one naming in the store");
            float[] logits = logits(b.model());
            assertArrayEquals(logits(a.model()), logits, 0f);

            HeadSet heads = HeadSet.parse("L0H1,L1H0", b.config().numHeads());
            EditSpec spec = new EditSpec.HeadLora(heads.toString(), null, 2, null, null, null);
            try (Edit lora = spec.build(b.model(), 3, EditSpec.References.NONE)) {
                assertEquals(spec.parameterCount(b.model()), lora.parameterCount());
            }
            HeadGroup group = HeadGroup.extract(b.model(), "h", "g", heads, Map.of());
            try (HeadGroupRegistry registry = new HeadGroupRegistry(b.model())) {
                registry.apply(group, HeadGroupRegistry.OnConflict.CANCEL);
                registry.swapOut("g");
            }
            group.close();
            assertArrayEquals(logits, logits(b.model()), 0f, "swapped in and out: bit-identical");
            assertTrue(TaskVector.pruning(b.model(), heads).deltas().size() > 0);
            ImportanceMap map = new HeadImportance(b.model(), new HeadImportance.Options(6, 1))
                    .compute(HeadImportance.Method.GRADIENT, "t", IDS[0], null, "h", "d", (f, m) -> { });
            assertEquals(b.config().numLayers(), map.layers());
        }
    }

    private static float[] logits(CausalLM model) {
        return Tensors.toFloats(model.forward(Tensors.ids(IDS, ComputeDevice.CPU), ForwardContext.plain()));
    }

    /** A copy of {@code from} whose tensors are named without "transformer.". */
    private static Path stripPrefix(Path from, Path to) throws IOException {
        Files.createDirectories(to);
        for (String f : List.of("config.json", "tokenizer.json")) {
            if (Files.exists(from.resolve(f))) {
                Files.copy(from.resolve(f), to.resolve(f));
            }
        }
        try (SafetensorsFile in = SafetensorsFile.open(from.resolve("model.safetensors"))) {
            Map<String, TensorSource> tensors = new LinkedHashMap<>();
            for (String name : in.tensorNames()) {
                tensors.put(name.replaceFirst("^transformer\\.", ""),
                        TensorSource.ofBytes(in.info(name).dtype(), in.info(name).shapeArray(), in.data(name)));
            }
            TestOutputs.scratch(to).writeSafetensors(to.resolve("model.safetensors"), tensors, Map.of("format", "pt"));
        }
        return to;
    }
}
