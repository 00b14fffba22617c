package dev.scalpel.engine.decompose;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.files.Output;
import dev.scalpel.engine.model.CausalLM;
import dev.scalpel.engine.model.CheckpointWriter;
import dev.scalpel.engine.model.Tensors;
import dev.scalpel.engine.model.safetensors.SafetensorsFile;
import dev.scalpel.engine.model.safetensors.TensorFloats;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;

/**
 * A decomposition as a safetensors file, in Goodfire's SPD key layout so that their decompositions and ours are
 * interchangeable: per module (its path with '.' → '-'), {@code _components.<m>.V} [d_in, C] and {@code .U}
 * [C, d_out], and the causal-importance MLP as SPD's shared_mlp writes it, {@code _ci_fns.<m>.layers.0.W} [d_in, H],
 * {@code .layers.0.b} [H], {@code .layers.2.W} [H, C], {@code .layers.2.b} [C]. The metadata holds the format
 * ({@value #FORMAT}), the model's hash, the spec and the step it was saved at.
 */
public final class DecompositionFile {
    public static final String FORMAT = "scalpel-decomposition/1";

    private static final ObjectMapper JSON = new ObjectMapper();

    /** What a file holds: the modules' decompositions (the caller closes them) and its metadata. */
    public record Loaded(List<ModuleDecomposition> modules, Map<String, String> metadata) implements AutoCloseable {
        /** The training step it was saved at (0 when it does not say). */
        public long step() {
            return Long.parseLong(metadata.getOrDefault("step", "0"));
        }

        @Override
        public void close() {
            modules.forEach(ModuleDecomposition::close);
        }
    }

    private DecompositionFile() {}

    /** The key prefix of a module: {@code model.layers.5.self_attn.v_proj} → {@code model-layers-5-self_attn-v_proj}. */
    static String key(String module) {
        return module.replace('.', '-');
    }

    /** The tensors of {@code modules} under their SPD names. */
    static Map<String, Tensor> tensors(List<ModuleDecomposition> modules) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (ModuleDecomposition d : modules) {
            String k = key(d.module());
            out.put("_components." + k + ".V", d.v());
            out.put("_components." + k + ".U", d.u());
            out.put("_ci_fns." + k + ".layers.0.W", d.w1());
            out.put("_ci_fns." + k + ".layers.0.b", d.b1());
            out.put("_ci_fns." + k + ".layers.2.W", d.w2());
            out.put("_ci_fns." + k + ".layers.2.b", d.b2());
        }
        return out;
    }

    /** Writes {@code modules} with {@code metadata} (format added) through {@code out}. */
    static void write(Output out, Path file, List<ModuleDecomposition> modules, Map<String, String> metadata) {
        Map<String, String> meta = new LinkedHashMap<>(metadata);
        meta.put("format", FORMAT);
        out.writeSafetensors(file, CheckpointWriter.toSources(detached(tensors(modules)), out), meta);
    }

    private static Map<String, Tensor> detached(Map<String, Tensor> tensors) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        tensors.forEach((name, t) -> out.put(name, t.detach()));
        return out;
    }

    /**
     * Reads a decomposition with its causal-importance functions for {@code model}: every module of the file must be a
     * matrix of the model with the shapes it claims.
     *
     * @throws ScalpelException naming the problem: not a decomposition, no CI functions (an SPD file of components
     *                          only), a module the model lacks, or a shape that does not fit
     */
    public static Loaded read(Path file, CausalLM model) {
        if (!Files.isRegularFile(file)) {
            throw new ScalpelException("No decomposition at " + file + "; make one with scalpel decompose.");
        }
        List<ModuleDecomposition> found = new ArrayList<>();
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            for (String name : f.tensorNames()) {
                if (!name.startsWith("_components.") || !name.endsWith(".V")) {
                    continue;
                }
                String k = name.substring("_components.".length(), name.length() - ".V".length());
                String module = moduleOf(k, model, file);
                Tensor weight = model.weights().get(module + ".weight");                       // [d_out, d_in]
                long dIn = weight.size(1), dOut = weight.size(0);
                Tensor v = load(f, name, new long[] {dIn, -1}, model, file);
                long c = v.size(1);
                Tensor u = load(f, "_components." + k + ".U", new long[] {c, dOut}, model, file);
                String ci = "_ci_fns." + k + ".layers.";
                if (!f.contains(ci + "0.W")) {
                    throw new ScalpelException(file + " has components for " + module + " but no causal-importance functions "
                            + "(_ci_fns…); it can be scored and trained as prefactors, but not inspected by causal importance.");
                }
                Tensor w1 = load(f, ci + "0.W", new long[] {dIn, -1}, model, file);
                long h = w1.size(1);
                found.add(new ModuleDecomposition(module, v, u, w1, load(f, ci + "0.b", new long[] {h}, model, file),
                        load(f, ci + "2.W", new long[] {h, c}, model, file), load(f, ci + "2.b", new long[] {c}, model, file)));
            }
            if (found.isEmpty()) {
                throw new ScalpelException(file + " holds no _components.<module>.V/.U tensors; it is not a decomposition.");
            }
            return new Loaded(found, f.metadata());
        } catch (RuntimeException e) {
            found.forEach(ModuleDecomposition::close);
            throw e;
        }
    }

    /** Whether a decomposition file holds causal-importance functions (ours do; an SPD export may hold components only). */
    public static boolean hasImportanceFunctions(Path file) {
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            return f.tensorNames().stream().anyMatch(n -> n.startsWith("_ci_fns."));
        }
    }

    /** Metadata values as strings: numbers and maps as JSON. */
    static String json(Object value) {
        try {
            return JSON.writeValueAsString(value);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String moduleOf(String key, CausalLM model, Path file) {
        for (String name : model.weights().asMap().keySet()) {
            if (name.endsWith(".weight") && key(name.substring(0, name.length() - ".weight".length())).equals(key)
                    && model.weights().get(name).dim() == 2) {
                return name.substring(0, name.length() - ".weight".length());
            }
        }
        throw new ScalpelException(file + " decomposes '" + key + "', which is not a matrix of this model; "
                + "is it a decomposition of another model?");
    }

    /** A tensor of the expected shape (−1 = any), as float32 on the model's device. */
    private static Tensor load(SafetensorsFile f, String name, long[] expected, CausalLM model, Path file) {
        if (!f.contains(name)) {
            throw new ScalpelException(file + " lacks " + name + "; the decomposition is incomplete.");
        }
        long[] shape = f.info(name).shapeArray();
        boolean fits = shape.length == expected.length;
        for (int i = 0; fits && i < shape.length; i++) {
            fits = expected[i] < 0 || shape[i] == expected[i];
        }
        if (!fits) {
            throw new ScalpelException(file + ": " + name + " has shape " + Arrays.toString(shape) + ", expected "
                    + Arrays.toString(expected).replace("-1", "any") + "; the decomposition does not match this model.");
        }
        float[] values = TensorFloats.toFloatArray(f.info(name), f.data(name));
        for (float x : values) {
            if (!Float.isFinite(x)) {
                throw new ScalpelException(file + ": " + name + " holds NaN or infinite values; the decomposition is corrupt.");
            }
        }
        return Tensors.floats(values, model.device()).view(shape);
    }
}
