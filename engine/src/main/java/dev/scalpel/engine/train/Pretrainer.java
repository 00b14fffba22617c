package dev.scalpel.engine.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.api.TrainingProgress;
import dev.scalpel.engine.model.CausalLM;
import dev.scalpel.engine.model.CheckpointWriter;
import dev.scalpel.engine.model.ForwardContext;
import dev.scalpel.engine.model.Tensors;
import dev.scalpel.engine.files.Output;
import dev.scalpel.engine.model.safetensors.SafetensorsFile;
import dev.scalpel.engine.model.safetensors.TensorFloats;
import dev.scalpel.engine.model.safetensors.TensorSource;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * Trains every weight of a model on next-token prediction: AdamW, warm-up + cosine schedule, gradient-norm clipping,
 * a token (or wall-time) budget, checkpoints that a later run resumes from. Given a seed and a thread count the run is
 * deterministic: the batches depend only on (seed, step).
 *
 * <p>Files in {@code runDir}: {@code model.safetensors} (the weights at the last checkpoint, HF layout),
 * {@code training/optimizer.safetensors} (AdamW moments), {@code training/trainer_state.json} (written last, so it
 * only ever describes a complete checkpoint).
 */
public final class Pretrainer {
    private static final String STATE_FILE = "trainer_state.json";
    private static final String OPTIMIZER_FILE = "optimizer.safetensors";
    private static final String STEP_KEY = "scalpel.step";
    private static final int CALIBRATION_STEPS = 10;

    /**
     * @param context        tokens per row (BOS included)
     * @param maxTokens      stop after this many tokens (rows × context per step); also fixes the schedule
     * @param timeLimit      or stop after this much time (null for none); the schedule is fitted to it after a few
     *                       steps, and the run stops (checkpointed) if it still overruns
     * @param checkpointEvery steps between checkpoints (the last step always checkpoints)
     */
    public record Options(int context, int batchSize, long maxTokens, Duration timeLimit, AdamW.Options adam,
                          int warmupSteps, double minLrFraction, double clipNorm, long seed, int checkpointEvery) {}

    /** How a run ended. */
    public record Summary(long steps, long tokens, double lastLoss, double seconds, boolean stoppedEarly) {}

    private final CausalLM model;
    private final TokenCorpus data;
    private final Options options;
    private final Output run;
    private final Path runDir;
    private final ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** @param run the folder output the checkpoints go to (and are resumed from) */
    public Pretrainer(CausalLM model, TokenCorpus data, Options options, Output run) {
        this.model = model;
        this.data = data;
        this.options = options;
        this.run = run;
        this.runDir = run.folder();
    }

    /** Trains until the budget is spent or {@code stopRequested} says so; resumes from runDir's checkpoint if any. */
    public Summary run(Consumer<TrainingProgress> onProgress, BooleanSupplier stopRequested) {
        Map<String, Tensor> params = model.weights().asMap();
        params.values().forEach(p -> p.requires_grad_(true));
        long tokensPerStep = (long) options.batchSize() * options.context();
        long totalSteps = Math.max(1, options.maxTokens() / tokensPerStep);
        long start = System.nanoTime();
        double lastLoss = Double.NaN;
        try (AdamW adam = new AdamW(params, options.adam())) {
            TrainerState resumed = loadCheckpoint(adam);
            double earlierSeconds = 0;
            if (resumed != null) {
                totalSteps = resumed.totalSteps();
                earlierSeconds = resumed.seconds();
            }
            boolean scheduleFixed = resumed != null || options.timeLimit() == null;
            long firstStep = adam.step() + 1;
            for (long step = firstStep; step <= totalSteps; step++) {
                boolean outOfTime = options.timeLimit() != null && seconds(start) > options.timeLimit().toSeconds();
                if (stopRequested.getAsBoolean() || outOfTime) {
                    checkpoint(adam, totalSteps, earlierSeconds + seconds(start));
                    return new Summary(step - 1, (step - 1) * tokensPerStep, lastLoss, seconds(start), true);
                }
                LearningRateSchedule schedule = new LearningRateSchedule(options.adam().lr(), options.warmupSteps(),
                        totalSteps, options.minLrFraction());
                double lr = schedule.at(step);
                lastLoss = trainStep(adam, step, lr);
                if (!Double.isFinite(lastLoss)) {
                    throw new ScalpelException("The training loss became " + lastLoss + " at step " + step
                            + "; the last checkpoint in " + runDir + " is intact. Resume with a lower learning rate.");
                }
                long done = step - firstStep + 1;
                if (!scheduleFixed && done == CALIBRATION_STEPS) {
                    double perStep = seconds(start) / done;
                    long more = (long) ((options.timeLimit().toSeconds() - seconds(start)) / perStep);
                    totalSteps = Math.max(step + 1, Math.min(totalSteps, step + more));
                    scheduleFixed = true;
                }
                onProgress.accept(new TrainingProgress(step, totalSteps, step * tokensPerStep, lastLoss,
                        done * tokensPerStep / seconds(start), lr));
                if (step % options.checkpointEvery() == 0 || step == totalSteps) {
                    checkpoint(adam, totalSteps, earlierSeconds + seconds(start));
                }
            }
            return new Summary(totalSteps, totalSteps * tokensPerStep, lastLoss, seconds(start), false);
        } finally {
            params.values().forEach(p -> p.requires_grad_(false));
        }
    }

