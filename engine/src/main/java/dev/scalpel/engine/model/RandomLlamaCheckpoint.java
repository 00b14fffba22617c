package dev.scalpel.engine.model;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.scalpel.engine.files.Output;
import dev.scalpel.engine.files.OutputGuard;
import dev.scalpel.engine.files.OutputKind;
import dev.scalpel.engine.model.safetensors.DType;
import dev.scalpel.engine.model.safetensors.TensorSource;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Writes a Hugging Face Llama folder (config.json + model.safetensors) with seeded random weights, for benchmarks and
 * tests that need a model of a given size without training one.
 *
 * @param vocab vocabulary size; the other fields as in config.json (bos id 0, eos id 1)
 */
public record RandomLlamaCheckpoint(int layers, int hidden, int heads, int kvHeads, int intermediate, int vocab,
                                    int maxPositions, boolean tiedEmbeddings) {

    /** The ~9.3M-parameter Llama of the performance notes: 6 layers, d 256, 8 heads, SwiGLU 768, vocab 8192. */
    public static RandomLlamaCheckpoint benchmarkSize() {
        return new RandomLlamaCheckpoint(6, 256, 8, 8, 768, 8192, 512, false);
    }

    /** Writes the folder (a new or empty one); matrices ~ N(0, 0.02²) like HF's init, norm weights 1. */
    public Path write(Path dir, long seed) {
        return write(OutputGuard.folder(OutputKind.RANDOM_MODEL, dir, List.of()), seed);
    }

    /** Writes config.json and model.safetensors into the folder of {@code out}. */
    public Path write(Output out, long seed) {
        Path dir = out.folder();
        SplittableRandom random = new SplittableRandom(seed);
        int headDim = hidden / heads;
        Map<String, TensorSource> tensors = new LinkedHashMap<>();
        tensors.put("model.embed_tokens.weight", gaussian(random, vocab, hidden));
        for (int l = 0; l < layers; l++) {
            String p = "model.layers." + l + ".";
            tensors.put(p + "input_layernorm.weight", ones(hidden));
            tensors.put(p + "self_attn.q_proj.weight", gaussian(random, heads * headDim, hidden));
            tensors.put(p + "self_attn.k_proj.weight", gaussian(random, kvHeads * headDim, hidden));
            tensors.put(p + "self_attn.v_proj.weight", gaussian(random, kvHeads * headDim, hidden));
            tensors.put(p + "self_attn.o_proj.weight", gaussian(random, hidden, heads * headDim));
            tensors.put(p + "post_attention_layernorm.weight", ones(hidden));
            tensors.put(p + "mlp.gate_proj.weight", gaussian(random, intermediate, hidden));
            tensors.put(p + "mlp.up_proj.weight", gaussian(random, intermediate, hidden));
            tensors.put(p + "mlp.down_proj.weight", gaussian(random, hidden, intermediate));
        }
        tensors.put("model.norm.weight", ones(hidden));
        if (!tiedEmbeddings) {
            tensors.put("lm_head.weight", gaussian(random, vocab, hidden));
        }
        out.writeSafetensors(dir.resolve("model.safetensors"), tensors, Map.of("format", "pt"));
        writeConfig(out, dir.resolve("config.json"));
        return dir;
    }

    private void writeConfig(Output out, Path file) {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("architectures", new String[] {"LlamaForCausalLM"});
        c.put("model_type", "llama");
        c.put("vocab_size", vocab);
        c.put("hidden_size", hidden);
        c.put("intermediate_size", intermediate);
        c.put("num_hidden_layers", layers);
        c.put("num_attention_heads", heads);
        c.put("num_key_value_heads", kvHeads);
        c.put("max_position_embeddings", maxPositions);
        c.put("rms_norm_eps", 1e-5);
        c.put("rope_theta", 10000.0);
        c.put("hidden_act", "silu");
        c.put("tie_word_embeddings", tiedEmbeddings);
        c.put("bos_token_id", 0);
        c.put("eos_token_id", 1);
        c.put("torch_dtype", "float32");
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        out.write(file, channel -> TensorSource.writeAll(channel, java.nio.ByteBuffer.wrap(json.writeValueAsBytes(c))));
    }

    private static TensorSource gaussian(SplittableRandom random, int rows, int cols) {
        float[] v = new float[rows * cols];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (0.02 * gaussian(random));
        }
        return TensorSource.ofFloats(DType.F32, new long[] {rows, cols}, v);
    }

    private static TensorSource ones(int n) {
        float[] v = new float[n];
        java.util.Arrays.fill(v, 1f);
        return TensorSource.ofFloats(DType.F32, new long[] {n}, v);
    }

    /** Box–Muller, so the weights depend only on the seed. */
    private static double gaussian(SplittableRandom random) {
        double u = 1 - random.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random.nextDouble());
    }
}
