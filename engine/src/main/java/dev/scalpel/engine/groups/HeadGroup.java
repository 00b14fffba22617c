package dev.scalpel.engine.groups;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.scalpel.engine.api.HeadId;
import dev.scalpel.engine.api.HeadSet;
import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.edit.HeadLayout;
import dev.scalpel.engine.edit.Slice;
import dev.scalpel.engine.model.CausalLM;
import dev.scalpel.engine.model.CheckpointWriter;
import dev.scalpel.engine.model.ModelConfig;
import dev.scalpel.engine.model.Tensors;
import dev.scalpel.engine.model.safetensors.AtomicFiles;
import dev.scalpel.engine.model.safetensors.SafetensorsFile;
import dev.scalpel.engine.model.safetensors.SafetensorsWriter;
import dev.scalpel.engine.model.safetensors.TensorFloats;
import dev.scalpel.engine.model.safetensors.TensorSource;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;

/**
 * The weights of a set of heads, as an independently loadable module: for each head its q/k/v rows and o_proj
 * columns ({@link HeadLayout}), with the source model's hash and the shapes a target model must have. Saved as
 * {@code NAME.json} (manifest) + {@code NAME.safetensors} (tensors {@code L1H2.q} …).
 *
 * @param name    e.g. {@code code/rust}
 * @param tensors "L1H2.q" → the slice values ([D, in] for q/k/v rows, [out, D] for o columns)
 */
public record HeadGroup(String name, String sourceModelHash, Shape shape, HeadSet heads, Map<String, Tensor> tensors,
                        Map<String, Object> provenance) {

    /** What a compatible model must match. */
    public record Shape(String architecture, int layers, int heads, int kvHeads, int headDim, int hidden) {
        static Shape of(ModelConfig c) {
            return new Shape(c.architecture().modelType(), c.numLayers(), c.numHeads(), c.numKvHeads(), c.headDim(), c.hiddenSize());
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** The current weights of {@code heads} in {@code model} (with whatever is applied to it in memory). */
    public static HeadGroup extract(CausalLM model, String modelHash, String name, HeadSet heads, Map<String, Object> provenance) {
        HeadLayout layout = new HeadLayout(model.config());
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        try (NoGradGuard g = new NoGradGuard()) {
            for (HeadId h : heads.heads()) {
                for (HeadLayout.Projection p : HeadLayout.Projection.values()) {
                    Slice s = layout.slice(h, p);
                    Tensor w = model.weights().get(s.weightName());
                    Tensor part = w.narrow(s.dim(), s.indices().get(0), s.size()).clone();
                    part.retainReference();
                    tensors.put(key(h, p), part);
                }
            }
        }
        return new HeadGroup(name, modelHash, Shape.of(model.config()), heads, tensors, provenance);
    }

    static String key(HeadId h, HeadLayout.Projection p) {
        return h + "." + p.name().toLowerCase(java.util.Locale.ROOT);
    }

    /** Checks that this group fits {@code config}'s model, with one sentence naming the mismatch. */
    public void checkCompatible(ModelConfig config) {
        Shape target = Shape.of(config);
        if (!shape.equals(target)) {
            throw new ScalpelException("Head group '" + name + "' was extracted from a " + shape + " model and does not fit this "
                    + target + " model (architecture, layers, heads, kv heads, head_dim and hidden size must match).");
        }
    }

    public void write(Path json) {
        Map<String, Object> manifest = new LinkedHashMap<>();
        manifest.put("format", "scalpel-head-group/1");
        manifest.put("name", name);
        manifest.put("source_model_hash", sourceModelHash);
        manifest.put("shape", shape);
        manifest.put("heads", heads.toString());
        manifest.put("provenance", provenance);
        SafetensorsWriter.write(tensorFile(json), CheckpointWriter.toSources(tensors), Map.of("format", "scalpel-head-group/1"));
        AtomicFiles.write(json, ch -> TensorSource.writeAll(ch, ByteBuffer.wrap(JSON.writeValueAsBytes(manifest))));
    }

    public static HeadGroup read(Path json, dev.scalpel.engine.model.ComputeDevice device) {
        JsonNode m;
        try {
            m = JSON.readTree(json.toFile());
        } catch (IOException e) {
            throw new ScalpelException("Cannot read head group " + json + " (" + e.getMessage() + ").", e);
        }
        if (!"scalpel-head-group/1".equals(m.path("format").asText())) {
            throw new ScalpelException(json + " is not a Scalpel head group (format '" + m.path("format").asText() + "').");
        }
        JsonNode s = m.path("shape");
        Shape shape = new Shape(s.path("architecture").asText(), s.path("layers").asInt(), s.path("heads").asInt(),
                s.path("kvHeads").asInt(), s.path("headDim").asInt(), s.path("hidden").asInt());
        HeadSet heads = HeadSet.parse(m.path("heads").asText(), shape.heads());
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        try (SafetensorsFile f = SafetensorsFile.open(tensorFile(json))) {
            for (HeadId h : heads.heads()) {
                for (HeadLayout.Projection p : HeadLayout.Projection.values()) {
                    String k = key(h, p);
                    if (!f.contains(k)) {
                        throw new ScalpelException("Head group " + json + " lacks tensor '" + k + "'; its safetensors file is incomplete.");
                    }
                    long[] dims = f.info(k).shapeArray();
                    Tensor t = Tensors.floats(TensorFloats.toFloatArray(f.info(k), f.data(k)), device).view(dims);
                    t.retainReference();
                    tensors.put(k, t);
                }
            }
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> provenance = JSON.convertValue(m.path("provenance"), Map.class);
        return new HeadGroup(m.path("name").asText(), m.path("source_model_hash").asText(), shape, heads, tensors,
                provenance == null ? Map.of() : provenance);
    }

    static Path tensorFile(Path json) {
        String n = json.getFileName().toString();
        return json.resolveSibling((n.endsWith(".json") ? n.substring(0, n.length() - 5) : n) + ".safetensors");
    }

    /** The kv heads this group writes (with GQA a k/v slice belongs to a whole query group). */
    public List<Integer> kvHeadsOf(int layer) {
        int group = shape.heads() / shape.kvHeads();
        return heads.inLayer(layer).heads().stream().map(h -> h.head() / group).distinct().toList();
    }

    /** Releases the tensors. */
    public void close() {
        tensors.values().forEach(Tensor::releaseReference);
    }

    @Override
    public String toString() {
        return "HeadGroup[" + name + ", " + heads + ", " + shape + "]";
    }
}
