package dev.scalpel.engine.decompose;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.components.ModuleNames;
import dev.scalpel.engine.files.Output;
import dev.scalpel.engine.model.CausalLM;
import dev.scalpel.engine.model.CheckpointWriter;
import dev.scalpel.engine.model.ForwardContext;
import dev.scalpel.engine.model.HookPoints;
import dev.scalpel.engine.model.Hooks;
import dev.scalpel.engine.model.Tensors;
import dev.scalpel.engine.model.safetensors.SafetensorsFile;
import dev.scalpel.engine.model.safetensors.TensorFloats;
import dev.scalpel.engine.spec.DecomposeSpec;
import dev.scalpel.engine.train.AdamW;
import dev.scalpel.engine.train.LearningRateSchedule;
import dev.scalpel.engine.train.Optimizer;
import dev.scalpel.engine.train.TokenCorpus;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Trains an SPD-style decomposition of some of a model's matrices (Braun, Bushnaq et al., arXiv 2506.20790): per matrix
 * C rank-1 subcomponents and a causal-importance MLP, with three losses, each reported every step:
 * <ul>
 *   <li><b>faithfulness</b> ‖W − Σ_c u_c v_cᵀ‖² / numel, summed over the matrices (weight {@code faithfulness_coeff});</li>
 *   <li><b>stochastic reconstruction</b>: KL(target ‖ masked) of the next-token distributions, the masked model having
 *   each subcomponent scaled by m = g + (1 − g)·r, r ~ U(0, 1), the residual Δ by δ ~ U(0, 1), and each position
 *   routed through a random subset of the matrices — so a subcomponent the CI function calls unimportant (g ≈ 0) on an
 *   input must be removable there in any combination;</li>
 *   <li><b>importance minimality</b> Σ_c (g_c + ε)^p per position with p annealed from 2 to {@code p_final} (weight
 *   {@code importance_coeff}), which pushes g to 0 wherever it can.</li>
 * </ul>
 * The model below the lowest decomposed layer never changes, so each step runs the target once (no gradient), keeps
 * the residual stream entering that layer, and runs only the layers from there with the masks. A faithfulness-only
 * warm-up fits U·V to W first. The run checkpoints into its output file (plus an {@code .optimizer.safetensors}
 * beside it) and resumes from it; given a seed it is deterministic, resumed or not (each step reseeds from the seed
 * and the step number).
 */
public final class ParameterDecomposer {
    /** What one step reported: the phase ("warm-up" or "decompose"), each loss and the mean active count. */
    public record Progress(long step, long totalSteps, String phase, double stochastic, double importance,
                           double faithfulness, double p, double activePerToken, double lr) {}

    /**
     * @param step      steps done over every run that led here (warm-up included)
     * @param completed whether every step is done (false: stopped, checkpointed)
     * @param resumedAt the step a checkpoint was resumed from, 0 for a fresh run
     */
    public record Result(long step, long totalSteps, boolean completed, long resumedAt, double seconds, Progress last) {}

    /** Warm-up learning rate (SPD's faithfulness warm-up). */
    private static final double WARMUP_LR = 1e-3;
    /** ε of the minimality loss, (g + ε)^p, keeping the gradient of p < 1 finite at g = 0. */
    private static final double EPSILON = 1e-12;
    /** A subcomponent counts as active at a position when its causal importance exceeds this. */
    public static final double ACTIVE = 0.1;

    private static final ObjectMapper JSON = new ObjectMapper();

    private final CausalLM model;
    private final String modelHash;
    private final DecomposeSpec spec;
    private final TokenCorpus data;
    private final Output out;
    private final Path file;
    private final List<String> modules;
    private final int firstLayer;

