package dev.scalpel.engine.model;

import java.util.List;

/**
 * How a checkpoint names the weights Scalpel keeps under their causal-LM names ({@code model.layers.N…},
 * {@code model.embed_tokens.weight}, {@code lm_head.weight}). A causal LM stores them as they are; a multimodal
 * Qwen3.5 ({@code Qwen3_5ForConditionalGeneration}) stores its text model under {@code model.language_model.} and
 * carries tensors of parts Scalpel does not run (the vision tower {@code model.visual.}, the multi-token-prediction
 * head {@code mtp.}). Reading maps checkpoint names to Scalpel's; exports map them back and copy the carried tensors
 * unchanged, so a merged export or a PEFT adapter fits the multimodal model again.
 *
 * @param textPrefix      where the checkpoint keeps what Scalpel names {@code model.…}
 * @param carriedPrefixes checkpoint names of tensors that are neither read nor changed, only copied by exports
 */
public record CheckpointNames(String textPrefix, List<String> carriedPrefixes) {
    private static final String MODEL = "model.";

    /** A causal LM's checkpoint: names as Scalpel keeps them, nothing carried. */
    public static final CheckpointNames CAUSAL_LM = new CheckpointNames(MODEL, List.of());

    public CheckpointNames {
        carriedPrefixes = List.copyOf(carriedPrefixes);
    }

    /** The checkpoint's name of the weight (or module) Scalpel calls {@code name}. */
    public String inCheckpoint(String name) {
        return name.startsWith(MODEL) ? textPrefix + name.substring(MODEL.length()) : name;
    }

    /** Scalpel's name of the checkpoint's tensor {@code checkpointName} (the inverse of {@link #inCheckpoint}). */
    public String inScalpel(String checkpointName) {
        return checkpointName.startsWith(textPrefix) ? MODEL + checkpointName.substring(textPrefix.length()) : checkpointName;
    }

    /** Whether the checkpoint's tensor {@code checkpointName} belongs to a part Scalpel only carries along. */
    public boolean isCarried(String checkpointName) {
        return carriedPrefixes.stream().anyMatch(checkpointName::startsWith);
    }
}
