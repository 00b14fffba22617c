package dev.scalpel.engine.job;

import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.edit.Edit;
import dev.scalpel.engine.edit.EditsFile;
import dev.scalpel.engine.edit.HeadFinetuneEdit;
import dev.scalpel.engine.edit.LoraEdit;
import dev.scalpel.engine.edit.PrefactorEdit;
import dev.scalpel.engine.edit.Slice;
import dev.scalpel.engine.export.PeftAdapterExporter;
import dev.scalpel.engine.files.Output;
import dev.scalpel.engine.files.OutputGuard;
import dev.scalpel.engine.files.OutputKind;
import dev.scalpel.engine.model.CheckpointNames;
import dev.scalpel.engine.model.LoadedModel;
import dev.scalpel.engine.model.ModelHash;
import dev.scalpel.engine.model.Tensors;
import dev.scalpel.engine.model.safetensors.DType;
import dev.scalpel.engine.model.safetensors.TensorSource;
import dev.scalpel.engine.spec.EditSpec;
import dev.scalpel.engine.spec.TrainSpec;
import dev.scalpel.engine.train.Apollo;
import dev.scalpel.engine.train.FineTuner;
import dev.scalpel.engine.train.Optimizer;
import dev.scalpel.engine.train.TokenCorpus;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code scalpel export-job}: a self-contained folder that performs a training spec's surgery with PyTorch's own
 * distributed stack (torchrun / accelerate / Slurm, transformers + PEFT) instead of the local engine:
 * <ul>
 *   <li>{@code job.json}: the model (path and content hash), the resolved training settings, and what the edit
 *       trains (a head-LoRA's row/column slices, a head fine-tune's parts and learning-rate scales, a prefactor's
 *       weight);</li>
 *   <li>{@code data.safetensors}: the token ids Scalpel would train on (target cut to the budget, general, retain; I32)
 *       and the target rows of steps 1 and 2, against which {@code run.py} checks its port of Scalpel's batching;</li>
 *   <li>{@code initial/}: the fresh edit as an edits file (the same initial values a local run starts from), and for
 *       the LoRA methods the same as a PEFT adapter;</li>
 *   <li>{@code inputs/}: the spec and the importance map or decomposition it names, as given;</li>
 *   <li>{@code run.py}, {@code requirements.txt}, {@code launch.sh}, {@code slurm.sbatch}, {@code README.md}.</li>
 * </ul>
 * {@code run.py} writes {@code result/}, which {@link JobResult} reads back.
 */
public final class TrainingJobExport {
    /** Steps whose target rows are written for run.py to check its batching against. */
    private static final int CHECKED_STEPS = 2;
    private TrainingJobExport() {}

    /** What was written, for the command's report. */
    public record Written(Path folder, String description, long parameterCount, long targetTokens) {}

    /**
     * What the job trains on and records: token ids (no BOS; general and retain may be null) and the input files to
     * keep in {@code inputs/} (file name → bytes: the spec, the importance map or decomposition it names).
     */
    public record Inputs(long[] target, long[] general, long[] retain, Map<String, byte[]> files) {}

    /**
     * Writes the job folder {@code out} (new, empty, or an earlier job folder) for the spec file {@code specFile} on
     * the model {@code m}: its texts and references are read relative to the spec, as {@code scalpel train} does.
     *
     * @throws ScalpelException when the spec asks for something the job cannot do the same way (see {@link #refusal})
     */
    public static Written write(LoadedModel m, TrainSpec spec, Path specFile, Path out) {
        refuseIfUnsupported(m, spec);
        Path specDir = specFile.toAbsolutePath().getParent();
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("spec.json", readBytes(specFile));
        for (String reference : referencedFiles(spec)) {
            Path file = specDir.resolve(reference);
            files.put(file.getFileName().toString(), readBytes(file));
        }
        Inputs inputs = new Inputs(TrainSpec.textTokens(m.tokenizer(), specDir, spec.target(), "target"),
                spec.general() != null ? TrainSpec.textTokens(m.tokenizer(), specDir, spec.general(), "general") : null,
                spec.retain() != null ? TrainSpec.textTokens(m.tokenizer(), specDir, spec.retain(), "retain") : null, files);
        return write(m, spec, TrainSpec.references(ModelHash.of(m.dir()), specDir), inputs, out);
    }