    public ParameterDecomposer(CausalLM model, String modelHash, DecomposeSpec spec, TokenCorpus data, Output out) {
        this.model = model;
        this.modelHash = modelHash;
        this.spec = spec;
        this.data = data;
        this.out = out;
        this.file = Path.of(spec.out());
        this.modules = ModuleNames.matching(model.weights(), spec.modules());
        int lowest = Integer.MAX_VALUE;
        for (String m : modules) {
            lowest = Math.min(lowest, ModuleNames.layerOf(m).orElseThrow(() -> new ScalpelException(
                    m + " is not inside a block; decompose the blocks' matrices (attention and MLP projections).")));
        }
        this.firstLayer = lowest;
        if (spec.context() > model.config().maxPositions()) {
            throw new ScalpelException("context (--context) is " + spec.context() + ", but the model has " + model.config().maxPositions()
                    + " positions.");
        }
    }

    /** The matrices decomposed, e.g. [model.layers.5.self_attn.v_proj]. */
    public List<String> modules() {
        return modules;
    }

    /** Runs (or resumes) until every step is done or {@code stop} says so; the output file then holds the result. */
    public Result run(java.util.function.Consumer<Progress> listener, BooleanSupplier stop) {
        long started = System.nanoTime();
        long total = (long) spec.warmupSteps() + spec.steps();
        Checkpoint resumed = resume();
        List<ModuleDecomposition> ds = resumed != null ? resumed.modules() : fresh();
        List<Optimizer.Trainable> all = new ArrayList<>();
        ds.forEach(d -> all.addAll(d.trainables(false)));
        try (AdamW adam = new AdamW(all, new AdamW.Options(spec.lr(), 0.9, 0.999, 1e-8, 0.0))) {
            long step = 0;
            Progress last = null;
            if (resumed != null) {
                step = resumed.step();
                restoreMoments(adam, step - spec.warmupSteps());
            } else {
                last = warmUp(ds, listener);
                step = spec.warmupSteps();
                checkpoint(ds, adam, step, last);
            }
            var schedule = new LearningRateSchedule(spec.lr(), 0, spec.steps(), 0.1);
            while (step < total && !stop.getAsBoolean()) {
                long i = step - spec.warmupSteps();                                         // main step, 0-based
                last = decomposeStep(ds, adam, i, schedule.at(i));
                step++;
                listener.accept(last);
                if (step % spec.checkpointEvery() == 0 || step == total) {
                    checkpoint(ds, adam, step, last);
                }
            }
            if (step < total && step % spec.checkpointEvery() != 0) {
                checkpoint(ds, adam, step, last);
            }
            return new Result(step, total, step == total, resumed != null ? resumed.step() : 0, (System.nanoTime() - started) / 1e9, last);
        } finally {
            ds.forEach(ModuleDecomposition::close);
        }
    }

    private List<ModuleDecomposition> fresh() {
        torch.manual_seed(spec.seed());
        List<ModuleDecomposition> ds = new ArrayList<>();
        for (String m : modules) {
            long[] shape = model.weights().shape(m + ".weight");                               // [d_out, d_in]
            ds.add(ModuleDecomposition.initial(m, shape[1], shape[0], spec.components(), spec.ciHidden(), model.device()));
        }
        return ds;
    }

    /** Faithfulness only, on U and V, at a constant rate: Σ U_c V_cᵀ starts close to W. */
    private Progress warmUp(List<ModuleDecomposition> ds, java.util.function.Consumer<Progress> listener) {
        List<Optimizer.Trainable> uv = new ArrayList<>();
        ds.forEach(d -> uv.addAll(d.trainables(true)));
        Progress last = null;
        try (AdamW warm = new AdamW(uv, new AdamW.Options(WARMUP_LR, 0.9, 0.999, 1e-8, 0.0))) {
            for (int s = 0; s < spec.warmupSteps(); s++) {
                try (PointerScope scope = new PointerScope()) {
                    Tensor faith = faithfulness(ds);
                    faith.backward();
                    warm.step(WARMUP_LR);
                    warm.zeroGrad();
                    last = new Progress(s + 1, (long) spec.warmupSteps() + spec.steps(), "warm-up", Double.NaN, Double.NaN,
                            faith.item_double(), 2.0, Double.NaN, WARMUP_LR);
                }
                listener.accept(last);
            }
        }
        return last;
    }

