package dev.scalpel.engine.model.arch.llama;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.scalpel.engine.model.Architecture;
import dev.scalpel.engine.model.ArchitectureFamily;
import dev.scalpel.engine.model.CausalLM;
import dev.scalpel.engine.model.ComputeDevice;
import dev.scalpel.engine.model.ModelConfig;
import java.io.IOException;
import java.nio.file.Path;

/**
 * The Llama family (Llama, Mistral, Qwen2, Qwen3, Qwen3-MoE, OLMo 2, Gemma 2/3, Phi-3): q/k/v/o projections under
 * {@code model.layers.N.self_attn}, separate or (Phi-3) fused into one {@code qkv_proj} with rows q | k | v.
 */
public final class LlamaFamily implements ArchitectureFamily {
    public static final LlamaFamily INSTANCE = new LlamaFamily();

    private LlamaFamily() {}

    @Override
    public ModelConfig readConfig(ObjectMapper json, JsonNode root, Architecture arch) throws IOException {
        return json.treeToValue(root, LlamaConfigJson.class).toModelConfig(arch);
    }

    @Override
    public CausalLM load(Path dir, ModelConfig config, ComputeDevice device) {
        return LlamaModel.load(dir, config, device);
    }

    @Override
    public AttentionWeights attention(ModelConfig config, int layer) {
        String attn = "model.layers." + layer + ".self_attn.";
        if (config.style().fusedProjections()) {
            String qkv = attn + "qkv_proj.weight";
            return new AttentionWeights(qkv, 0, qkv, config.qWidth(), qkv, config.qWidth() + config.kvWidth(),
                    attn + "o_proj.weight");
        }
        return new AttentionWeights(attn + "q_proj.weight", 0, attn + "k_proj.weight", 0, attn + "v_proj.weight", 0,
                attn + "o_proj.weight");
    }

    @Override
    public boolean storesTransposedMatrices() {
        return false;
    }
}