    /**
     * Writes the job folder {@code out} for {@code spec} on {@code m} from given token ids (how the workbench exports
     * the run its Train dialog sets up), the edit's references resolved by {@code references}.
     */
    public static Written write(LoadedModel m, TrainSpec spec, EditSpec.References references, Inputs inputs, Path out) {
        refuseIfUnsupported(m, spec);
        String modelHash = ModelHash.of(m.dir());
        long[] target = Arrays.copyOf(inputs.target(), Math.min(inputs.target().length, spec.tokenBudget()));
        long[] general = inputs.general();
        long[] retain = spec.retainWeight() > 0 ? inputs.retain() : null;
        int length = Math.min(spec.context(), target.length + 1);
        requireWindow(general, length, "general");
        requireWindow(retain, spec.context(), "retain");
        int bos = m.config().bosTokenId() != null ? m.config().bosTokenId() : 0;
        List<Path> models = List.of(m.dir());
        try (Edit edit = spec.edit().build(m.model(), spec.seed(), references)) {
            Map<String, TensorSource> projections = spec.optimizer().equals("adamw") ? Map.of() : apolloProjections(spec, edit, m);
            Output folder = OutputGuard.folder(OutputKind.JOB, out, models);
            EditsFile.write(out.resolve("initial").resolve("edits.json"), modelHash, List.of(edit), models);
            if (edit instanceof LoraEdit lora) {
                PeftAdapterExporter.write(m, lora, out.resolve("initial").resolve("adapter"));
            }
            Map<String, TensorSource> data = new LinkedHashMap<>();
            data.put("target", JobFolder.ints(target));
            if (general != null) {
                data.put("general", JobFolder.ints(general));
            }
            if (retain != null) {
                data.put("retain", JobFolder.ints(retain));
            }
            checkedRows(spec, target, general != null, bos, length).forEach((name, rows) -> data.put(name, JobFolder.ints(rows)));
            data.putAll(projections);
            folder.writeSafetensors(out.resolve("data.safetensors"), data, Map.of("format", JobFolder.FORMAT));
            inputs.files().forEach((name, bytes) -> folder.writeBytes(out.resolve("inputs").resolve(name), bytes));
            JobFolder.writeScripts(folder, out);
            Map<String, Object> job = JobFolder.header("train", m, modelHash);
            job.put("bos", bos);
            job.put("vocab_size", m.config().vocabSize());
            job.put("spec", settings(spec));
            if (!spec.optimizer().equals("adamw")) {
                job.put("apollo", apolloSettings(spec, edit));
            }
            job.put("tokens", tokenCounts(target, general, retain));
            job.put("edit", editDescription(edit, m));
            JobFolder.writeJob(folder, out, job);
            return new Written(out, edit.describe(), edit.parameterCount(), target.length);
        }
    }

    private static void refuseIfUnsupported(LoadedModel m, TrainSpec spec) {
        String problem = refusal(m, spec);
        if (problem != null) {
            throw new ScalpelException(problem);
        }
    }

    /**
     * Why {@code spec} cannot be exported with the same semantics as a local run, in words with what to do instead, or
     * null when it can.
     */
    public static String refusal(LoadedModel m, TrainSpec spec) {
        if (spec.objective() == FineTuner.Objective.MATCH_TEACHER) {
            return "export-job cannot run the match-teacher objective yet (run.py has no steering-vector teacher); "
                    + "train it locally with scalpel train.";
        }
        if (spec.edit() instanceof EditSpec.HeadLora h && h.perHeadLr() != null) {
            return "export-job cannot train head-LoRA with per-head learning rates yet (run.py's PEFT optimizer has one rate "
                    + "per factor, not per head row); train it locally with scalpel train, or drop per_head_lr.";
        }
        if (spec.edit() instanceof EditSpec.FullFinetune) {
            return "export-job cannot run a full fine-tune yet (run.py trains PEFT adapters and head slices); train it "
                    + "locally with scalpel train.";
        }
        if (spec.edit() instanceof EditSpec.DeltaNetDecay) {
            return "export-job cannot train the deltanet-decay method yet; train it locally with scalpel train.";
        }
        if (!m.config().checkpointNames().equals(CheckpointNames.CAUSAL_LM)) {
            return "export-job needs a causal-LM checkpoint; this one is a multimodal model (its text model under "
                    + m.config().checkpointNames().textPrefix() + "), which run.py does not load. Train it locally with "
                    + "scalpel train, then export the edit with scalpel export.";
        }
        if (m.config().architecture().family().storesTransposedMatrices()) {
            return "export-job needs a model whose matrices are nn.Linear [out, in] (Llama, Mistral, Qwen, Gemma, Phi-3, "
                    + "OLMo 2); " + m.config().architecture().modelType() + " stores Conv1D matrices. Train it locally with scalpel train.";
        }
        return null;
    }

