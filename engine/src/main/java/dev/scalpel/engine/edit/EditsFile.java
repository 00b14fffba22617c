package dev.scalpel.engine.edit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.scalpel.engine.api.HeadGrid;
import dev.scalpel.engine.api.HeadSet;
import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.model.CausalLM;
import dev.scalpel.engine.model.ModelHash;
import dev.scalpel.engine.model.TensorPairFile;
import dev.scalpel.engine.model.Tensors;
import dev.scalpel.engine.files.OutputKind;
import dev.scalpel.engine.model.safetensors.SafetensorsFile;
import dev.scalpel.engine.model.safetensors.TensorFloats;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;

/**
 * An edits file: {@code NAME.json} lists the edits in order (kind and construction parameters) with the content hash
 * of the base model they apply to; the safetensors file it names beside it holds their tensors, named
 * {@code <index>.<tensor name>}. Applying the file to that base model rebuilds exactly the same edits. The two are
 * written and checked as one unit ({@link TensorPairFile}): the JSON records its tensors' SHA-256.
 */
public final class EditsFile {
    static final String FORMAT = "scalpel-edits/2";
    /** Files of the first format name no tensors hash; they are read from {@code NAME.safetensors} unchecked. */
    static final String LEGACY_FORMAT = "scalpel-edits/1";
    private static final ObjectMapper JSON = new ObjectMapper();

    private EditsFile() {}

    /**
     * Writes {@code edits} as an edits file for the model with content hash {@code baseModelHash}, never into a model
     * folder (see {@link dev.scalpel.engine.files.OutputGuard}).
     *
     * @param models the model folders the command has open or refers to (never written into)
     */
    public static void write(Path json, String baseModelHash, List<Edit> edits, Collection<Path> models) {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        List<Map<String, Object>> entries = new ArrayList<>();
        for (int i = 0; i < edits.size(); i++) {
            Edit e = edits.get(i);
            Map<String, Object> entry = new LinkedHashMap<>(e.metadata());
            entry.put("description", e.describe());
            entries.add(entry);
            for (var t : e.tensors().entrySet()) {
                tensors.put(i + "." + t.getKey(), t.getValue());
            }
        }
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("format", FORMAT);
        root.put("base_model_hash", baseModelHash);
        root.put("edits", entries);
        TensorPairFile.write(OutputKind.EDITS, models, json, root, tensors, Map.of("format", FORMAT));
    }

    /**
     * The largest |value| an edits file's tensors may hold: LoRA factors, head deltas, task vectors and prefactors of
     * trained edits stay orders of magnitude below it, while beyond it a product in the forward pass can overflow float32.
     */
    static final float MAX_VALUE = 1e4f;

    /** Rebuilds the edits of {@code json} for {@code model}, whose content hash must be the one the file names. */
    public static List<Edit> read(Path json, CausalLM model, String modelHash) {
        JsonNode root;
        try {
            root = JSON.readTree(json.toFile());
        } catch (IOException e) {
            throw new ScalpelException("Cannot read edits file " + json + " (" + e.getMessage() + "); pass the .json that scalpel train wrote.", e);
        }
        boolean legacy = LEGACY_FORMAT.equals(root.path("format").asText());
        if (!legacy && !FORMAT.equals(root.path("format").asText())) {
            throw new ScalpelException(json + " is not a Scalpel edits file (format '" + root.path("format").asText() + "', expected " + FORMAT + ").");
        }
        String expected = root.path("base_model_hash").asText();
        if (!expected.equals(modelHash)) {
            throw new ScalpelException("The edits in " + json + " were made for another base model (hash " + ModelHash.shortHash(expected)
                    + ", this model " + ModelHash.shortHash(modelHash) + "); load them onto the model they were trained on.");
        }
        if (!root.path("edits").isArray()) {
            throw new ScalpelException("Edits file " + json + " has no \"edits\" list; pass the .json that scalpel train wrote.");
        }
        Path tensorsFile = TensorPairFile.tensorsOf(json, root, legacy);
        List<Edit> edits = new ArrayList<>();
        try (SafetensorsFile tensors = SafetensorsFile.open(tensorsFile)) {
            JsonNode list = root.path("edits");
            for (int i = 0; i < list.size(); i++) {
                Edit e = rebuild(list.get(i), model, json);
                loadTensors(e, tensors, i + ".");
                edits.add(e);
            }
        } catch (RuntimeException ex) {
            edits.forEach(Edit::close);
            throw ex;
        }
        return edits;
    }

