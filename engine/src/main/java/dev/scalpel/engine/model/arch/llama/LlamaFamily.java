package dev.scalpel.engine.model.arch.llama;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.scalpel.engine.model.Architecture;
import dev.scalpel.engine.model.ArchitectureFamily;
import dev.scalpel.engine.model.CausalLM;
import dev.scalpel.engine.model.ComputeDevice;
import dev.scalpel.engine.model.DecoderStyle;
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
            return deltaNetHeads(config.style().deltaNet(), "model.layers." + layer + ".linear_attn.");
        }
        String attn = "model.layers." + layer + ".self_attn.";
        int hd = config.headDim(), group = config.queriesPerKvHead();
        if (config.style().fusedProjections()) {
            String qkv = attn + "qkv_proj.weight";
            return new AttentionWeights(new Block(qkv, 0, hd, hd, 1), new Block(qkv, config.qWidth(), hd, hd, group),
                    new Block(qkv, config.qWidth() + config.kvWidth(), hd, hd, group), new Block(attn + "o_proj.weight", 0, hd, hd, 1));
        }
        long qStride = config.style().outputGate() ? 2L * hd : hd;   // Qwen3.5: per head, query rows then gate rows
        return new AttentionWeights(new Block(attn + "q_proj.weight", 0, qStride, hd, 1),
                new Block(attn + "k_proj.weight", 0, hd, hd, group), new Block(attn + "v_proj.weight", 0, hd, hd, group),
                new Block(attn + "o_proj.weight", 0, hd, hd, 1));
    }

    /**
     * A Gated DeltaNet layer's heads are its value heads: value head h reads the q and k rows of key head
     * h / (H_v / H_k) in in_proj_qkv (shared, as GQA shares k/v), owns its v rows there and its out_proj columns.
     * Qwen3-Next: the same rows inside key head h / r's group of in_proj_qkvz (q, k, then the v of its r value heads).
     */
    private static AttentionWeights deltaNetHeads(DecoderStyle.DeltaNetShape shape, String prefix) {
        int dk = shape.keyDim(), dv = shape.valueDim(), perKey = shape.valueHeadsPerKeyHead();
        Block out = new Block(prefix + "out_proj.weight", 0, dv, dv, 1);
        if (shape.interleaved()) {
            String qkvz = prefix + "in_proj_qkvz.weight";
            long group = shape.qkvzGroupRows();
            return new AttentionWeights(new Block(qkvz, 0, 0, dk, perKey, perKey, group), new Block(qkvz, dk, 0, dk, perKey, perKey, group),
                    new Block(qkvz, 2L * dk, dv, dv, 1, perKey, group), out);
        }
        String qkv = prefix + "in_proj_qkv.weight";
        long keyWidth = (long) shape.keyHeads() * dk;
        return new AttentionWeights(new Block(qkv, 0, dk, dk, perKey), new Block(qkv, keyWidth, dk, dk, perKey),
                new Block(qkv, 2 * keyWidth, dv, dv, 1), out);
    }

    @Override
    public boolean storesTransposedMatrices() {
        return false;
    }
}