    /** APOLLO's hyper-parameters as the spec sets them, and per trainable matrix its rank and scaling (see {@link Apollo#plan}). */
    private static Map<String, Object> apolloSettings(TrainSpec spec, Edit edit) {
        Apollo.Options o = spec.apolloOptions();
        Map<String, Object> a = new LinkedHashMap<>();
        a.put("rank", o.rank());
        a.put("refresh_period", o.refreshPeriod());
        a.put("scale", o.scale().isPresent() ? o.scale().getAsDouble() : null);   // null: sqrt(k / r) per matrix
        a.put("norm_growth_limit", o.normGrowthLimit());
        a.put("beta1", o.beta1());
        a.put("beta2", o.beta2());
        a.put("eps", o.eps());
        a.put("weight_decay", o.weightDecay());
        a.put("tensor_wise", o.tensorWise());
        Map<String, Object> matrices = new LinkedHashMap<>();
        List<Optimizer.Trainable> trainables = edit.trainables();
        for (int i = 0; i < trainables.size(); i++) {
            long[] shape = Tensors.shape(trainables.get(i).value());
            if (shape.length >= 2) {
                Apollo.MatrixPlan plan = Apollo.plan(shape, o);
                matrices.put(Integer.toString(i), Map.of("rank", plan.rank(), "tensor_wise", plan.tensorWise()));
            }
        }
        a.put("matrices", matrices);
        a.put("decay", trainables.stream().map(Optimizer.Trainable::decay).toList());   // where weight decay applies
        return a;
    }

    /**
     * Every projection APOLLO will draw for the trainable matrices, {@code apollo.<index>.<refresh>} [r, k], so run.py
     * projects with exactly these. run.py trains a head-LoRA's adapters dense (zero outside the heads), which only has
     * APOLLO's semantics while the dense matrix's projected dimension k is the sliced one's; otherwise it is refused.
     */
    private static Map<String, TensorSource> apolloProjections(TrainSpec spec, Edit edit, LoadedModel m) {
        Apollo.Options o = spec.apolloOptions();
        Map<String, TensorSource> out = new LinkedHashMap<>();
        List<Optimizer.Trainable> trainables = edit.trainables();
        long refreshes = (spec.steps() - 1L) / o.refreshPeriod() + 1;
        for (int i = 0; i < trainables.size(); i++) {
            Optimizer.Trainable t = trainables.get(i);
            long[] shape = Tensors.shape(t.value());
            if (shape.length < 2 || t.lrScale() == 0) {
                continue;
            }
            long k = Apollo.projectedDimension(shape);
            if (edit instanceof LoraEdit lora && k != Apollo.projectedDimension(denseShape(lora, t.name(), m))) {
                throw new ScalpelException("APOLLO on " + t.name() + " projects " + k + " dimensions of the head slice but the "
                        + "job's dense PEFT adapter would project another number; export with \"optimizer\": \"adamw\" or a "
                        + "LoRA rank no larger than the head width.");
            }
            int rank = Apollo.plan(shape, o).rank();
            for (long refresh = 0; refresh < refreshes; refresh++) {
                float[] values = Apollo.projectionValues(o.seed(), i, refresh, rank, k);
                out.put("apollo." + i + "." + refresh, TensorSource.ofFloats(DType.F32,
                        new long[] {rank, k}, values));
            }
        }
        return out;
    }

    /** The shape of a LoRA trainable ({@code <weight>.lora_A} / {@code .lora_B}) as the dense PEFT adapter holds it. */
    private static long[] denseShape(LoraEdit lora, String trainable, LoadedModel m) {
        boolean isA = trainable.endsWith(".lora_A");
        String weight = trainable.substring(0, trainable.length() - ".lora_A".length());
        long[] w = Tensors.shape(m.model().weights().get(weight));            // [out, in]
        int rank = lora.moduleRanks().get(weight.substring(0, weight.length() - ".weight".length()));
        return isA ? new long[] {rank, w[1]} : new long[] {w[0], rank};
    }

    private static void requireWindow(long[] tokens, int length, String what) {
        if (tokens != null && tokens.length < length - 1) {
            throw new ScalpelException("The " + what + " text has " + tokens.length + " tokens, fewer than one window of "
                    + length + "; give more text or a shorter context.");
        }
    }

