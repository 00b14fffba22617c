package dev.scalpel.app.ui.train;

import dev.scalpel.engine.api.HeadId;
import dev.scalpel.engine.api.HeadSet;
import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.components.ModuleNames;
import dev.scalpel.engine.components.RankOneDecomposition;
import dev.scalpel.engine.edit.Edit;
import dev.scalpel.engine.edit.HeadFinetuneEdit;
import dev.scalpel.engine.edit.HeadLayout;
import dev.scalpel.engine.edit.LoraEdit;
import dev.scalpel.engine.edit.PrefactorEdit;
import dev.scalpel.engine.edit.Slice;
import dev.scalpel.engine.model.CausalLM;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Map.Entry;
import java.util.function.ToDoubleFunction;
import org.bytedeco.pytorch.Tensor;

/**
 * The edit a training run will train, as plain values decided on the UI thread: it counts the edit's trainable
 * parameters from the weight shapes alone (cheap enough to redo on every keystroke, even on a large model) and builds
 * the edit itself on the job's thread. {@link #parameterCount} equals {@link Edit#parameterCount()} of {@link #build}.
 */
sealed interface EditRecipe {
    /** Head methods train all four projections of a head, as the CLI's default. */
    List<HeadLayout.Projection> PROJECTIONS = List.of(HeadLayout.Projection.values());

    /** What is trained, for job titles and the status line, e.g. "head-LoRA on L1H1,L2H1". */
    String title();

    /** Scalar parameters the edit will train. */
    long parameterCount(CausalLM model);

    /** The fresh edit (it leaves the model unchanged until trained); the caller owns it. */
    Edit build(CausalLM model);

    /** Head-LoRA of rank {@code rank} (α = 2r, as the CLI) on q, k, v and o of {@code heads}. */
    record HeadLora(HeadSet heads, int rank, long seed) implements EditRecipe {
        @Override
        public String title() {
            return "head-LoRA on " + heads;
        }

        /** Per weight and side, one adapter over the union of the heads' slices: A [r, in'] + B [out', r]. */
        @Override
        public long parameterCount(CausalLM model) {
            Map<String, List<Slice>> byWeight = new LinkedHashMap<>();
            for (Slice s : slices(model, heads)) {
                byWeight.computeIfAbsent(s.weightName() + "#" + s.dim(), k -> new ArrayList<>()).add(s);
            }
            long count = 0;
            for (List<Slice> slices : byWeight.values()) {
                Slice union = Slice.union(slices);     // grouped k/v heads share rows: counted once
                Tensor w = weight(model, union.weightName());                                 // [out, in]
                long rows = union.dim() == 0 ? union.size() : w.size(0);
                long columns = union.dim() == 1 ? union.size() : w.size(1);
                count += rank * (rows + columns);
            }
            return count;
        }

        @Override
        public Edit build(CausalLM model) {
            return LoraEdit.heads(model, heads, PROJECTIONS, rank, 2.0 * rank, 0.0, seed);
        }
    }

    /**
     * LoRA of rank {@code rank} (α = 2r) on every matrix named like one of {@code modules} (e.g. q_proj) in
     * {@code layers} (null: every layer).
     */
    record ModuleLora(List<String> modules, List<Integer> layers, int rank, long seed) implements EditRecipe {
        @Override
        public String title() {
            return "LoRA on " + String.join(",", modules) + (layers == null ? "" : " in layers " + layers);
        }

        /** A [r, in] + B [out, r] per matched matrix. */
        @Override
        public long parameterCount(CausalLM model) {
            long count = 0;
            int matched = 0;
            for (Entry<String, Tensor> e : model.weights().asMap().entrySet()) {
                if (isTarget(e.getKey(), e.getValue())) {
                    count += rank * (e.getValue().size(0) + e.getValue().size(1));
                    matched++;
                }
            }
            if (matched == 0) {
                throw new ScalpelException("No matrix matches the modules " + String.join(",", modules)
                        + (layers == null ? "" : " in layers " + layers) + "; use names like q_proj, v_proj, down_proj.");
            }
            return count;
        }

        /** The matrices {@link LoraEdit#modules} adapts. */
        private boolean isTarget(String name, Tensor weight) {
            int layer = ModuleNames.layerOf(name).orElse(-1);
            return weight.dim() == 2 && modules.stream().anyMatch(m -> name.contains("." + m + ".weight"))
                    && (layers == null || layers.contains(layer));
        }

        @Override
        public Edit build(CausalLM model) {
            return LoraEdit.modules(model, modules, layers, rank, Map.of(), 2.0 * rank, 0.0, seed);
        }
    }

    /**
     * An isolated fine-tune of the heads' own q/k/v rows and o columns, each head at lr × {@code lrScale(head)}.
     *
     * @param lrSource where per-head rates come from, e.g. "de · gradient", or null for a uniform rate
     */
    record HeadFinetune(HeadSet heads, ToDoubleFunction<HeadId> lrScale, String lrSource) implements EditRecipe {
        @Override
        public String title() {
            return "head fine-tune of " + heads + (lrSource == null ? "" : " (per-head LR from " + lrSource + ")");
        }

        /** One delta per head and projection, shaped like its slice ([D, in] rows or [out, D] columns). */
        @Override
        public long parameterCount(CausalLM model) {
            long count = 0;
            for (Slice s : slices(model, heads)) {
                Tensor w = weight(model, s.weightName());                                     // [out, in]
                count += s.size() * (s.dim() == 0 ? w.size(1) : w.size(0));
            }
            return count;
        }

        @Override
        public Edit build(CausalLM model) {
            return HeadFinetuneEdit.of(model, heads, PROJECTIONS, lrScale);
        }
    }

    /** One trainable scalar on component {@code index} of the top-{@code rank} SVD of {@code module}'s weight. */
    record Prefactor(String module, int index, int rank) implements EditRecipe {
        @Override
        public String title() {
            return "scalar prefactor on component " + index + " of " + module;
        }

        /** One scalar, once the choice is checked against the weight. */
        @Override
        public long parameterCount(CausalLM model) {
            Tensor w = weight(model, module + ".weight");                                   // [out, in]
            if (w.dim() != 2) {
                throw new ScalpelException("Module " + module + " is not a matrix; choose a matrix component.");
            }
            long components = Math.min(w.size(0), w.size(1));
            if (rank < 1 || rank > components || index < 0 || index >= rank) {
                throw new ScalpelException("Component " + index + " of a rank-" + rank + " SVD does not exist for " + module
                        + " (at most " + components + " components); choose the component again.");
            }
            return 1;
        }

        @Override
        public Edit build(CausalLM model) {
            try (RankOneDecomposition svd = RankOneDecomposition.svd(module, weight(model, module + ".weight"), rank)) {
                return PrefactorEdit.of(svd, List.of(index), "svd");
            }
        }
    }

    /** The slices of every head's projections, in head then projection order. */
    private static List<Slice> slices(CausalLM model, HeadSet heads) {
        HeadLayout layout = new HeadLayout(model.config());
        List<Slice> slices = new ArrayList<>();
        for (HeadId h : heads.heads()) {
            for (HeadLayout.Projection p : PROJECTIONS) {
                slices.add(layout.slice(h, p));
            }
        }
        return slices;
    }

    private static Tensor weight(CausalLM model, String name) {
        Tensor w = model.weights().get(name);
        if (w == null) {
            throw new ScalpelException("This model has no weight " + name + ".");
        }
        return w;
    }
}
