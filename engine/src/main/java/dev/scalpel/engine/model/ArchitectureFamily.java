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
     * Where one layer's heads are in its weights: for each of q, k, v (rows of their weight, [out, in]) and o (columns):
     * head h owns {@code width} rows (columns) starting at {@code first + (h / sharedBy) · stride}. sharedBy > 1 means
     * that many consecutive heads share one block: the k/v rows of grouped-query attention, the q/k rows of a Gated
     * DeltaNet's key head. Fused projections (GPT-2's c_attn, Phi-3's qkv_proj) name the same weight with different
     * first rows; Qwen3.5's q_proj interleaves each head's query rows with its output-gate rows (stride 2·head_dim).
     * Qwen3-Next's in_proj_qkvz groups rows per key head: there the heads come in groups of {@code groupSize}, each group
     * {@code groupStride} rows further on (see {@link Block#start}).
     */
    record AttentionWeights(Block q, Block k, Block v, Block o) {}

    /** The rows (or columns) of one weight that belong to each head, see {@link AttentionWeights}. */
    record Block(String weight, long first, long stride, int width, int sharedBy, int groupSize, long groupStride) {
        /** A block without groups: head h starts at first + (h / sharedBy) · stride. */
        public Block(String weight, long first, long stride, int width, int sharedBy) {
            this(weight, first, stride, width, sharedBy, Integer.MAX_VALUE, 0);
        }

        /** Head h's first row (column): first + (h / groupSize) · groupStride + ((h mod groupSize) / sharedBy) · stride. */
        public long start(int head) {
            return first + (long) (head / groupSize) * groupStride + (long) (head % groupSize / sharedBy) * stride;
        }
    }
}
