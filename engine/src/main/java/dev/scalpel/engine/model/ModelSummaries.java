package dev.scalpel.engine.model;

import dev.scalpel.engine.api.ModelSummary;
import dev.scalpel.engine.model.safetensors.SafetensorsCheckpoint;
import dev.scalpel.engine.model.safetensors.TensorInfo;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/** Describes a model folder from config.json and the safetensors headers only (fast, no weights loaded). */
public final class ModelSummaries {
    private ModelSummaries() {}

    public static ModelSummary of(Path dir) {
        ModelConfig c = ConfigReader.read(dir);
        long params = 0;
        Map<String, Long> bytesByDtype = new HashMap<>();
        try (SafetensorsCheckpoint ckpt = SafetensorsCheckpoint.open(dir)) {
            for (String name : ckpt.names()) {
                if (isNotAParameter(name, c)) {
                    continue;
                }
                TensorInfo info = ckpt.info(name);
                params += info.numel();
                bytesByDtype.merge(info.dtype().safetensorsName(), info.byteLength(), Long::sum);
            }
        }
        String dtype = bytesByDtype.entrySet().stream().max(Map.Entry.comparingByValue()).map(Map.Entry::getKey).orElse("none");
        CheckpointNames names = c.checkpointNames();
        String architecture = names.equals(CheckpointNames.CAUSAL_LM) ? c.architecture().modelType()
                : c.architecture().modelType() + " (the text model of a multimodal checkpoint, under " + names.textPrefix()
                        + "; " + String.join(", ", names.carriedPrefixes()) + " carried, not run)";
        return new ModelSummary(architecture, c.numLayers(), c.numHeads(), c.numKvHeads(), c.headDim(),
                c.hiddenSize(), c.intermediateSize(), c.vocabSize(), c.maxPositions(), c.tieWordEmbeddings(), params, dtype,
                c.layerTypes().stream().map(LayerType::configName).toList(), c.headGrid(),
                java.util.stream.IntStream.range(0, c.numLayers()).map(c::headWidthIn).boxed().toList());
    }

    /** A tied copy of the embedding, GPT-2's saved attention-mask buffers, or a part of a multimodal model not run. */
    private static boolean isNotAParameter(String name, ModelConfig c) {
        return (c.tieWordEmbeddings() && name.equals("lm_head.weight"))
                || name.endsWith(".attn.bias") || name.endsWith(".attn.masked_bias") || c.checkpointNames().isCarried(name);
    }
}
