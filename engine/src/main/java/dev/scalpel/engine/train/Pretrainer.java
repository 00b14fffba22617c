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
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * Trains every weight of a model on next-token prediction: AdamW or APOLLO, warm-up + cosine schedule, gradient-norm
 * clipping, a token (or wall-time) budget, checkpoints that a later run resumes from. Given a seed and a thread count
 * the run is deterministic: the batches depend only on (seed, step).
 *
 * <p>A checkpoint at step N is three files in {@code runDir/training}: {@code weights-N.safetensors} (every trainable),
 * {@code optimizer-N.safetensors} ({@link Optimizer#state()}) and {@code trainer_state.json}, written in that order;
 * the state file names step N and is the commit point, so a run killed at any moment leaves the previous checkpoint
 * or the new one, never a mix. After the commit {@code runDir/model.safetensors} (HF layout, what users load) is
 * refreshed and the files of earlier steps are deleted; a resume loads the weights from the checkpoint, whatever
 * {@code model.safetensors} holds.
 */
public final class Pretrainer {
    private static final String STATE_FILE = "trainer_state.json";
    private static final String STEP_KEY = "scalpel.step";
    private static final int CALIBRATION_STEPS = 10;

    /**
     * @param context        tokens per row (BOS included)
     * @param maxTokens      stop after this many tokens (rows × context per step); also fixes the schedule
     * @param timeLimit      or stop after this much time (null for none); the schedule is fitted to it after a few
     *                       steps, and the run stops (checkpointed) if it still overruns
     * @param adam           the peak learning rate, betas, ε and weight decay (of APOLLO too, when it is used)
     * @param apollo         null for AdamW; else APOLLO with these settings on the decoder blocks' matrices (their β,
     *                       ε and λ are taken from {@code adam}), AdamW moments for embeddings, LM head and norms
     * @param checkpointEvery steps between checkpoints (the last step always checkpoints)
     */
    public record Options(int context, int batchSize, long maxTokens, Duration timeLimit, AdamW.Options adam,
                          Apollo.Options apollo, int warmupSteps, double minLrFraction, double clipNorm, long seed,
                          int checkpointEvery) {
        /** What a checkpoint records of the optimizer, so a resume with another one is refused. */
        public String optimizerDescription() {
            if (apollo == null) {
                return "adamw";
            }
            return (apollo.tensorWise() ? "apollo-mini" : "apollo") + " rank " + apollo.rank() + ", T " + apollo.refreshPeriod()
                    + ", scale " + (apollo.scale().isPresent() ? Double.toString(apollo.scale().getAsDouble()) : "sqrt(k/r)")
                    + ", gamma " + apollo.normGrowthLimit();
        }
    }

    /**
     * How a run ended.
     *
     * @param optimizerStateBytes what the optimizer keeps ({@link Optimizer#stateBytes()})
     * @param adamwStateBytes     what AdamW would keep for the same weights, for comparison
     */
    public record Summary(long steps, long tokens, double lastLoss, double seconds, boolean stoppedEarly,
                          long optimizerStateBytes, long adamwStateBytes) {}

    private final CausalLM model;
    private final TokenCorpus data;
    private final Options options;
    private final Output run;
    private final Path runDir;
    private final Path trainingDir;
    private final ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** @param run the folder output the checkpoints go to (and are resumed from) */
    public Pretrainer(CausalLM model, TokenCorpus data, Options options, Output run) {
        this.model = model;
        this.data = data;
        this.options = options;
        this.run = run;
        this.runDir = run.folder();
        this.trainingDir = runDir.resolve("training");
    }

    /** Trains until the budget is spent or {@code stopRequested} says so; resumes from runDir's checkpoint if any. */
    public Summary run(Consumer<TrainingProgress> onProgress, BooleanSupplier stopRequested) {
        Map<String, Tensor> params = model.weights().asMap();
        params.values().forEach(p -> p.requires_grad_(true));
        List<Optimizer.Trainable> trainables = params.entrySet().stream()
                .map(e -> Optimizer.Trainable.of(e.getKey(), e.getValue())).toList();
        long tokensPerStep = (long) options.batchSize() * options.context();
        long totalSteps = Math.max(1, options.maxTokens() / tokensPerStep);
        long start = System.nanoTime();
        double lastLoss = Double.NaN;
        try (Optimizer optimizer = createOptimizer(trainables)) {
            TrainerState resumed = loadCheckpoint(optimizer, params);
            double earlierSeconds = 0;
            if (resumed != null) {
                totalSteps = resumed.totalSteps();
                earlierSeconds = resumed.seconds();
            }
            boolean scheduleFixed = resumed != null || options.timeLimit() == null;
            long firstStep = optimizer.step() + 1;
            for (long step = firstStep; step <= totalSteps; step++) {
                boolean outOfTime = options.timeLimit() != null && seconds(start) > options.timeLimit().toSeconds();
                if (stopRequested.getAsBoolean() || outOfTime) {
                    checkpoint(optimizer, params, totalSteps, earlierSeconds + seconds(start));
                    return summary(step - 1, tokensPerStep, lastLoss, start, true, optimizer);
                }
                LearningRateSchedule schedule = new LearningRateSchedule(options.adam().lr(), options.warmupSteps(),
                        totalSteps, options.minLrFraction());
                double lr = schedule.at(step);
                lastLoss = trainStep(optimizer, step, lr);
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
                    checkpoint(optimizer, params, totalSteps, earlierSeconds + seconds(start));
                }
            }
            return summary(totalSteps, tokensPerStep, lastLoss, start, false, optimizer);
        } finally {
            params.values().forEach(p -> p.requires_grad_(false));
        }
    }

    /** AdamW, or APOLLO on the decoder blocks' matrices as the paper pre-trains (the rest: AdamW moments). */
    private Optimizer createOptimizer(List<Optimizer.Trainable> trainables) {
        AdamW.Options adam = options.adam();
        if (options.apollo() == null) {
            return new AdamW(trainables, adam);
        }
        Apollo.Options a = options.apollo();
        Apollo.Options withAdamSettings = new Apollo.Options(a.rank(), a.refreshPeriod(), a.scale(), a.normGrowthLimit(),
                adam.beta1(), adam.beta2(), adam.eps(), adam.weightDecay(), a.seed(), a.tensorWise());
        return new Apollo(trainables, withAdamSettings, Apollo::inDecoderBlock);
    }

    private Summary summary(long steps, long tokensPerStep, double lastLoss, long start, boolean early, Optimizer optimizer) {
        return new Summary(steps, steps * tokensPerStep, lastLoss, seconds(start), early, optimizer.stateBytes(),
                Apollo.adamwStateBytes(optimizer.trainables()));
    }

    /** Forward, backward, clip, update; returns the mean next-token loss of the batch. */
    private double trainStep(Optimizer optimizer, long step, double lr) {
        try (PointerScope scope = new PointerScope()) {
            long[][] rows = data.batch(options.seed(), step, options.batchSize(), options.context() + 1);
            Tensor ids = Tensors.ids(rows, model.device());                                     // [B, C+1]
            Tensor input = ids.narrow(1, 0, options.context());                                 // [B, C]
            Tensor target = ids.narrow(1, 1, options.context()).reshape(-1);                    // [B·C]
            Tensor logits = model.forward(input, ForwardContext.plain());                       // [B, C, V]
            Tensor loss = torch.cross_entropy_loss(logits.reshape(-1, logits.size(2)), target);
            optimizer.zeroGrad();
            loss.backward();
            clipGradients(optimizer);
            optimizer.step(lr);
            return loss.item_double();
        }
    }

    /** Scales all gradients down together when their global L2 norm exceeds clipNorm. */
    private void clipGradients(Optimizer optimizer) {
        List<Tensor> grads = new ArrayList<>();
        for (Optimizer.Trainable t : optimizer.trainables()) {
            Tensor g = t.value().grad();
            if (g != null && !g.isNull() && g.defined()) {
                grads.add(g);
            }
        }
        TensorVector norms = new TensorVector();
        grads.forEach(g -> norms.push_back(g.norm()));
        double total = torch.stack(norms).norm().item_double();
        if (total > options.clipNorm()) {
            try (NoGradGuard guard = new NoGradGuard()) {
                Scalar factor = new Scalar(options.clipNorm() / (total + 1e-6));
                grads.forEach(g -> g.mul_(factor));
            }
        }
    }

    /**
     * What trainer_state.json holds.
     *
     * @param seconds             training time over all runs that led to this checkpoint
     * @param optimizer           {@link Options#optimizerDescription()}
     * @param optimizerStateBytes the optimizer's state, and AdamW's for the same weights, in bytes
     */
    public record TrainerState(long step, long totalSteps, long seed, int context, int batchSize, double seconds,
                               String optimizer, long optimizerStateBytes, long adamwStateBytes) {
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

    private Path weightsFile(long step) {
        return trainingDir.resolve("weights-" + step + ".safetensors");
    }

    private Path optimizerFile(long step) {
        return trainingDir.resolve("optimizer-" + step + ".safetensors");
    }

    /** Writes the checkpoint of the current step (see the class comment for the order), then refreshes model.safetensors. */
    private void checkpoint(Optimizer optimizer, Map<String, Tensor> params, long totalSteps, double seconds) {
        long step = optimizer.step();
        Map<String, String> meta = Map.of("format", "pt", STEP_KEY, Long.toString(step));
        run.writeSafetensors(optimizerFile(step), CheckpointWriter.toSources(optimizer.state(), run), meta);
        run.writeSafetensors(weightsFile(step), CheckpointWriter.toSources(params, run), meta);
        TrainerState state = new TrainerState(step, totalSteps, options.seed(), options.context(), options.batchSize(), seconds,
                options.optimizerDescription(), optimizer.stateBytes(), Apollo.adamwStateBytes(optimizer.trainables()));
        run.write(trainingDir.resolve(STATE_FILE), ch -> TensorSource.writeAll(ch, ByteBuffer.wrap(json.writeValueAsBytes(state))));
        run.writeSafetensors(runDir.resolve("model.safetensors"), CheckpointWriter.toSources(model.hfLayoutWeights(), run), meta);
        deleteCheckpointsOtherThan(step);
    }

    /** Removes weights-/optimizer- files of other steps: older checkpoints, or a newer one a kill left uncommitted. */
    private void deleteCheckpointsOtherThan(long step) {
        if (!Files.isDirectory(trainingDir)) {
            return;
        }
        Set<Path> keep = Set.of(weightsFile(step), optimizerFile(step));
        try (var files = Files.list(trainingDir)) {
            for (Path f : files.toList()) {
                String name = f.getFileName().toString();
                boolean checkpointFile = (name.startsWith("weights-") || name.startsWith("optimizer-")) && name.endsWith(".safetensors");
                if (checkpointFile && !keep.contains(f)) {
                    run.delete(f);
                }
            }
        } catch (IOException e) {
            throw new ScalpelException("Cannot list " + trainingDir + " (" + e.getMessage() + "); check its permissions.", e);
        }
    }

    /**
     * Restores the weights, the optimizer's state and its step from the committed checkpoint in runDir/training, or
     * returns null when there is nothing to resume.
     */
    private TrainerState loadCheckpoint(Optimizer optimizer, Map<String, Tensor> params) {
        TrainerState state = readState(runDir);
        if (state == null) {
            return null;
        }
        if (state.seed() != options.seed() || state.context() != options.context() || state.batchSize() != options.batchSize()
                || !options.optimizerDescription().equals(state.optimizer())) {
            throw new ScalpelException("The checkpoint in " + runDir + " was made with seed " + state.seed() + ", context "
                    + state.context() + ", batch " + state.batchSize() + ", optimizer " + state.optimizer()
                    + "; resume with the same settings or use a new folder.");
        }
        Path weights = weightsFile(state.step());
        Path moments = optimizerFile(state.step());
        if (!Files.isRegularFile(weights) || !Files.isRegularFile(moments)) {
            throw new ScalpelException("The checkpoint in " + runDir + " names step " + state.step() + " but "
                    + (Files.isRegularFile(weights) ? moments : weights).getFileName()
                    + " is missing; delete its training folder to start over.");
        }
        try (SafetensorsFile weightsFile = SafetensorsFile.open(weights); SafetensorsFile momentsFile = SafetensorsFile.open(moments);
             NoGradGuard g = new NoGradGuard()) {
            params.forEach((name, tensor) -> copyInto(tensor, weightsFile, name));
            optimizer.state().forEach((name, tensor) -> copyInto(tensor, momentsFile, name));
        }
        optimizer.resumeAt(state.step());
        deleteCheckpointsOtherThan(state.step());
        return state;
    }

    private static void copyInto(Tensor target, SafetensorsFile file, String name) {
        if (!file.contains(name)) {
            throw new ScalpelException(file.path() + " lacks " + name + "; the checkpoint is from another model or optimizer. "
                    + "Delete the training folder to start over.");
        }
        float[] values = TensorFloats.toFloatArray(file.info(name), file.data(name));
        try (PointerScope scope = new PointerScope()) {
            target.copy_(Tensors.floats(values, dev.scalpel.engine.model.ComputeDevice.CPU).view(Tensors.shape(target)));
        }
    }

    private static double seconds(long startNanos) {
        return (System.nanoTime() - startNanos) / 1e9;
    }
}
