package dev.scalpel.engine.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;

/**
 * What the engine needs to know about one family of architectures, answered once, by its package
 * ({@code arch.llama}, {@code arch.gpt2}): how its config.json reads, how its weights load, where each head's weights
 * are, and how its checkpoints store matrices. Everything else (head operations, edits, exports) asks through this.
 */
public interface ArchitectureFamily {
    /** The config.json object {@code root} of an {@code arch} model as the engine's config. */
    ModelConfig readConfig(ObjectMapper json, JsonNode root, Architecture arch) throws IOException;

    /** Loads the weights of the model in {@code dir} onto {@code device}. */
    CausalLM load(Path dir, ModelConfig config, ComputeDevice device);

    /** The attention weights of layer {@code layer}, as the engine stores them ([out, in]). */
    AttentionWeights attention(ModelConfig config, int layer);

    /** Whether the checkpoints store matrices transposed ([in, out], GPT-2's Conv1D): PEFT's fan_in_fan_out. */
    boolean storesTransposedMatrices();

    /**
     * Where one layer's attention weights are: head h's query rows are rows {@code qRow + h·qStride …} (headDim of them)
     * of weight {@code q} (qStride = headDim, or 2·headDim where each head's query rows are followed by its output-gate
     * rows, Qwen3.5); its key and value rows (of kv head k) start at {@code kRow + k·headDim} of {@code k} and {@code vRow +
     * k·headDim} of {@code v} (the same weight for a fused qkv projection); its output columns are columns
     * {@code h·headDim …} of {@code o}.
     */
    record AttentionWeights(String q, long qRow, long qStride, String k, long kRow, String v, long vRow, String o) {}
}
