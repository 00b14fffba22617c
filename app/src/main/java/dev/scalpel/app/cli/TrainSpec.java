package dev.scalpel.app.cli;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.scalpel.engine.api.HeadId;
import dev.scalpel.engine.api.HeadSet;
import dev.scalpel.engine.api.ImportanceMap;
import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.edit.Edit;
import dev.scalpel.engine.edit.HeadFinetuneEdit;
import dev.scalpel.engine.edit.HeadLayout;
import dev.scalpel.engine.edit.LoraEdit;
import dev.scalpel.engine.importance.ImportanceMapFile;
import dev.scalpel.engine.model.CausalLM;
import dev.scalpel.engine.train.FineTuner;
import dev.scalpel.engine.train.PerHeadRates;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * The training spec of {@code scalpel train} (JSON, snake_case; paths relative to the spec file). The README
 * documents the schema with one example per method.
 */
@JsonIgnoreProperties(ignoreUnknown = false)
public record TrainSpec(
        @JsonProperty("method") String method,
        @JsonProperty("heads") String heads,
        @JsonProperty("projections") List<String> projections,
        @JsonProperty("modules") List<String> modules,
        @JsonProperty("layers") List<Integer> layers,
        @JsonProperty("rank_pattern") Map<String, Integer> rankPattern,
        @JsonProperty("rank") Integer rank,
        @JsonProperty("alpha") Double alpha,
        @JsonProperty("dropout") Double dropout,
        @JsonProperty("per_head_lr") PerHeadLr perHeadLr,
        @JsonProperty("objective") String objective,
        @JsonProperty("target") String target,
        @JsonProperty("general") String general,
        @JsonProperty("retain") String retain,
        @JsonProperty("general_ratio") Double generalRatio,
        @JsonProperty("retain_weight") Double retainWeight,
        @JsonProperty("token_budget") Integer tokenBudget,
        @JsonProperty("steps") Integer steps,
        @JsonProperty("batch_size") Integer batchSize,
        @JsonProperty("context") Integer context,
        @JsonProperty("optimizer") String optimizer,
        @JsonProperty("lr") Double lr,
        @JsonProperty("seed") Long seed,
        @JsonProperty("frozen_context") Integer frozenContext,
        @JsonProperty("teacher_steer") TeacherSteer teacherSteer) {

    /** The teacher of the match-teacher objective: the base model steered by a control vector (to train it in). */
    public record TeacherSteer(@JsonProperty("vector") String vector, @JsonProperty("coefficient") Double coefficient) {}

    /**
     * Per-head learning rates from an importance map: after rank-normalising the map (1 = most important), heads above
     * {@code freeze_above} are frozen and the others train at lr × (1 − rank) + {@code floor}: weak heads fastest.
     */
    public record PerHeadLr(@JsonProperty("map") String map, @JsonProperty("freeze_above") Double freezeAbove,
                            @JsonProperty("floor") Double floor) {}

    public static TrainSpec read(Path file) {
        try {
            return new ObjectMapper().enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES).readValue(file.toFile(), TrainSpec.class);
        } catch (IOException e) {
            throw new ScalpelException("Cannot read the training spec " + file + ": " + e.getMessage().lines().findFirst().orElse("")
                    + ". See the README for the schema.", e);
        }
    }

    /** The edit this spec trains, fresh (it leaves the model unchanged until trained). */
    public Edit newEdit(CausalLM model, Path specDir) {
        String m = require(method, "method");
        int r = rank != null ? rank : 4;
        double a = alpha != null ? alpha : 2.0 * r;
        double drop = dropout != null ? dropout : 0.0;
        long s = seed != null ? seed : 0;
        return switch (m) {
            case "head-lora" -> LoraEdit.heads(model, headSet(model), projectionList(), r, a, drop, s);
            case "lora" -> LoraEdit.modules(model, modules != null ? modules : List.of("q_proj", "v_proj"), layers, r,
                    rankPattern != null ? rankPattern : Map.of(), a, drop, s);
            case "head-finetune" -> HeadFinetuneEdit.of(model, headSet(model), projectionList(), lrScale(model, specDir));
            default -> throw new ScalpelException("Unknown method '" + m + "'; use head-lora, lora or head-finetune.");
        };
    }

    public FineTuner.Spec fineTunerSpec() {
        return new FineTuner.Spec(FineTuner.Objective.parse(objective != null ? objective : "learn"),
                retainWeight != null ? retainWeight : 0.0, generalRatio != null ? generalRatio : 0.25,
                tokenBudget != null ? tokenBudget : Integer.MAX_VALUE, steps != null ? steps : 100,
                batchSize != null ? batchSize : 4, context != null ? context : 128, lr != null ? lr : 1e-3,
                optimizer != null ? optimizer : "adamw", seed != null ? seed : 0, frozenContext != null ? frozenContext : 0);
    }

    /** The teacher hooks of match-teacher, or null. */
    public dev.scalpel.engine.model.Hooks teacherHooks(CausalLM model, Path specDir) {
        if (teacherSteer == null) {
            return null;
        }
        var vector = dev.scalpel.engine.steer.GgufControlVector.read(specDir.resolve(require(teacherSteer.vector(), "teacher_steer.vector")));
        return vector.hooks(teacherSteer.coefficient() != null ? teacherSteer.coefficient() : 1.0, model);
    }

    private HeadSet headSet(CausalLM model) {
        String h = require(heads, "heads");
        if (h.equals("all")) {
            return HeadSet.parse(allHeads(model), model.config().numHeads());
        }
        return HeadSet.parse(h, model.config().numHeads());
    }

    private static String allHeads(CausalLM model) {
        StringBuilder b = new StringBuilder();
        for (int l = 0; l < model.config().numLayers(); l++) {
            b.append(l == 0 ? "" : ",").append("L").append(l).append("H*");
        }
        return b.toString();
    }

    private List<HeadLayout.Projection> projectionList() {
        return (projections != null ? projections : List.of("q", "k", "v", "o")).stream().map(HeadLayout.Projection::parse).toList();
    }

    private ToDoubleFunction<HeadId> lrScale(CausalLM model, Path specDir) {
        if (perHeadLr == null) {
            return h -> 1.0;
        }
        ImportanceMap map = ImportanceMapFile.read(specDir.resolve(require(perHeadLr.map(), "per_head_lr.map")));
        return PerHeadRates.fromMap(map, model.config(), perHeadLr.freezeAbove() != null ? perHeadLr.freezeAbove() : 0.8,
                perHeadLr.floor() != null ? perHeadLr.floor() : 0.05);
    }

    private static String require(String value, String field) {
        if (value == null || value.isBlank()) {
            throw new ScalpelException("The training spec needs \"" + field + "\"; see the README for the schema.");
        }
        return value;
    }
}
