package dev.scalpel.engine.export;

import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.edit.Edit;
import dev.scalpel.engine.model.LoadedModel;
import dev.scalpel.engine.model.ModelSummaries;
import dev.scalpel.engine.model.Tensors;
import dev.scalpel.engine.model.safetensors.AtomicFiles;
import dev.scalpel.engine.model.safetensors.DType;
import dev.scalpel.engine.model.safetensors.SafetensorsCheckpoint;
import dev.scalpel.engine.model.safetensors.SafetensorsWriter;
import dev.scalpel.engine.model.safetensors.ShardedSafetensorsWriter;
import dev.scalpel.engine.model.safetensors.TensorSource;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;

/**
 * Writes a Hugging Face model folder with the edits merged into the weights (W + Σ dense deltas): config, tokenizer
 * and generation files copied, weights in the input's dtype (unless asked) and sharded like the input. Every file is
 * written atomically; the base folder is never written.
 */
public final class MergedCheckpointExporter {
    private static final List<String> COPIED = List.of("config.json", "generation_config.json", "tokenizer.json",
            "tokenizer_config.json", "special_tokens_map.json");

    private MergedCheckpointExporter() {}

    /** @param dtype F32, F16 or BF16, or null for the input's dtype */
    public static void write(LoadedModel m, List<Edit> edits, Path out, DType dtype) throws IOException {
        ExportTargets.refuseBaseFolder(m.dir(), out);
        DType target = dtype != null ? dtype : DType.fromSafetensorsName(ModelSummaries.of(m.dir()).dtype()).orElse(DType.F32);
        if (target != DType.F32 && target != DType.F16 && target != DType.BF16) {
            throw new ScalpelException("Exports are written as F32, F16 or BF16, not " + target + ".");
        }
        Files.createDirectories(out);
        for (String name : COPIED) {
            Path source = m.dir().resolve(name);
            if (Files.isRegularFile(source)) {
                byte[] bytes = Files.readAllBytes(source);
                AtomicFiles.write(out.resolve(name), ch -> TensorSource.writeAll(ch, ByteBuffer.wrap(bytes)));
            }
        }
        Map<String, TensorSource> merged = new LinkedHashMap<>();
        try (NoGradGuard g = new NoGradGuard(); PointerScope scope = new PointerScope()) {
            Map<String, Tensor> deltas = new LinkedHashMap<>();
            for (Edit e : edits) {
                e.denseDeltas(m.model().weights().asMap()).forEach((name, d) -> deltas.merge(name, d, Tensor::add));
            }
            for (var w : m.model().weights().asMap().entrySet()) {
                Tensor value = deltas.containsKey(w.getKey()) ? w.getValue().add(deltas.get(w.getKey())) : w.getValue();
                Tensor hf = m.model().toHfLayout(w.getKey(), value);
                merged.put(w.getKey(), TensorSource.ofFloats(target, Tensors.shape(hf), Tensors.toFloats(hf)));
            }
        }
        try (SafetensorsCheckpoint input = SafetensorsCheckpoint.open(m.dir())) {
            if (input.files().size() > 1) {
                long largest = 0;
                for (Path f : input.files()) {
                    largest = Math.max(largest, Files.size(f));
                }
                ShardedSafetensorsWriter.write(out, merged, Map.of("format", "pt"), largest);
                return;
            }
        }
        SafetensorsWriter.write(out.resolve("model.safetensors"), merged, Map.of("format", "pt"));
    }
}