    /** One decomposition step on batch {@code i}: the three losses, one AdamW update. */
    private Progress decomposeStep(List<ModuleDecomposition> ds, AdamW adam, long i, double lr) {
        torch.manual_seed(spec.seed() * 1_000_003L + spec.warmupSteps() + i);
        double p = spec.pAt(i);
        try (PointerScope scope = new PointerScope()) {
            Tensor ids = Tensors.ids(data.batch(spec.seed(), i, spec.batchSize(), spec.context()), model.device());  // [B, n]
            Target target = target(ids);
            MaskedComponents masked = new MaskedComponents(ds, MaskedComponents.Mode.STOCHASTIC);
            Tensor logits = model.forwardFromLayer(firstLayer, target.residual(), ForwardContext.withOverlay(masked)); // [B, n, V]
            target.residual().releaseReference();
            Tensor stochastic = kl(target.logProbs(), logits);
            Tensor importance = null;
            double active = 0;
            long positions = ids.numel();
            for (MaskedComponents.Importances g : masked.importances().values()) {
                Tensor sum = g.upper().add(new Scalar(EPSILON)).pow(new Scalar(p)).sum().div(new Scalar((double) positions));
                importance = importance == null ? sum : importance.add(sum);
                active += g.lower().detach().gt(new Scalar(ACTIVE)).sum().item_double() / positions;
            }
            Tensor faith = faithfulness(ds);
            Tensor loss = stochastic.add(importance.mul(new Scalar(spec.importanceCoeff())))
                    .add(faith.mul(new Scalar(spec.faithfulnessCoeff())));
            double value = loss.item_double();
            if (!Double.isFinite(value)) {
                throw new ScalpelException("The decomposition diverged at step " + (spec.warmupSteps() + i + 1) + " (loss " + value
                        + "); " + file + " keeps the last checkpoint. Resume with a lower --lr or --importance-coeff.");
            }
            loss.backward();
            adam.step(lr);
            adam.zeroGrad();
            return new Progress(spec.warmupSteps() + i + 1, (long) spec.warmupSteps() + spec.steps(), "decompose",
                    stochastic.item_double(), importance.item_double(), faith.item_double(), p, active / ds.size(), lr);
        }
    }

    /** The target's next-token log-probabilities [B, n, V] and the residual stream entering the first decomposed layer. */
    private record Target(Tensor logProbs, Tensor residual) {}

    private Target target(Tensor ids) {
        try (NoGradGuard g = new NoGradGuard()) {
            Hooks hooks = new Hooks();
            String point = HookPoints.residPre(firstLayer);
            Map<String, Tensor> captured = hooks.capture(point);
            Tensor logProbs = torch.log_softmax(model.forward(ids, ForwardContext.withHooks(hooks)), -1);
            return new Target(logProbs, captured.get(point));
        }
    }

    /** Mean over positions of KL(p ‖ q) from the target log-probabilities and the masked logits. */
    static Tensor kl(Tensor targetLogProbs, Tensor logits) {
        Tensor logQ = torch.log_softmax(logits, -1);                                           // [B, n, V]
        return targetLogProbs.exp().mul(targetLogProbs.sub(logQ)).sum(new long[] {-1}, false, new org.bytedeco.pytorch.ScalarTypeOptional())
                .mean();
    }

    /** Σ over matrices of ‖W − (V·U)ᵀ‖², divided by their total number of elements. */
    private Tensor faithfulness(List<ModuleDecomposition> ds) {
        Tensor sum = null;
        long n = 0;
        for (ModuleDecomposition d : ds) {
            Tensor w = model.weights().get(d.weightName());
            Tensor sq = d.residual(w).pow(new Scalar(2)).sum();
            sum = sum == null ? sq : sum.add(sq);
            n += w.numel();
        }
        return sum.div(new Scalar((double) n));
    }

