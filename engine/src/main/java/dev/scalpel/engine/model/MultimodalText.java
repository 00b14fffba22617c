package dev.scalpel.engine.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.scalpel.engine.api.ScalpelException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Multimodal checkpoints whose text model Scalpel runs on text: config.json nests the text model's config, and the
 * weights keep it under a prefix beside parts Scalpel does not run (see {@link CheckpointNames}). For text-only input
 * such a model computes exactly what its text model does (Qwen3.5's 3-axis M-RoPE has equal positions on every axis
 * for text tokens, which is plain RoPE), so Scalpel reads it as that text model.
 */
final class MultimodalText {
    /**
     * @param textModelType what the nested {@code text_config} is ({@code model_type})
     * @param names         where the checkpoint keeps the text model and what else it carries
     * @param wrapperKeys   the wrapper config's own keys: none of them changes a text-only forward pass
     */
    record Wrapper(String textModelType, CheckpointNames names, Set<String> wrapperKeys) {}

    private static final Map<String, Wrapper> WRAPPERS = Map.of("qwen3_5", new Wrapper("qwen3_5_text",
            new CheckpointNames("model.language_model.", List.of("model.visual.", "mtp.")),
            Set.of("model_type", "architectures", "text_config", "vision_config", "tie_word_embeddings", "image_token_id",
                    "video_token_id", "vision_start_token_id", "vision_end_token_id", "_name_or_path", "transformers_version",
                    "dtype", "torch_dtype", "id2label", "label2id", "problem_type", "return_dict", "output_attentions",
                    "output_hidden_states", "chunk_size_feed_forward", "is_encoder_decoder", "use_cache", "pad_token_id",
                    "initializer_range")));

    private MultimodalText() {}

    /** The wrapper with config.json {@code model_type}, or null when it is not a multimodal wrapper. */
    static Wrapper of(String modelType) {
        return modelType == null ? null : WRAPPERS.get(modelType);
    }

    /**
     * The text model's config to read: {@code text_config} with the wrapper's {@code tie_word_embeddings} (the
     * wrapper's decides, as in transformers) and model_type.
     *
     * @throws ScalpelException when text_config is missing or names another model type, or the wrapper has a key
     *                          this reading does not account for
     */
    static ObjectNode textConfig(Wrapper wrapper, String modelType, JsonNode root, Path file) {
        List<String> unknown = new ArrayList<>();
        root.fieldNames().forEachRemaining(k -> {
            if (!wrapper.wrapperKeys().contains(k)) {
                unknown.add(k);
            }
        });
        if (!unknown.isEmpty()) {
            throw new ScalpelException(file + " (model_type " + modelType + ") has " + unknown + ", which Scalpel does not "
                    + "know for this multimodal wrapper; it might change the text model's computation, so the model is "
                    + "refused. Restore config.json from the model's source.");
        }
        JsonNode text = root.get("text_config");
        if (text == null || !text.isObject()) {
            throw new ScalpelException(file + " (model_type " + modelType + ") has no text_config object; restore config.json "
                    + "from the model's source.");
        }
        String textType = text.path("model_type").asText(wrapper.textModelType());
        if (!textType.equals(wrapper.textModelType())) {
            throw new ScalpelException(file + ": the text_config of a " + modelType + " model is model_type '" + textType
                    + "', expected " + wrapper.textModelType() + "; restore config.json from the model's source.");
        }
        ObjectNode out = ((ObjectNode) text).deepCopy();
        out.put("model_type", wrapper.textModelType());
        if (root.has("tie_word_embeddings")) {
            out.set("tie_word_embeddings", root.get("tie_word_embeddings"));
        }
        return out;
    }
}
