package dev.scalpel.engine.spec;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.importance.ImportanceMapFile;
import dev.scalpel.engine.model.CausalLM;
import dev.scalpel.engine.model.Hooks;
import dev.scalpel.engine.steer.GgufControlVector;
import dev.scalpel.engine.train.Apollo;
import dev.scalpel.engine.train.FineTuner;
import dev.scalpel.engine.train.Optimizers;
import java.io.IOException;
import java.lang.reflect.RecordComponent;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.OptionalDouble;
import java.util.Set;

/**
 * The training spec of {@code scalpel train --spec} (JSON, snake_case; text paths relative to the spec file): one flat
 * object holding the {@link EditSpec} (its {@code "method"} and that method's fields) and how to train it. The README
 * documents the schema with one example per method. Defaults are filled in by the constructors.
 */
public record TrainSpec(
        @JsonIgnore EditSpec edit,
        @JsonProperty("objective") FineTuner.Objective objective,
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
        @JsonProperty("teacher_steer") TeacherSteer teacherSteer,
        @JsonProperty("apollo") ApolloSettings apollo) {

    /** The spec's reader: unknown fields, nulls for numbers and fractional counts ("rank": 2.5) are refused. */
    private static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES).disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT);
    /** The largest learning rate a spec may ask for: far above any that trains (AdamW ~1e-3, prefactors ~0.1). */
    public static final double MAX_LR = 10;

    public TrainSpec {
        objective = objective != null ? objective : FineTuner.Objective.LEARN;
        generalRatio = generalRatio != null ? generalRatio : 0.25;
        retainWeight = retainWeight != null ? retainWeight : 0.0;
        tokenBudget = tokenBudget != null ? tokenBudget : Integer.MAX_VALUE;
        steps = steps != null ? steps : 100;
        batchSize = batchSize != null ? batchSize : 4;
        context = context != null ? context : 128;
        optimizer = optimizer != null ? optimizer : "adamw";
        lr = lr != null ? lr : 1e-3;
        seed = seed != null ? seed : 0L;
        frozenContext = frozenContext != null ? frozenContext : 0;
        if (!(lr > 0 && lr <= MAX_LR)) {
            throw new ScalpelException("The learning rate must be a number in (0, " + (int) MAX_LR + "], e.g. 0.001; got " + lr + ".");
        }
        if (steps < 1 || batchSize < 1) {
            throw new ScalpelException("Steps and batch size must be at least 1.");
        }
        if (context < 2) {
            throw new ScalpelException("The context must be at least 2 tokens.");
        }
        if (tokenBudget < 1) {
            throw new ScalpelException("The token budget must be at least 1 target token.");
        }
        if (!(generalRatio >= 0 && generalRatio < 1)) {
            throw new ScalpelException("The general-text ratio must be at least 0 and below 1, e.g. 0.25.");
        }
        if (!(retainWeight >= 0) || Double.isInfinite(retainWeight)) {
            throw new ScalpelException("The retain weight must be 0 (off) or more.");
        }
        if (!OPTIMIZERS.contains(optimizer)) {
            throw new ScalpelException("Unknown optimizer '" + optimizer + "'; use adamw, apollo or apollo-mini.");
        }
        if (frozenContext < 0 || frozenContext >= context - 1) {
            throw new ScalpelException("The frozen context must be at least 0 and below the context − 1 (" + (context - 1)
                    + "), got " + frozenContext + ".");
        }
        if (apollo != null && !optimizer.startsWith("apollo")) {
            throw new ScalpelException("\"apollo\" settings apply to the apollo and apollo-mini optimizers, not " + optimizer
                    + "; set \"optimizer\": \"apollo\" or leave \"apollo\" out.");
        }
        if (objective == FineTuner.Objective.MATCH_TEACHER && teacherSteer == null) {
            throw new ScalpelException("The match-teacher objective needs a teacher: \"teacher_steer\": {\"vector\": \"v.gguf\"}.");
        }
    }

    /** The optimizers the engine has ({@code Optimizers.create}). */
    public static final List<String> OPTIMIZERS = List.of("adamw", "apollo", "apollo-mini");

    /** The teacher of the match-teacher objective: the base model steered by a control vector (to train it in). */
    public record TeacherSteer(@JsonProperty("vector") String vector, @JsonProperty("coefficient") Double coefficient) {
        public TeacherSteer {
            SpecChecks.require(vector, "teacher_steer.vector");
            coefficient = coefficient != null ? coefficient : 1.0;
        }
    }

    /**
     * APOLLO's settings (Zhu et al. 2024), each null for the variant's default: apollo rank 256, apollo-mini rank 1
     * tensor-wise; both α = √(k/r) per matrix, refresh every 200 steps, norm-growth limit γ 1.01, no weight decay.
     *
     * @param scale           α, or null for √(k/r) per matrix
     * @param normGrowthLimit γ ≥ 1 ({@code Infinity} in JSON turns the limiter off)
     */
    public record ApolloSettings(@JsonProperty("rank") Integer rank, @JsonProperty("scale") Double scale,
                                 @JsonProperty("refresh_period") Integer refreshPeriod,
                                 @JsonProperty("norm_growth_limit") Double normGrowthLimit,
                                 @JsonProperty("weight_decay") Double weightDecay) {
        public ApolloSettings {
            if (rank != null && rank < 1) {
                throw new ScalpelException("apollo.rank must be at least 1, got " + rank + ".");
            }
            if (scale != null && !(scale > 0 && scale < Double.POSITIVE_INFINITY)) {
                throw new ScalpelException("apollo.scale must be a positive number (or left out for √(k/r)), got " + scale + ".");
            }
            if (refreshPeriod != null && refreshPeriod < 1) {
                throw new ScalpelException("apollo.refresh_period must be at least 1 step, got " + refreshPeriod + ".");
            }
            if (normGrowthLimit != null && !(normGrowthLimit >= 1)) {
                throw new ScalpelException("apollo.norm_growth_limit must be at least 1 (Infinity: no limiter), got " + normGrowthLimit + ".");
            }
            if (weightDecay != null && !(weightDecay >= 0 && weightDecay < 1)) {
                throw new ScalpelException("apollo.weight_decay must be in [0, 1), got " + weightDecay + ".");
            }
        }

        /** {@code base} with the settings given here. */
        Apollo.Options applyTo(Apollo.Options base) {
            return new Apollo.Options(rank != null ? rank : base.rank(), refreshPeriod != null ? refreshPeriod : base.refreshPeriod(),
                    scale != null ? OptionalDouble.of(scale) : base.scale(),
                    normGrowthLimit != null ? normGrowthLimit : base.normGrowthLimit(), base.beta1(), base.beta2(), base.eps(),
                    weightDecay != null ? weightDecay : base.weightDecay(), base.seed(), base.tensorWise());
        }
    }

    /** APOLLO's options for this spec's apollo or apollo-mini optimizer (its defaults, the spec's seed, its settings); null for AdamW. */
    public Apollo.Options apolloOptions() {
        if (!optimizer.startsWith("apollo")) {
            return null;
        }
        Apollo.Options base = Optimizers.apolloOptions(optimizer, seed);
        return apollo == null ? base : apollo.applyTo(base);
    }

    /** Reads a spec file: the method's fields go to its {@link EditSpec}, the rest to the training settings. */
    public static TrainSpec read(Path file) {
        try {
            JsonNode root = JSON.readTree(file.toFile());
            if (root == null || !root.isObject()) {
                throw new ScalpelException("The training spec " + file + " is not a JSON object; see the README for the schema.");
            }
            String method = root.path("method").asText("");
            Class<?> kind = editClass(method);
            Set<String> editFields = jsonFields(kind);
            ObjectNode editNode = JSON.createObjectNode();
            ObjectNode trainNode = JSON.createObjectNode();
            List<String> unknown = new ArrayList<>();
            Set<String> trainFields = jsonFields(TrainSpec.class);
            root.properties().forEach(e -> {
                if (e.getKey().equals("method") || editFields.contains(e.getKey())) {
                    editNode.set(e.getKey(), e.getValue());
                } else if (trainFields.contains(e.getKey())) {
                    trainNode.set(e.getKey(), e.getValue());
                } else {
                    unknown.add(e.getKey());
                }
            });
            if (!unknown.isEmpty()) {
                throw new ScalpelException("The training spec " + file + " has field(s) " + unknown + " that method '" + method
                        + "' does not take (its fields: " + editFields + "; training: " + trainFields + ").");
            }
            EditSpec edit = JSON.treeToValue(editNode, EditSpec.class);
            return JSON.treeToValue(trainNode, TrainSpec.class).withEdit(edit);
        } catch (IOException e) {
            String problem = e.getCause() instanceof ScalpelException se ? se.getMessage().lines().findFirst().orElse("")
                    : SpecChecks.readable(e);
            problem = problem.replaceAll("\\.$", "");
            throw new ScalpelException("Cannot read the training spec " + file + ": " + problem + ". See the README for the schema.", e);
        }
    }

    /** The spec as a spec file holds it: one flat JSON object, the edit's "method" and fields first (defaults filled in). */
    public byte[] toJson() {
        try {
            ObjectNode root = (ObjectNode) JSON.readTree(JSON.writerFor(EditSpec.class).writeValueAsBytes(edit));
            root.setAll((ObjectNode) JSON.valueToTree(this));
            return JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(root);
        } catch (IOException e) {
            throw new IllegalStateException("a spec always serialises", e);
        }
    }

    /** This spec training {@code edit}. */
    public TrainSpec withEdit(EditSpec edit) {
        return new TrainSpec(edit, objective, target, general, retain, generalRatio, retainWeight, tokenBudget, steps,
                batchSize, context, optimizer, lr, seed, frozenContext, teacherSteer, apollo);
    }

    /** The fine-tuner settings. */
    public FineTuner.Spec fineTunerSpec() {
        return new FineTuner.Spec(objective, retainWeight, generalRatio, tokenBudget, steps, batchSize, context, lr,
                optimizer, seed, frozenContext, apolloOptions());
    }

    /**
     * The edit, fresh; importance maps named by the spec are read relative to {@code specDir} and must have been made
     * for the model with content hash {@code modelHash}.
     */
    public dev.scalpel.engine.edit.Edit newEdit(CausalLM model, String modelHash, Path specDir) {
        if (edit == null) {
            throw new IllegalStateException("a TrainSpec read from JSON always has its edit");
        }
        return edit.build(model, seed, references(modelHash, specDir));
    }

    /**
     * How a spec file's references resolve: files relative to {@code specDir}; importance maps read from there and
     * refused unless made for the model with content hash {@code modelHash}.
     */
    public static EditSpec.References references(String modelHash, Path specDir) {
        return new EditSpec.References() {
            @Override
            public dev.scalpel.engine.api.ImportanceMap map(String reference) {
                var map = ImportanceMapFile.read(specDir.resolve(reference));
                if (!map.modelHash().equals(modelHash)) {
                    throw new ScalpelException("The importance map " + reference + " was made for another model (hash "
                            + dev.scalpel.engine.model.ModelHash.shortHash(map.modelHash()) + ", this model "
                            + dev.scalpel.engine.model.ModelHash.shortHash(modelHash) + "); compute it on this model first.");
                }
                return map;
            }

            @Override
            public Path file(String reference) {
                return specDir.resolve(reference);
            }
        };
    }

    /**
     * The token ids (no BOS) of one of the spec's texts, {@code file} relative to {@code specDir}.
     *
     * @param what "target", "general" or "retain", for the message when the spec names no file
     */
    public static long[] textTokens(dev.scalpel.engine.model.TextTokenizer tokenizer, Path specDir, String file, String what) {
        if (file == null) {
            throw new ScalpelException("The training spec needs \"" + what + "\": a text file.");
        }
        return tokenizer.encode(dev.scalpel.engine.files.TextFiles.readUtf8(specDir.resolve(file)));
    }

    /** The teacher hooks of match-teacher, or null. */
    public Hooks teacherHooks(CausalLM model, Path specDir) {
        if (teacherSteer == null) {
            return null;
        }
        return GgufControlVector.read(specDir.resolve(teacherSteer.vector())).hooks(teacherSteer.coefficient(), model);
    }

    /** The kinds of edit, by the name {@code "method"} gives them. */
    private static Class<?> editClass(String method) {
        return Arrays.stream(EditSpec.class.getAnnotation(com.fasterxml.jackson.annotation.JsonSubTypes.class).value())
                .filter(t -> t.name().equals(method)).findFirst()
                .<Class<?>>map(com.fasterxml.jackson.annotation.JsonSubTypes.Type::value)
                .orElseThrow(() -> new ScalpelException("The training spec needs \"method\": one of " + methods()
                        + (method.isEmpty() ? "" : ", not '" + method + "'") + "."));
    }

    /** Every "method" name. */
    public static List<String> methods() {
        return Arrays.stream(EditSpec.class.getAnnotation(com.fasterxml.jackson.annotation.JsonSubTypes.class).value())
                .map(com.fasterxml.jackson.annotation.JsonSubTypes.Type::name).toList();
    }

    /** The JSON names of a spec record's components (those bound with {@link JsonProperty}). */
    public static Set<String> jsonFields(Class<?> record) {
        Set<String> out = new LinkedHashSet<>();
        for (RecordComponent c : record.getRecordComponents()) {
            JsonProperty p = c.getAccessor().getAnnotation(JsonProperty.class);   // propagated from the component
            if (p != null) {
                out.add(p.value());
            }
        }
        return out;
    }
}
