package dev.scalpel.engine.groups;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.scalpel.engine.api.HeadGrid;
import dev.scalpel.engine.api.HeadId;
import dev.scalpel.engine.api.HeadSet;
import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.edit.Edit;
import dev.scalpel.engine.edit.HeadLayout;
import dev.scalpel.engine.edit.Slice;
import dev.scalpel.engine.model.CausalLM;
import dev.scalpel.engine.model.ModelConfig;
import dev.scalpel.engine.model.ModelHash;
import dev.scalpel.engine.files.OutputKind;
import dev.scalpel.engine.model.TensorPairFile;
import dev.scalpel.engine.model.Tensors;
import dev.scalpel.engine.model.safetensors.SafetensorsFile;
import dev.scalpel.engine.model.safetensors.TensorFloats;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;

/**
 * The weights of a set of heads, as an independently loadable module: for each head its q/k/v rows and o_proj
 * columns ({@link HeadLayout}), with the source model's hash and the shapes a target model must have. Saved as
 * {@code NAME.json} (manifest) + {@code NAME.safetensors} (tensors {@code L1H2.q} …).
 *
 * @param name    e.g. {@code code/rust}
 * @param tensors "L1H2.q" → the slice values ([D, in] for q/k/v rows, [out, D] for o columns; D is the width of that
 *                head's slice, which in a Gated DeltaNet layer is its key head dim for q/k and its value head dim for v/o)
 */