    // ---- checkpoints -------------------------------------------------------------------------------------------

    private record Checkpoint(List<ModuleDecomposition> modules, long step) {}

    /** The optimizer state beside the output: {@code NAME.optimizer.safetensors}. */
    public static Path optimizerFile(Path decomposition) {
        String name = decomposition.getFileName().toString();
        return decomposition.resolveSibling(name.substring(0, name.length() - ".safetensors".length()) + ".optimizer.safetensors");
    }

    private void checkpoint(List<ModuleDecomposition> ds, AdamW adam, long step, Progress last) {
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("model_hash", modelHash);
        meta.put("spec", DecompositionFile.json(spec));
        meta.put("step", Long.toString(step));
        if (last != null) {
            meta.put("progress", DecompositionFile.json(last));
        }
        Map<String, Tensor> moments = adam.state();
        Map<String, String> optimizerMeta = new LinkedHashMap<>(meta);
        optimizerMeta.put("format", DecompositionFile.FORMAT + "+optimizer");
        optimizerMeta.put("optimizer_step", Long.toString(adam.step()));
        // the optimizer first: a kill between the two writes leaves an older decomposition, which then refuses the newer state
        out.writeSafetensors(optimizerFile(file), CheckpointWriter.toSources(moments, out), optimizerMeta);
        DecompositionFile.write(out, file, ds, meta);
    }

    /** The checkpoint in the output file when it was made by this spec on this model, else null (a fresh start). */
    private Checkpoint resume() {
        if (!Files.isRegularFile(file)) {
            return null;
        }
        Map<String, String> meta;
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            meta = f.metadata();
        }
        if (!DecompositionFile.FORMAT.equals(meta.get("format"))) {
            return null;                                                                     // the output guard decides about foreign files
        }
        if (!modelHash.equals(meta.get("model_hash")) || !sameSpec(meta.get("spec"))) {
            throw new ScalpelException(file + " is a decomposition made with other settings or of another model; "
                    + "choose a new --out, or delete it to start over.");
        }
        DecompositionFile.Loaded loaded = DecompositionFile.read(file, model);
        loaded.modules().forEach(d -> d.tensors().values().forEach(t -> t.requires_grad_(true)));
        return new Checkpoint(loaded.modules(), loaded.step());
    }

    private boolean sameSpec(String json) {
        try {
            return json != null && JSON.readValue(json, DecomposeSpec.class).equals(spec);
        } catch (IOException e) {
            return false;
        }
    }

    /** AdamW's moments and step as the checkpoint left them. */
    private void restoreMoments(AdamW adam, long optimizerStep) {
        Path f = optimizerFile(file);
        if (!Files.isRegularFile(f)) {
            throw new ScalpelException(file + " has no optimizer state beside it (" + f.getFileName() + "); delete it to start over.");
        }
        try (SafetensorsFile moments = SafetensorsFile.open(f); NoGradGuard g = new NoGradGuard()) {
            if (!Long.toString(optimizerStep).equals(moments.metadata().get("optimizer_step"))) {
                throw new ScalpelException(f + " is from another step than " + file + " (the run was killed between the two "
                        + "writes); delete both to start over.");
            }
            adam.state().forEach((name, tensor) -> copyInto(tensor, moments, name));
        }
        adam.resumeAt(optimizerStep);
    }

    private static void copyInto(Tensor target, SafetensorsFile file, String name) {
        if (!file.contains(name)) {
            throw new ScalpelException(file.path() + " lacks " + name + "; delete it and the decomposition to start over.");
        }
        float[] values = TensorFloats.toFloatArray(file.info(name), file.data(name));
        try (PointerScope scope = new PointerScope()) {
            target.copy_(Tensors.floats(values, dev.scalpel.engine.model.ComputeDevice.of(target)).view(Tensors.shape(target)));
        }
    }
}