    /** The training settings, resolved (defaults filled in), with the names run.py reads. */
    private static Map<String, Object> settings(TrainSpec spec) {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("objective", spec.objective().jsonName());
        s.put("general_ratio", spec.generalRatio());
        s.put("retain_weight", spec.retainWeight());
        s.put("token_budget", spec.tokenBudget());
        s.put("steps", spec.steps());
        s.put("batch_size", spec.batchSize());
        s.put("context", spec.context());
        s.put("optimizer", spec.optimizer());
        s.put("lr", spec.lr());
        s.put("seed", spec.seed());
        s.put("frozen_context", spec.frozenContext());
        return s;
    }

    private static Map<String, Object> tokenCounts(long[] target, long[] general, long[] retain) {
        Map<String, Object> t = new LinkedHashMap<>();
        t.put("target", target.length);
        t.put("general", general == null ? null : general.length);
        t.put("retain", retain == null ? null : retain.length);
        return t;
    }

    /** What run.py needs to place the edit: kind, and per kind the slices, parts or weight it trains. */
    private static Map<String, Object> editDescription(Edit edit, LoadedModel m) {
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("kind", edit.kind());
        e.put("description", edit.describe());
        e.put("parameter_count", edit.parameterCount());
        if (edit instanceof LoraEdit lora) {
            List<Map<String, Object>> adapters = new ArrayList<>();
            for (String weight : lora.weightNames()) {
                Slice slice = lora.slice(weight);
                Map<String, Object> a = new LinkedHashMap<>();
                a.put("weight", weight);
                a.put("slice_dim", slice == null ? null : slice.dim());          // 0: lora_B rows, 1: lora_A columns
                a.put("slice_indices", slice == null ? null : slice.indices());
                adapters.add(a);
            }
            e.put("adapters", adapters);
        } else if (edit instanceof HeadFinetuneEdit finetune) {
            Map<String, Slice> slices = finetune.slicesByTensor();
            List<Map<String, Object>> parts = new ArrayList<>();
            for (Optimizer.Trainable t : edit.trainables()) {
                Slice slice = slices.get(t.name());
                Map<String, Object> p = new LinkedHashMap<>();
                p.put("tensor", t.name());
                p.put("weight", slice.weightName());
                p.put("dim", slice.dim());
                p.put("indices", slice.indices());
                p.put("out_features", m.model().weights().get(slice.weightName()).size(0));
                p.put("lr_scale", t.lrScale());
                parts.add(p);
            }
            e.put("parts", parts);
        } else if (edit instanceof PrefactorEdit prefactor) {
            e.put("weight", prefactor.weightNames().get(0));
        } else {
            throw new IllegalStateException("no job description for edit kind " + edit.kind());
        }
        return e;
    }

    /** The target rows of the first steps, exactly as {@link FineTuner} draws them. */
    private static Map<String, long[][]> checkedRows(TrainSpec spec, long[] target, boolean hasGeneral, int bos, int length) {
        int[] ints = Arrays.stream(target).mapToInt(t -> (int) t).toArray();
        TokenCorpus corpus = new TokenCorpus(Map.of("text", ints), Map.of("text", 1.0), bos);
        double ratio = hasGeneral ? spec.generalRatio() : 0;
        Map<String, long[][]> rows = new LinkedHashMap<>();
        for (int step = 1; step <= Math.min(CHECKED_STEPS, spec.steps()); step++) {
            int targetRows = spec.batchSize() - FineTuner.generalRows(step, spec.batchSize(), ratio);
            if (targetRows > 0) {
                rows.put("check.target." + step, corpus.batch(spec.seed(), step, targetRows, length));
            }
        }
        return rows;
    }

    /** The importance map or decomposition file a spec names, as written in it. */
    private static List<String> referencedFiles(TrainSpec spec) {
        List<String> named = new ArrayList<>();
        if (spec.edit() instanceof EditSpec.HeadFinetune f && f.perHeadLr() != null) {
            named.add(f.perHeadLr().map());
        }
        if (spec.edit() instanceof EditSpec.Prefactor p && p.decomposition() != null) {
            named.add(p.decomposition());
        }
        return named;
    }

    private static byte[] readBytes(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new ScalpelException("Cannot read " + file + " (" + e.getMessage() + "); check the path in the spec.", e);
        }
    }


}
