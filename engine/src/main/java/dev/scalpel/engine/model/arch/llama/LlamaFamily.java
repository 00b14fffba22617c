package dev.scalpel.engine.model.arch.llama;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.model.Architecture;
import dev.scalpel.engine.model.ArchitectureFamily;
import dev.scalpel.engine.model.CausalLM;
import dev.scalpel.engine.model.ComputeDevice;
import dev.scalpel.engine.model.LayerType;
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
        if (config.layerTypes().get(layer) == LayerType.LINEAR_ATTENTION) {
            throw new ScalpelException("L" + layer + " is a Gated DeltaNet (linear-attention) layer: head-LoRA, head "
                    + "fine-tunes and head groups do not reach its value heads yet; choose heads of full-attention layers ("
                    + fullAttentionLayers(config) + "). Gates, hooks and importance maps cover every layer.");
        }
        String attn = "model.layers." + layer + ".self_attn.";
        int hd = config.headDim();
        if (config.style().fusedProjections()) {
            String qkv = attn + "qkv_proj.weight";
            return new AttentionWeights(qkv, 0, hd, qkv, config.qWidth(), qkv, config.qWidth() + config.kvWidth(),
                    attn + "o_proj.weight");
        }
        long qStride = config.style().outputGate() ? 2L * hd : hd;   // Qwen3.5: per head, query rows then gate rows
        return new AttentionWeights(attn + "q_proj.weight", 0, qStride, attn + "k_proj.weight", 0, attn + "v_proj.weight", 0,
                attn + "o_proj.weight");
    }

    private static String fullAttentionLayers(ModelConfig config) {
        StringBuilder layers = new StringBuilder();
        for (int l = 0; l < config.numLayers(); l++) {
            if (config.layerTypes().get(l) != LayerType.LINEAR_ATTENTION) {
                layers.append(layers.length() == 0 ? "" : ", ").append('L').append(l);
            }
        }
        return layers.toString();
    }

    @Override
    public boolean storesTransposedMatrices() {
        return false;
    }
}
