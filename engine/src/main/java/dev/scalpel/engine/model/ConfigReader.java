package dev.scalpel.engine.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.scalpel.engine.api.ScalpelException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Reads a Hugging Face {@code config.json} into a {@link ModelConfig}, dispatching on the architecture. */
public final class ConfigReader {
    private static final ObjectMapper JSON = new ObjectMapper();

    private ConfigReader() {}

    public static ModelConfig read(Path modelDir) {
        if (!Files.isDirectory(modelDir)) {
            throw new ScalpelException("Model folder " + modelDir + " does not exist; pass --model DIR with a Hugging Face "
                    + "model folder, or --model sample.");
        }
        Path file = modelDir.resolve("config.json");
        if (!Files.isRegularFile(file)) {
            throw new ScalpelException("No config.json in " + modelDir
                    + "; point --model at a Hugging Face model folder (config.json, model.safetensors, tokenizer.json).");
        }
        JsonNode root;
        try {
            root = JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new ScalpelException(file + " is not valid JSON (" + firstLine(e) + "); restore the file from the model's source.", e);
        }
        if (root == null || !root.isObject()) {
            throw new ScalpelException(file + " does not hold a JSON object; restore the file from the model's source.");
        }
        String declaredType = root.path("model_type").asText(null);
        MultimodalText.Wrapper multimodal = MultimodalText.of(declaredType);
        if (multimodal != null) {   // read the text model the wrapper nests; its weights are named as the wrapper says
            root = MultimodalText.textConfig(multimodal, declaredType, root, file);
        }
        String modelType = multimodal != null ? multimodal.textModelType() : declaredType;
        List<String> classes = new ArrayList<>();
        root.path("architectures").forEach(n -> classes.add(n.asText()));
        Architecture arch = Architecture.find(modelType, classes).orElseThrow(() -> new ScalpelException(
                "Unknown architecture '" + (modelType != null ? modelType : String.join(",", classes)) + "' in " + file
                        + "; Scalpel runs " + Architecture.supportedList() + "."));
        ConfigKeys.refuseUnsupported(arch, root, file);
        try {
            ModelConfig config = arch.family().readConfig(JSON, root, arch);
            validate(config, file);
            return multimodal == null ? config : config.withCheckpointNames(multimodal.names());
        } catch (IOException e) {
            throw new ScalpelException(file + " has a field of the wrong type (" + firstLine(e) + ").", e);
        } catch (IllegalArgumentException inconsistent) {   // ModelConfig's own checks on values read from the file
            throw new ScalpelException("Invalid " + file + ": " + inconsistent.getMessage() + "; restore the file from the model's source.");
        }
    }

    /** Token ids may be a number, a list of numbers or null. */
    public static List<Integer> idList(JsonNode node) {
        List<Integer> ids = new ArrayList<>();
        if (node != null && node.isArray()) {
            node.forEach(n -> ids.add(n.asInt()));
        } else if (node != null && node.isNumber()) {
            ids.add(node.asInt());
        }
        return ids;
    }

    private static void validate(ModelConfig c, Path file) {
        require(c.vocabSize() > 0, file, "vocab_size must be positive");
        require(c.hiddenSize() > 0, file, "hidden_size must be positive");
        require(c.numLayers() > 0, file, "num_hidden_layers must be positive");
        require(c.numHeads() > 0 && c.numKvHeads() > 0, file, "attention head counts must be positive");
        require(c.numHeads() % c.numKvHeads() == 0, file,
                "num_attention_heads (" + c.numHeads() + ") must be a multiple of num_key_value_heads (" + c.numKvHeads() + ")");
        require(c.headDim() > 0 && c.headDim() % 2 == 0 || c.architecture() == Architecture.GPT2, file,
                "head_dim must be a positive even number for rotary embeddings, got " + c.headDim());
        require(c.intermediateSize() > 0, file, "intermediate_size must be positive");
        require(c.maxPositions() > 0, file, "max_position_embeddings must be positive");
        require(c.normEps() > 0 && Double.isFinite(c.normEps()), file, "the norm eps (rms_norm_eps / layer_norm_epsilon) must be a "
                + "small positive number, got " + c.normEps());
    }

    private static void require(boolean ok, Path file, String what) {
        if (!ok) {
            throw new ScalpelException("Invalid " + file + ": " + what + ".");
        }
    }

    private static String firstLine(Exception e) {
        String m = String.valueOf(e.getMessage());
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }
}