    /** A fresh edit of the same kind and construction parameters; its tensors are filled by {@link #loadTensors}. */
    private static Edit rebuild(JsonNode e, CausalLM model, Path file) {
        String kind = e.path("kind").asText();
        HeadGrid heads = model.config().headGrid();
        return switch (kind) {
            case "head-lora" -> LoraEdit.heads(model, HeadSet.parse(e.path("heads").asText(), heads), projections(e),
                    e.path("rank").asInt(), e.path("alpha").asDouble(), e.path("dropout").asDouble(), 0);
            case "lora" -> LoraEdit.onWeights(model, strings(e.path("target_weights")), strings(e.path("modules")),
                    e.path("layers").isArray() ? ints(e.path("layers")) : null, e.path("rank").asInt(),
                    rankPattern(e.path("rank_pattern")), e.path("alpha").asDouble(), e.path("dropout").asDouble(), 0);
            case "head-finetune" -> {
                JsonNode scales = e.path("lr_scale");
                yield HeadFinetuneEdit.of(model, HeadSet.parse(e.path("heads").asText(), heads), projections(e),
                        h -> scales.path(h.toString()).asDouble(1.0));
            }
            case "task-vector" -> {
                Map<String, Tensor> zeros = new LinkedHashMap<>();
                for (String w : strings(e.path("weights"))) {
                    Tensor weight = model.weights().get(w);
                    if (weight == null) {
                        throw new ScalpelException("Edits file " + file + " has a task vector for " + w + ", which this model lacks.");
                    }
                    zeros.put(w, org.bytedeco.pytorch.global.torch.zeros_like(weight));
                }
                yield new TaskVectorEdit(new TaskVector(zeros), e.path("name").asText());
            }
            case "deltanet-decay" -> DeltaNetDecayEdit.of(model, HeadSet.parse(e.path("heads").asText(), heads));
            case "prefactor" -> PrefactorEdit.blank(model, e.path("weight").asText(), e.path("source").asText(), ints(e.path("components")));
            default -> throw new ScalpelException("Edits file " + file + " has an edit of unknown kind '" + kind
                    + "'; it was written by a newer Scalpel.");
        };
    }

    private static void loadTensors(Edit edit, SafetensorsFile file, String prefix) {
        try (NoGradGuard g = new NoGradGuard(); PointerScope scope = new PointerScope()) {
            for (var t : edit.tensors().entrySet()) {
                String name = prefix + t.getKey();
                if (!file.contains(name)) {
                    throw new ScalpelException("Edits file " + file.path() + " lacks tensor '" + name + "'; the pair of files is incomplete.");
                }
                long[] shape = file.info(name).shapeArray();
                if (!Arrays.equals(shape, Tensors.shape(t.getValue()))) {
                    throw new ScalpelException("Tensor '" + name + "' in " + file.path() + " has shape " + Arrays.toString(shape)
                            + " but the model needs " + Arrays.toString(Tensors.shape(t.getValue())) + "; the edits belong to another model.");
                }
                float[] values = TensorFloats.toFloatArray(file.info(name), file.data(name));
                for (float v : values) {
                    if (!(Math.abs(v) <= MAX_VALUE)) {
                        throw new ScalpelException("Tensor '" + name + "' in " + file.path() + " holds " + v + ", beyond the ±"
                                + (int) MAX_VALUE + " that trained edits stay within (an edit with it would make the model's outputs "
                                + "overflow); the file is damaged. Train or write the edits again.");
                    }
                }
                t.getValue().copy_(Tensors.floats(values, dev.scalpel.engine.model.ComputeDevice.of(t.getValue())).view(shape));
            }
        }
    }

    private static List<HeadLayout.Projection> projections(JsonNode e) {
        return strings(e.path("projections")).stream().map(HeadLayout.Projection::parse).toList();
    }

    private static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    private static List<Integer> ints(JsonNode array) {
        List<Integer> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asInt()));
        return out;
    }

    private static Map<String, Integer> rankPattern(JsonNode node) {
        Map<String, Integer> out = new LinkedHashMap<>();
        node.properties().forEach(f -> out.put(f.getKey(), f.getValue().asInt()));
        return out;
    }
}
