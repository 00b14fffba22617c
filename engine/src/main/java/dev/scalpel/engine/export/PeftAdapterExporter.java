package dev.scalpel.engine.export;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.scalpel.engine.edit.LoraEdit;
import dev.scalpel.engine.model.CheckpointNames;
import dev.scalpel.engine.model.CheckpointWriter;
import dev.scalpel.engine.model.LoadedModel;
import dev.scalpel.engine.files.Output;
import dev.scalpel.engine.files.OutputGuard;
import dev.scalpel.engine.files.OutputKind;
import dev.scalpel.engine.model.safetensors.TensorSource;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a LoRA or head-LoRA edit as a standard PEFT LoRA adapter folder: {@code adapter_config.json} and
 * {@code adapter_model.safetensors}. Head-LoRA is written dense (zero outside the chosen heads); which heads it
 * touches is recorded in {@code scalpel_heads.json} and in the safetensors metadata, which PEFT ignores.
 */
public final class PeftAdapterExporter {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private PeftAdapterExporter() {}

    /** Writes the adapter into {@code out}, a new, empty or earlier adapter folder outside every model folder. */
    public static void write(LoadedModel m, LoraEdit edit, Path out) {
        write(m, edit, out, false);
    }

    /** As {@link #write(LoadedModel, LoraEdit, Path)}; with {@code allowNonFinite}, NaN or ±Inf values are written too. */
    public static void write(LoadedModel m, LoraEdit edit, Path out, boolean allowNonFinite) {
        try (Output folder = OutputGuard.stagedFolder(OutputKind.PEFT_ADAPTER, out, List.of(m.dir())).allowingNonFinite(allowNonFinite)) {
            writeInto(folder, m, edit, out);
            folder.commit();                        // config and weights appear together, or the old adapter stays
        }
    }

    private static void writeInto(Output folder, LoadedModel m, LoraEdit edit, Path out) {
        CheckpointNames names = m.config().checkpointNames();   // PEFT matches the checkpoint's module names
        Map<String, Integer> ranks = new LinkedHashMap<>();
        edit.moduleRanks().forEach((module, rank) -> ranks.put(names.inCheckpoint(module), rank));
        int r = ranks.values().stream().mapToInt(Integer::intValue).max().orElseThrow();
        Map<String, Object> rankPattern = new LinkedHashMap<>();
        Map<String, Object> alphaPattern = new LinkedHashMap<>();
        ranks.forEach((module, rank) -> {
            if (rank != r) {
                rankPattern.put(module, rank);
                alphaPattern.put(module, edit.alpha());
            }
        });
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("peft_type", "LORA");
        config.put("task_type", "CAUSAL_LM");
        config.put("base_model_name_or_path", m.dir().toAbsolutePath().toString());
        config.put("r", r);
        config.put("lora_alpha", edit.alpha());
        config.put("lora_dropout", edit.dropout());
        config.put("target_modules", new ArrayList<>(ranks.keySet()));
        config.put("rank_pattern", rankPattern);
        config.put("alpha_pattern", alphaPattern);
        config.put("bias", "none");
        config.put("fan_in_fan_out", m.config().architecture().family().storesTransposedMatrices());
        config.put("use_rslora", false);
        config.put("use_dora", false);
        config.put("init_lora_weights", true);
        config.put("inference_mode", true);
        config.put("modules_to_save", null);
        config.put("layers_to_transform", null);
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "pt");
        meta.put("scalpel.edit", edit.describe());
        if (edit.heads() != null) {
            meta.put("scalpel.heads", edit.heads().toString());
            writeJson(folder, out.resolve("scalpel_heads.json"), Map.of("heads", edit.heads().toString(),
                    "note", "head-LoRA: lora_B rows (q/k/v) and lora_A columns (o_proj) are zero outside these heads"));
        }
        folder.writeSafetensors(out.resolve("adapter_model.safetensors"),
                CheckpointWriter.toSources(edit.peftTensors(names::inCheckpoint), folder), meta);
        writeJson(folder, out.resolve("adapter_config.json"), config);
    }

    private static void writeJson(Output folder, Path file, Object value) {
        folder.write(file, ch -> TensorSource.writeAll(ch, ByteBuffer.wrap(JSON.writeValueAsBytes(value))));
    }
}