    /** Forward, backward, clip, update; returns the mean next-token loss of the batch. */
    private double trainStep(AdamW adam, long step, double lr) {
        try (PointerScope scope = new PointerScope()) {
            long[][] rows = data.batch(options.seed(), step, options.batchSize(), options.context() + 1);
            Tensor ids = Tensors.ids(rows, model.device());                                     // [B, C+1]
            Tensor input = ids.narrow(1, 0, options.context());                                 // [B, C]
            Tensor target = ids.narrow(1, 1, options.context()).reshape(-1);                    // [B·C]
            Tensor logits = model.forward(input, ForwardContext.plain());                       // [B, C, V]
            Tensor loss = torch.cross_entropy_loss(logits.reshape(-1, logits.size(2)), target);
            adam.zeroGrad();
            loss.backward();
            clipGradients(adam);
            adam.step(lr);
            return loss.item_double();
        }
    }

    /** Scales all gradients down together when their global L2 norm exceeds clipNorm. */
    private void clipGradients(AdamW adam) {
        TensorVector norms = new TensorVector();
        for (AdamW.Parameter p : adam.parameters()) {
            Tensor g = p.value().grad();
            if (g != null && !g.isNull() && g.defined()) {
                norms.push_back(g.norm());
            }
        }
        double total = torch.stack(norms).norm().item_double();
        if (total > options.clipNorm()) {
            try (NoGradGuard guard = new NoGradGuard()) {
                Scalar factor = new Scalar(options.clipNorm() / (total + 1e-6));
                for (AdamW.Parameter p : adam.parameters()) {
                    Tensor g = p.value().grad();
                    if (g != null && !g.isNull() && g.defined()) {
                        g.mul_(factor);
                    }
                }
            }
        }
    }

    /**
     * What trainer_state.json holds.
     *
     * @param seconds training time over all runs that led to this checkpoint
     */
    public record TrainerState(long step, long totalSteps, long seed, int context, int batchSize, double seconds) {
        public long tokens() {
            return step * batchSize * (long) context;
        }
    }

    /** The state of the checkpoint in {@code runDir}, or null when there is none. */
    public static TrainerState readState(Path runDir) {
        Path stateFile = runDir.resolve("training").resolve(STATE_FILE);
        if (!Files.isRegularFile(stateFile)) {
            return null;
        }
        try {
            return new ObjectMapper().readValue(stateFile.toFile(), TrainerState.class);
        } catch (IOException e) {
            throw new ScalpelException(stateFile + " is unreadable (" + e.getMessage() + "); delete the training folder to start over.", e);
        }
    }

    private void checkpoint(AdamW adam, long totalSteps, double seconds) {
        Map<String, String> meta = Map.of("format", "pt", STEP_KEY, Long.toString(adam.step()));
        run.writeSafetensors(runDir.resolve("model.safetensors"), CheckpointWriter.toSources(model.hfLayoutWeights(), run), meta);
        Map<String, Tensor> moments = new LinkedHashMap<>();
        for (AdamW.Parameter p : adam.parameters()) {
            moments.put("m." + p.name(), p.m());
            moments.put("v." + p.name(), p.v());
        }
        Path training = runDir.resolve("training");
        run.writeSafetensors(training.resolve(OPTIMIZER_FILE), CheckpointWriter.toSources(moments, run), meta);
        TrainerState state = new TrainerState(adam.step(), totalSteps, options.seed(), options.context(), options.batchSize(), seconds);
        run.write(training.resolve(STATE_FILE),
                ch -> TensorSource.writeAll(ch, ByteBuffer.wrap(json.writeValueAsBytes(state))));
    }

    /** Restores AdamW's moments and step from runDir/training, or returns null when there is nothing to resume. */
    private TrainerState loadCheckpoint(AdamW adam) {
        TrainerState state = readState(runDir);
        if (state == null) {
            return null;
        }
        if (state.seed() != options.seed() || state.context() != options.context() || state.batchSize() != options.batchSize()) {
            throw new ScalpelException("The checkpoint in " + runDir + " was made with seed " + state.seed() + ", context "
                    + state.context() + ", batch " + state.batchSize() + "; resume with the same settings or use a new folder.");
        }
        try (SafetensorsFile moments = SafetensorsFile.open(runDir.resolve("training").resolve(OPTIMIZER_FILE));
             SafetensorsFile weights = SafetensorsFile.open(runDir.resolve("model.safetensors"))) {
            String step = Long.toString(state.step());
            if (!step.equals(moments.metadata().get(STEP_KEY)) || !step.equals(weights.metadata().get(STEP_KEY))) {
                throw new ScalpelException("The checkpoint in " + runDir + " is inconsistent (weights, optimizer and state "
                        + "are from different steps); delete its training folder to start over.");
            }
            try (NoGradGuard g = new NoGradGuard()) {
                for (AdamW.Parameter p : adam.parameters()) {
                    copyInto(p.m(), moments, "m." + p.name());
                    copyInto(p.v(), moments, "v." + p.name());
                }
            }
        }
        adam.setStep(state.step());
        return state;
    }

    private static void copyInto(Tensor target, SafetensorsFile file, String name) {
        float[] values = TensorFloats.toFloatArray(file.info(name), file.data(name));
        try (PointerScope scope = new PointerScope()) {
            target.copy_(Tensors.floats(values, dev.scalpel.engine.model.ComputeDevice.CPU).view(Tensors.shape(target)));
        }
    }

    private static double seconds(long startNanos) {
        return (System.nanoTime() - startNanos) / 1e9;
    }
}
