package dev.scalpel.engine.export;

import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.edit.Edit;
import dev.scalpel.engine.model.CheckpointNames;
import dev.scalpel.engine.model.LoadedModel;
import dev.scalpel.engine.model.ModelSummaries;
import dev.scalpel.engine.model.Tensors;
import dev.scalpel.engine.files.Output;
import dev.scalpel.engine.files.OutputGuard;
import dev.scalpel.engine.files.OutputKind;
import dev.scalpel.engine.model.safetensors.DType;
import dev.scalpel.engine.model.safetensors.SafetensorsCheckpoint;
import dev.scalpel.engine.model.safetensors.ShardedSafetensorsWriter;
import dev.scalpel.engine.model.safetensors.TensorFloats;
import dev.scalpel.engine.model.safetensors.TensorSource;
import java.io.IOException;
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
 * and generation files copied, weights in the input's dtype (unless asked) and sharded like the input, under the
 * checkpoint's own names ({@link CheckpointNames}: a multimodal model's text weights go back under their prefix and its
 * other parts are copied unchanged). Every file is written atomically; the base folder is never written.
 */
public final class MergedCheckpointExporter {
    private static final List<String> COPIED = List.of("config.json", "generation_config.json", "tokenizer.json",
            "tokenizer_config.json", "special_tokens_map.json");

    private MergedCheckpointExporter() {}

    /** @param dtype F32, F16 or BF16, or null for the input's dtype */
    public static void write(LoadedModel m, List<Edit> edits, Path out, DType dtype) throws IOException {
        write(m, edits, out, dtype, false);
    }

    /**
     * @param dtype          F32, F16 or BF16, or null for the input's dtype
     * @param allowNonFinite write weights holding NaN or ±Inf instead of refusing them
     * @throws dev.scalpel.engine.api.ScalpelException when {@code out} is, or is inside, a model folder, holds files of
     *                                                 anything but an earlier export, or a weight is not finite
     */
    public static void write(LoadedModel m, List<Edit> edits, Path out, DType dtype, boolean allowNonFinite) throws IOException {
        DType target = dtype != null ? dtype : DType.fromSafetensorsName(ModelSummaries.of(m.dir()).dtype()).orElse(DType.F32);
        if (target != DType.F32 && target != DType.F16 && target != DType.BF16) {
            throw new ScalpelException("Exports are written as F32, F16 or BF16, not " + target + ".");
        }
        try (Output folder = OutputGuard.stagedFolder(OutputKind.HF_CHECKPOINT, out, List.of(m.dir())).allowingNonFinite(allowNonFinite)) {
            writeInto(folder, m, edits, out, target);
            folder.commit();                        // the whole checkpoint appears at once, or the old one stays
        }
    }

    private static void writeInto(Output folder, LoadedModel m, List<Edit> edits, Path out, DType target) throws IOException {
        Map<String, TensorSource> merged = new LinkedHashMap<>();   // checked finite before any file is written
        long maxShardBytes = Long.MAX_VALUE;                          // one model.safetensors, unless the input is sharded
        try (NoGradGuard g = new NoGradGuard(); PointerScope scope = new PointerScope();
             SafetensorsCheckpoint input = SafetensorsCheckpoint.open(m.dir())) {
            Map<String, Tensor> deltas = new LinkedHashMap<>();
            for (Edit e : edits) {
                e.denseDeltas(m.model().weights().asMap()).forEach((name, d) -> deltas.merge(name, d, Tensor::add));
            }
            CheckpointNames names = m.config().checkpointNames();
            for (var w : m.model().weights().asMap().entrySet()) {
                Tensor value = deltas.containsKey(w.getKey()) ? w.getValue().add(deltas.get(w.getKey())) : w.getValue();
                Tensor hf = m.model().toHfLayout(w.getKey(), value);
                String name = names.inCheckpoint(w.getKey());
                merged.put(name, folder.floats(name, target, Tensors.shape(hf), Tensors.toFloats(hf)));
            }
            for (String name : input.names()) {            // parts of a multimodal model Scalpel carries, unchanged
                if (names.isCarried(name)) {
                    merged.put(name, folder.floats(name, target, input.info(name).shapeArray(),
                            TensorFloats.toFloatArray(input.info(name), input.data(name))));
                }
            }
            if (input.files().size() > 1) {
                maxShardBytes = 0;
                for (Path f : input.files()) {
                    maxShardBytes = Math.max(maxShardBytes, Files.size(f));
                }
            }
        }
        for (String name : COPIED) {
            Path source = m.dir().resolve(name);
            if (Files.isRegularFile(source)) {
                folder.writeBytes(out.resolve(name), Files.readAllBytes(source));
            }
        }
        ShardedSafetensorsWriter.write(folder, out, merged, Map.of("format", "pt"), maxShardBytes);
    }
}
