package dev.scalpel.engine.model.arch.gpt2;

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
 * GPT-2: one fused {@code c_attn} [3d, d] (q rows, then k, then v) and {@code c_proj} per layer, stored as Conv1D
 * ([in, out]) in checkpoints and transposed by the loader; names always carry {@link Gpt2Model#ROOT}.
 */
public final class Gpt2Family implements ArchitectureFamily {
    public static final Gpt2Family INSTANCE = new Gpt2Family();

    private Gpt2Family() {}

    @Override
    public ModelConfig readConfig(ObjectMapper json, JsonNode root, Architecture arch) throws IOException {
        return json.treeToValue(root, Gpt2ConfigJson.class).toModelConfig();
    }

    @Override
    public CausalLM load(Path dir, ModelConfig config, ComputeDevice device) {
        return Gpt2Model.load(dir, config, device);
    }

    @Override
    public AttentionWeights attention(ModelConfig config, int layer) {
        String attn = Gpt2Model.ROOT + "h." + layer + ".attn.";
        long width = config.hiddenSize();                                  // c_attn rows: q [0, d), k [d, 2d), v [2d, 3d)
        int hd = config.headDim();
        String qkv = attn + "c_attn.weight";
        return new AttentionWeights(new Block(qkv, 0, hd, hd, 1), new Block(qkv, width, hd, hd, 1),
                new Block(qkv, 2 * width, hd, hd, 1), new Block(attn + "c_proj.weight", 0, hd, hd, 1));
    }

    @Override
    public boolean storesTransposedMatrices() {
        return true;
    }
}