public record HeadGroup(String name, String sourceModelHash, Shape shape, HeadSet heads, Map<String, Tensor> tensors,
                        Map<String, Object> provenance) {

    /**
     * What a compatible model must match.
     *
     * @param heads         attention heads per layer
     * @param headsPerLayer the heads of each layer ({@link ModelConfig#headsIn}: a hybrid's Gated DeltaNet layers have
     *                      their value heads); manifests before it was recorded had {@code heads} in every layer
     */
    public record Shape(String architecture, int layers, int heads, int kvHeads, int headDim, int hidden,
                        List<Integer> headsPerLayer) {
        public Shape {
            headsPerLayer = List.copyOf(headsPerLayer);
        }

        static Shape of(ModelConfig c) {
            return new Shape(c.architecture().modelType(), c.numLayers(), c.numHeads(), c.numKvHeads(), c.headDim(), c.hiddenSize(),
                    c.headGrid().headsPerLayer());
        }

        HeadGrid grid() {
            return new HeadGrid(headsPerLayer);
        }
    }

    /** The manifest's format; its tensors file is named in it with its SHA-256. */
    public static final String FORMAT = "scalpel-head-group/2";
    /** Manifests of the first format name no tensors hash; their tensors are {@code NAME.safetensors}, unchecked. */
    public static final String LEGACY_FORMAT = "scalpel-head-group/1";
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The largest |value| a group's tensors may hold: trained q/k/v/o weights stay far below it, beyond it products overflow. */
    private static final float MAX_WEIGHT = 1e4f;
    /** The widest head slice a group may hold (head dims are at most a few hundred), so a damaged header cannot ask for gigabytes. */
    private static final long MAX_SLICE_WIDTH = 4096;

    /** The current weights of {@code heads} in {@code model} (with whatever is applied to it in memory). */
    public static HeadGroup extract(CausalLM model, String modelHash, String name, HeadSet heads, Map<String, Object> provenance) {
        return extract(model, modelHash, name, heads, List.of(), provenance);
    }

    /**
     * The weights of {@code heads} as the model has them in memory (head groups swapped in included) plus the dense
     * deltas of {@code edits}: the edited heads as a group, without changing the model's weights.
     */
    public static HeadGroup extract(CausalLM model, String modelHash, String name, HeadSet heads, List<Edit> edits,
                                    Map<String, Object> provenance) {
        HeadLayout layout = new HeadLayout(model.config());
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        try (NoGradGuard g = new NoGradGuard(); PointerScope scope = new PointerScope()) {
            Map<String, Tensor> deltas = new HashMap<>();   // weight name → Σ of the edits' deltas, [out, in]
            for (Edit e : edits) {
                e.denseDeltas(model.weights().asMap()).forEach((weight, d) -> deltas.merge(weight, d, Tensor::add));
            }
            for (HeadId h : heads.heads()) {
                for (HeadLayout.Projection p : HeadLayout.Projection.values()) {
                    Slice s = layout.slice(h, p);
                    Tensor w = model.weights().get(s.weightName());
                    // "L1H2.q" → [D, in] rows of q/k/v, "L1H2.o" → [out, D] columns of o_proj (a clone, not a view)
                    Tensor part = w.narrow(s.dim(), s.indices().get(0), s.size()).clone();
                    Tensor delta = deltas.get(s.weightName());
                    if (delta != null) {
                        part.add_(delta.narrow(s.dim(), s.indices().get(0), s.size()));
                    }
                    part.retainReference();
                    tensors.put(key(h, p), part);
                }
            }
        } catch (RuntimeException e) {
            tensors.values().forEach(Tensor::releaseReference);
            throw e;
        }
        return new HeadGroup(name, modelHash, Shape.of(model.config()), heads, tensors, provenance);
    }

    static String key(HeadId h, HeadLayout.Projection p) {
        return h + "." + p.name().toLowerCase(java.util.Locale.ROOT);
    }

    /** SHA-256 of the group's tensors (names, shapes and values), to tell two groups of the same name apart. */
    public String contentHash() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (var t : tensors.entrySet()) {
            float[] values = Tensors.toFloats(t.getValue());
            ByteBuffer data = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
            data.asFloatBuffer().put(values);
            bytes.writeBytes((t.getKey() + Arrays.toString(Tensors.shape(t.getValue())) + "\n").getBytes(StandardCharsets.UTF_8));
            bytes.writeBytes(data.array());
        }
        return ModelHash.ofBytes(bytes.toByteArray());
    }

    /**
     * Checks that this group fits {@code config}'s model, with one sentence naming the mismatch: the shape, and each
     * tensor's against the slice it replaces.
     */
    public void checkCompatible(ModelConfig config) {
        Shape target = Shape.of(config);
        if (!shape.equals(target)) {
            throw new ScalpelException("Head group '" + name + "' was extracted from a " + shape + " model and does not fit this "
                    + target + " model (architecture, layers, heads per layer, kv heads, head_dim and hidden size must match).");
        }
        HeadLayout layout = new HeadLayout(config);
        for (HeadId h : heads.heads()) {
            for (HeadLayout.Projection p : HeadLayout.Projection.values()) {
                long[] dims = Tensors.shape(tensors.get(key(h, p)));
                long[] expected = sliceShape(layout.slice(h, p), config.hiddenSize());
                if (!Arrays.equals(dims, expected)) {
                    throw new ScalpelException("Head group '" + name + "' has tensor '" + key(h, p) + "' of shape "
                            + Arrays.toString(dims) + " but that slice of this model is " + Arrays.toString(expected)
                            + "; the file is damaged or was extracted from another model.");
                }
            }
        }
    }

    /** A slice of rows [width, hidden] or of columns [hidden, width]. */
    private static long[] sliceShape(Slice s, int hidden) {
        return s.dim() == 0 ? new long[] {s.size(), hidden} : new long[] {hidden, s.size()};
    }

    /**
     * Writes the group as {@code json} and its tensors file (one checked pair, see {@link TensorPairFile}), never into
     * {@code models} (the model folders the command has open or refers to) or any other model folder.
     */
    public void write(Path json, Collection<Path> models) {
        Map<String, Object> manifest = new LinkedHashMap<>();
        manifest.put("format", FORMAT);
        manifest.put("name", name);
        manifest.put("source_model_hash", sourceModelHash);
        manifest.put("shape", shape);
        manifest.put("heads", heads.toString());
        manifest.put("provenance", provenance);
        TensorPairFile.write(OutputKind.HEAD_GROUP, models, json, manifest, tensors, Map.of("format", FORMAT));
    }

    public static HeadGroup read(Path json, dev.scalpel.engine.model.ComputeDevice device) {
        JsonNode m;
        try {
            m = JSON.readTree(json.toFile());
        } catch (IOException e) {
            throw new ScalpelException("Cannot read head group " + json + " (" + e.getMessage() + ").", e);
        }
        if (m == null || !m.isObject()) {
            throw new ScalpelException(json + " is not a Scalpel head group (not a JSON object).");
        }
        boolean legacy = LEGACY_FORMAT.equals(m.path("format").asText());
        if (!legacy && !FORMAT.equals(m.path("format").asText())) {
            throw new ScalpelException(json + " is not a Scalpel head group (format '" + m.path("format").asText() + "').");
        }
        JsonNode s = m.path("shape");
        int layers = positive(json, s, "layers"), perLayer = positive(json, s, "heads");
        Shape shape = new Shape(s.path("architecture").asText(), layers, perLayer, positive(json, s, "kvHeads"),
                positive(json, s, "headDim"), positive(json, s, "hidden"), headsPerLayer(json, s, layers, perLayer));
        if (!m.path("heads").isTextual() || m.path("heads").asText().isBlank()) {
            throw new ScalpelException("Head group " + json + " names no heads (\"heads\" must be like \"L1H2,L3H0\"); the file is damaged.");
        }
        HeadSet heads = HeadSet.parse(m.path("heads").asText(), shape.grid());
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        try (SafetensorsFile f = SafetensorsFile.open(TensorPairFile.tensorsOf(json, m, legacy))) {
            for (HeadId h : heads.heads()) {
                for (HeadLayout.Projection p : HeadLayout.Projection.values()) {
                    String k = key(h, p);
                    if (!f.contains(k)) {
                        throw new ScalpelException("Head group " + json + " lacks tensor '" + k + "'; its safetensors file is incomplete.");
                    }
                    long[] dims = f.info(k).shapeArray();
                    if (!isSliceShape(dims, shape, p)) {
                        throw new ScalpelException("Head group " + json + " has tensor '" + k + "' of shape " + Arrays.toString(dims)
                                + " but a " + p.name().toLowerCase(java.util.Locale.ROOT) + " slice of this group's model is "
                                + (p == HeadLayout.Projection.O ? "[" + shape.hidden() + ", D]" : "[D, " + shape.hidden() + "]")
                                + " (D ≤ " + MAX_SLICE_WIDTH + "); the file is damaged or not a head group.");
                    }
                    float[] values = TensorFloats.toFloatArray(f.info(k), f.data(k));
                    for (float v : values) {
                        if (!(Math.abs(v) <= MAX_WEIGHT)) {
                            throw new ScalpelException("Head group " + json + " has " + v + " in tensor '" + k + "', beyond the ±"
                                    + (int) MAX_WEIGHT + " that trained weights stay within (swapped in, it would make the model's "
                                    + "outputs overflow); the file is damaged. Extract the group again.");
                        }
                    }
                    Tensor t = Tensors.floats(values, device).view(dims);
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

    /** The manifest's {@code shape.<field>}: a whole number ≥ 1. */
    private static int positive(Path json, JsonNode shape, String field) {
        JsonNode n = shape.path(field);
        if (!n.canConvertToInt() || !n.isIntegralNumber() || n.asInt() < 1) {
            throw new ScalpelException("Head group " + json + " has shape." + field + " = " + (n.isMissingNode() ? "nothing" : n.toString())
                    + "; it must be a whole number of at least 1 (the file is damaged or not a head group).");
        }
        return n.asInt();
    }

    /**
     * The manifest's {@code shape.headsPerLayer}: one whole number ≥ 1 per layer, or {@code heads} in every layer when
     * it is missing (groups written before it was recorded).
     */
    private static List<Integer> headsPerLayer(Path json, JsonNode shape, int layers, int heads) {
        JsonNode n = shape.path("headsPerLayer");
        if (n.isMissingNode()) {
            return java.util.Collections.nCopies(layers, heads);
        }
        if (!n.isArray() || n.size() != layers) {
            throw new ScalpelException("Head group " + json + " has shape.headsPerLayer = " + n + "; it must list the heads of each of its "
                    + layers + " layers (the file is damaged or not a head group).");
        }
        List<Integer> counts = new java.util.ArrayList<>();
        for (JsonNode c : n) {
            if (!c.isIntegralNumber() || !c.canConvertToInt() || c.asInt() < 1) {
                throw new ScalpelException("Head group " + json + " has " + c + " in shape.headsPerLayer; each layer's heads must be a "
                        + "whole number of at least 1 (the file is damaged or not a head group).");
            }
            counts.add(c.asInt());
        }
        return counts;
    }

    /**
     * Whether {@code dims} can be a head's slice of projection {@code p} in the group's model: [D, hidden] rows of
     * q/k/v, [hidden, D] columns of o, D from 1 to {@link #MAX_SLICE_WIDTH}. The exact D depends on the layer (a Gated
     * DeltaNet's key and value head dims), so {@link #checkCompatible} checks it against the model.
     */
    private static boolean isSliceShape(long[] dims, Shape shape, HeadLayout.Projection p) {
        if (dims.length != 2) {
            return false;
        }
        long width = p == HeadLayout.Projection.O ? dims[1] : dims[0];
        long hidden = p == HeadLayout.Projection.O ? dims[0] : dims[1];
        return hidden == shape.hidden() && width >= 1 && width <= MAX_SLICE_WIDTH;
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
