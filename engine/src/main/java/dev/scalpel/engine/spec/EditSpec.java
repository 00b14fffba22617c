package dev.scalpel.engine.spec;

import com.fasterxml.jackson.annotation.JsonFormat;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import dev.scalpel.engine.api.HeadId;
import dev.scalpel.engine.api.ImportanceMap;
import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.components.ModuleNames;
import dev.scalpel.engine.edit.Edit;
import dev.scalpel.engine.edit.DeltaNetDecayEdit;
import dev.scalpel.engine.edit.HeadFinetuneEdit;
import dev.scalpel.engine.edit.LoraEdit;
import dev.scalpel.engine.edit.PrefactorEdit;
import dev.scalpel.engine.edit.TaskVectorEdit;
import dev.scalpel.engine.components.Decompositions;
import dev.scalpel.engine.edit.Slice;
import dev.scalpel.engine.model.CausalLM;
import dev.scalpel.engine.train.PerHeadRates;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;
import org.bytedeco.pytorch.Tensor;

/**
 * What a training run trains, as plain values: the one description of an edit that both {@code scalpel train --spec}
 * (JSON, snake_case, {@code "method"} naming the kind) and the workbench's Train dialog build. Defaults are filled in
 * by each record's constructor, so both get the same ones. {@link #parameterCount} is computed from the weight shapes
 * alone (cheap enough for every keystroke) and equals {@link Edit#parameterCount()} of {@link #build}.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "method")
@JsonSubTypes({
        @JsonSubTypes.Type(value = EditSpec.HeadLora.class, name = "head-lora"),
        @JsonSubTypes.Type(value = EditSpec.ModuleLora.class, name = "lora"),
        @JsonSubTypes.Type(value = EditSpec.HeadFinetune.class, name = "head-finetune"),
        @JsonSubTypes.Type(value = EditSpec.DeltaNetDecay.class, name = "deltanet-decay"),
        @JsonSubTypes.Type(value = EditSpec.Prefactor.class, name = "prefactor"),
        @JsonSubTypes.Type(value = EditSpec.FullFinetune.class, name = "full")})
@JsonIgnoreProperties(ignoreUnknown = false)
public sealed interface EditSpec {
    /** Every projection of a head: the default of the head methods. */
    List<String> ALL_PROJECTIONS = List.of("q", "k", "v", "o");

    /** What is trained, for job titles and status lines, e.g. "head-LoRA on L1H1,L2H1". */
    String title();

    /** Scalar parameters the edit will train, from the weight shapes. */
    long parameterCount(CausalLM model);

    /**
     * The fresh edit (it leaves the model unchanged until trained); the caller owns it.
     *
     * @param seed initialises LoRA's A matrices
     * @param maps resolves {@code per_head_lr.map} references (a file next to the spec, or a map the workbench shows)
     */
    Edit build(CausalLM model, long seed, References maps);

    /** What the files named in a spec (importance maps, decompositions) resolve to. */
    @FunctionalInterface
    interface References {
        /** The map {@code reference} names. */
        ImportanceMap map(String reference);

        /** The file {@code reference} names (a spec file's relative paths are resolved against its folder). */
        default Path file(String reference) {
            return Path.of(reference);
        }

        /** For specs that name no map. */
        References NONE = reference -> {
            throw new ScalpelException("No importance map '" + reference + "' is available here.");
        };
    }

    /**
     * Head-LoRA: rank-r adapters on the chosen heads' q/k/v rows and o_proj columns only.
     *
     * @param heads "L1H1,L2H*" or "all"
     * @param alpha scaling numerator (default 2 · rank)
     */
    record HeadLora(@JsonProperty("heads") String heads, @JsonProperty("projections") List<String> projections,
                    @JsonProperty("rank") Integer rank, @JsonProperty("alpha") Double alpha,
                    @JsonProperty("dropout") Double dropout, @JsonProperty("per_head_lr") PerHeadLr perHeadLr) implements EditSpec {
        public HeadLora {
            SpecChecks.require(heads, "heads");
            projections = projections != null ? List.copyOf(projections) : ALL_PROJECTIONS;
            rank = rank != null ? rank : 4;
            alpha = alpha != null ? alpha : 2.0 * rank;
            dropout = dropout != null ? dropout : 0.0;
            LoraEdit.checkSettings(rank, alpha, dropout);
        }

        @Override
        public String title() {
            return "head-LoRA on " + heads + (perHeadLr == null ? "" : " (per-head LR from " + perHeadLr.map() + ")");
        }

        /** Per weight and side, one adapter over the union of the heads' slices: A [r, in'] + B [out', r]. */
        @Override
        public long parameterCount(CausalLM model) {
            Map<String, List<Slice>> byWeight = new LinkedHashMap<>();
            for (Slice s : SpecChecks.slices(model, SpecChecks.heads(heads, model), projections)) {
                byWeight.computeIfAbsent(s.weightName() + "#" + s.dim(), k -> new ArrayList<>()).add(s);
            }
            long count = 0;
            for (List<Slice> slices : byWeight.values()) {
                Slice union = Slice.union(slices);     // grouped k/v heads share rows: counted once
                long[] shape = SpecChecks.shape(model, union.weightName());                         // [out, in]
                long rows = union.dim() == 0 ? union.size() : shape[0];
                long columns = union.dim() == 1 ? union.size() : shape[1];
                count += rank * (rows + columns);
            }
            return count;
        }

        /** With per_head_lr, each head's own factor rows (columns) at lr × its scale; heads the map freezes get no adapter. */
        @Override
        public Edit build(CausalLM model, long seed, References maps) {
            return LoraEdit.heads(model, SpecChecks.heads(heads, model), SpecChecks.projections(projections), rank, alpha, dropout,
                    seed, perHeadLr == null ? null : perHeadLr.scales(maps, model));
        }
    }

    /**
     * LoRA on every matrix named like one of {@code modules} (e.g. q_proj) in {@code layers} (null: every layer), as
     * PEFT's target_modules / layers_to_transform / rank_pattern.
     */
    record ModuleLora(@JsonProperty("modules") List<String> modules, @JsonProperty("layers") List<Integer> layers,
                      @JsonProperty("rank") Integer rank, @JsonProperty("rank_pattern") Map<String, Integer> rankPattern,
                      @JsonProperty("alpha") Double alpha, @JsonProperty("dropout") Double dropout) implements EditSpec {
        public ModuleLora {
            modules = modules != null ? List.copyOf(modules) : List.of("q_proj", "v_proj");
            layers = layers != null ? List.copyOf(layers) : null;
            rank = rank != null ? rank : 4;
            if (rankPattern != null && rankPattern.values().stream().anyMatch(java.util.Objects::isNull)) {
                throw new ScalpelException("rank_pattern " + rankPattern + " has a module without a rank; give each a number.");
            }
            rankPattern = rankPattern != null ? Map.copyOf(rankPattern) : Map.of();
            alpha = alpha != null ? alpha : 2.0 * rank;
            dropout = dropout != null ? dropout : 0.0;
            LoraEdit.checkSettings(rank, alpha, dropout);
            for (Map.Entry<String, Integer> p : rankPattern.entrySet()) {
                LoraEdit.checkSettings(p.getValue(), alpha, dropout);
            }
            if (modules.isEmpty()) {
                throw new ScalpelException("\"modules\" is empty; name the matrices to adapt, e.g. [\"q_proj\", \"v_proj\"].");
            }
        }

        @Override
        public String title() {
            return "LoRA on " + String.join(",", modules) + (layers == null ? "" : " in layers " + layers);
        }

        /** A [r, in] + B [out, r] per matched matrix, r from rank_pattern where a key is part of the name. */
        @Override
        public long parameterCount(CausalLM model) {
            long count = 0;
            int matched = 0;
            for (Map.Entry<String, Tensor> e : model.weights().asMap().entrySet()) {
                String name = e.getKey();
                int layer = ModuleNames.layerOf(name).orElse(-1);
                if (e.getValue().dim() == 2 && modules.stream().anyMatch(m -> name.contains("." + m + ".weight"))
                        && (layers == null || layers.contains(layer))) {
                    int r = rankPattern.entrySet().stream().filter(p -> name.contains(p.getKey())).map(Map.Entry::getValue)
                            .findFirst().orElse(rank);
                    count += r * (e.getValue().size(0) + e.getValue().size(1));
                    matched++;
                }
            }
            if (matched == 0) {
                throw new ScalpelException("No matrix matches the modules " + String.join(",", modules)
                        + (layers == null ? "" : " in layers " + layers) + "; use names like q_proj, v_proj, down_proj.");
            }
            return count;
        }

        @Override
        public Edit build(CausalLM model, long seed, References maps) {
            return LoraEdit.modules(model, modules, layers, rank, rankPattern, alpha, dropout, seed);
        }
    }

    /**
     * An isolated fine-tune of the heads' own q/k/v rows and o columns; with {@code per_head_lr}, each head at
     * lr × its scale from an importance map.
     */
    record HeadFinetune(@JsonProperty("heads") String heads, @JsonProperty("projections") List<String> projections,
                        @JsonProperty("per_head_lr") PerHeadLr perHeadLr) implements EditSpec {
        public HeadFinetune {
            SpecChecks.require(heads, "heads");
            projections = projections != null ? List.copyOf(projections) : ALL_PROJECTIONS;
        }

        @Override
        public String title() {
            return "head fine-tune of " + heads + (perHeadLr == null ? "" : " (per-head LR from " + perHeadLr.map() + ")");
        }

        /** One delta per head and projection, shaped like its slice ([D, in] rows or [out, D] columns). */
        @Override
        public long parameterCount(CausalLM model) {
            long count = 0;
            for (Slice s : SpecChecks.slices(model, SpecChecks.heads(heads, model), projections)) {
                long[] shape = SpecChecks.shape(model, s.weightName());                             // [out, in]
                count += s.size() * (s.dim() == 0 ? shape[1] : shape[0]);
            }
            return count;
        }

        @Override
        public Edit build(CausalLM model, long seed, References maps) {
            ToDoubleFunction<HeadId> scale = perHeadLr == null ? h -> 1.0 : perHeadLr.scales(maps, model);
            return HeadFinetuneEdit.of(model, SpecChecks.heads(heads, model), SpecChecks.projections(projections), scale);
        }
    }

    /** The decay (A_log, dt_bias) of Gated DeltaNet heads: two trainable numbers per head. */
    record DeltaNetDecay(@JsonProperty("heads") String heads) implements EditSpec {
        public DeltaNetDecay {
            SpecChecks.require(heads, "heads");
        }

        @Override
        public String title() {
            return "decay of " + heads;
        }

        @Override
        public long parameterCount(CausalLM model) {
            return 2L * SpecChecks.heads(heads, model).size();
        }

        @Override
        public Edit build(CausalLM model, long seed, References maps) {
            return DeltaNetDecayEdit.of(model, SpecChecks.heads(heads, model));
        }
    }

    /**
     * Every weight of the model trained (embeddings, norms and lm_head included), as a task vector over the frozen
     * base; with APOLLO the matrices' state is projected as in the paper's full-parameter fine-tunes.
     */
    record FullFinetune() implements EditSpec {
        @Override
        public String title() {
            return "full fine-tune of every weight";
        }

        @Override
        public long parameterCount(CausalLM model) {
            return model.weights().parameterCount();
        }

        @Override
        public Edit build(CausalLM model, long seed, References maps) {
            return TaskVectorEdit.fullFinetune(model);
        }
    }

    /**
     * Per-head learning rates from an importance map: after rank-normalising the map (1 = most important), heads above
     * {@code freeze_above} are frozen and the others train at lr × (1 − rank) + {@code floor}: weak heads fastest.
     */
    record PerHeadLr(@JsonProperty("map") String map, @JsonProperty("freeze_above") Double freezeAbove,
                     @JsonProperty("floor") Double floor) {
        public PerHeadLr {
            SpecChecks.require(map, "per_head_lr.map");
            freezeAbove = freezeAbove != null ? freezeAbove : 0.8;
            floor = floor != null ? floor : 0.05;
            if (!(freezeAbove >= 0 && freezeAbove <= 1) || !(floor >= 0 && floor <= 1)) {
                throw new ScalpelException("per_head_lr.freeze_above and floor must be in [0, 1], got " + freezeAbove + " and "
                        + floor + ".");
            }
        }

        /** Each head's learning-rate multiplier on {@code model} (0 = frozen), from the map this names. */
        ToDoubleFunction<HeadId> scales(References maps, CausalLM model) {
            return PerHeadRates.fromMap(maps.map(map), model.config(), freezeAbove, floor);
        }
    }

    /**
     * One trainable scalar on each of {@code indices} (JSON {@code "component"}: a number or a list of numbers) of
     * {@code module}'s weight: of the top-{@code components} SVD directions, or of a parameter decomposition file
     * ({@code decomposition}, from {@code scalpel decompose} or SPD), whose subcomponents are the ones the prefactor study
     * trains. Several subcomponents get one scalar each, trained together. Every scalar starts at {@code start}
     * (default 1, the unmodified model): the target CE rises on both sides of s = 1, so where training starts decides
     * which side it ends on ({@code scalpel demo} starts where the training loss is lowest).
     */
    record Prefactor(@JsonProperty("module") String module,
                     @JsonProperty("component") @JsonFormat(with = JsonFormat.Feature.ACCEPT_SINGLE_VALUE_AS_ARRAY)
                     List<Integer> indices,
                     @JsonProperty("components") Integer components,
                     @JsonProperty("decomposition") String decomposition,
                     @JsonProperty("start") Double start) implements EditSpec {
        public Prefactor {
            SpecChecks.require(module, "module");
            start = start != null ? start : 1.0;
            if (!Double.isFinite(start) || Math.abs(start) > 1e4) {
                throw new ScalpelException("\"start\" must be a number within ±10000, got " + start + ".");
            }
            indices = indices == null || indices.isEmpty() ? List.of(0) : List.copyOf(indices);
            if (decomposition != null && decomposition.isBlank()) {
                decomposition = null;
            }
            for (Integer c : indices) {
                if (c == null || c < 0) {
                    throw new ScalpelException("Component " + c + " does not exist; components are numbered from 0.");
                }
            }
            if (indices.stream().distinct().count() != indices.size()) {
                throw new ScalpelException("\"component\" names " + indices + ", with a component twice; name each once.");
            }
            int highest = indices.stream().mapToInt(Integer::intValue).max().orElseThrow();
            if (decomposition == null) {
                components = components != null ? components : Math.max(16, highest + 1);
                if (highest >= components) {
                    throw new ScalpelException("Component " + highest + " of a rank-" + components + " SVD does not exist (they are "
                            + "numbered 0 … " + (components - 1) + "); choose the component again.");
                }
            } else if (components != null) {
                throw new ScalpelException("\"components\" sets the rank of an SVD; a decomposition file has its own number of "
                        + "subcomponents, so leave it out.");
            }
        }

        /**
         * One component starting at 1: of the top-{@code components} SVD directions, or of {@code decomposition} when it
         * is given.
         */
        public Prefactor(String module, int component, Integer components, String decomposition) {
            this(module, List.of(component), components, decomposition, null);
        }

        /** The SVD form: component {@code component} of the top-{@code components} singular directions, starting at 1. */
        public Prefactor(String module, int component, Integer components) {
            this(module, List.of(component), components, null, null);
        }

        @Override
        public String title() {
            String what = decomposition == null ? "component" : "subcomponent";
            return "scalar prefactor" + (indices.size() == 1 ? " on " + what + " " + indices.get(0)
                    : "s on " + what + "s " + indices) + " of " + module;
        }

        /** One scalar per component, once the choice is checked against the weight. */
        @Override
        public long parameterCount(CausalLM model) {
            long[] shape = SpecChecks.shape(model, module + ".weight");                             // [out, in]
            if (shape.length != 2) {
                throw new ScalpelException("Module " + module + " is not a matrix; choose a matrix component.");
            }
            long rank = Math.min(shape[0], shape[1]);
            if (decomposition == null && components > rank) {
                throw new ScalpelException(module + " has at most " + rank + " rank-1 components, not " + components
                        + "; choose fewer \"components\".");
            }
            return indices.size();
        }

        @Override
        public Edit build(CausalLM model, long seed, References references) {
            parameterCount(model);
            Path file = decomposition == null ? null : references.file(decomposition);
            int highest = indices.stream().mapToInt(Integer::intValue).max().orElseThrow();
            try (Decompositions found = Decompositions.forComponent(model, module, highest,
                    decomposition == null ? components : 1, file)) {
                return PrefactorEdit.of(found.single(), indices, file == null ? "svd" : "decomposition " + file.getFileName())
                        .setAll(start);
            }
        }
    }
}
