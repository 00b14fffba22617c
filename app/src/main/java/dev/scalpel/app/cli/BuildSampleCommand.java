package dev.scalpel.app.cli;

import dev.scalpel.app.ScalpelHome;
import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.model.ComputeDevice;
import dev.scalpel.engine.sample.SampleModelRecipe;
import dev.scalpel.engine.train.Apollo;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.OptionalDouble;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code scalpel build-sample}: reproduces the bundled sample model from the corpora (tokenizer + pre-training). */
@Command(name = "build-sample", mixinStandardHelpOptions = true,
        description = "Train the sample model from ../shared/corpora: BPE tokenizer, then pre-training; rerun to resume.")
final class BuildSampleCommand implements Callable<Integer> {
    /** A quarter of the sample model's width (256), the rank-to-width ratio of the paper's smallest runs. */
    static final int APOLLO_DEFAULT_RANK = 64;

    @Mixin
    RuntimeOptions runtimeOptions;

    @Option(names = "--out", paramLabel = "DIR", description = "Output model folder (default: a new folder 'polyglot-tiny' here).")
    Path out = Path.of("polyglot-tiny");

    @Option(names = "--minutes", paramLabel = "M", description = "Wall-time budget for pre-training; the LR schedule is fitted to it.")
    Double minutes;

    @Option(names = "--tokens", defaultValue = "4000000", paramLabel = "N",
            description = "Token budget when --minutes is not given (deterministic; default: ${DEFAULT-VALUE}).")
    long tokens;

    @Option(names = "--corpora", paramLabel = "DIR", description = "Folder with en/de/fr/es/code train.txt and valid.txt (default: shared/corpora found upwards).")
    Path corpora;

    @Option(names = "--seed", defaultValue = "1234", description = "Seed of the initial weights and the batches (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--lr", defaultValue = "2e-3", description = "Peak learning rate (default: ${DEFAULT-VALUE}).")
    double lr;

    @Option(names = "--mix", split = ",", paramLabel = "SOURCE=SHARE",
            description = "Shares of the training rows per source, e.g. en=0.7,de=0.1,fr=0.1,es=0.1 (unnamed sources: 0). "
                    + "Default: an equal mix of en, de, fr, es, code.")
    Map<String, Double> mix;

    @Option(names = "--optimizer", defaultValue = "adamw", paramLabel = "NAME",
            description = "adamw, apollo or apollo-mini: APOLLO (arXiv 2412.05270) on the attention and MLP matrices, AdamW "
                    + "moments for embeddings and norms, as the paper pre-trains (default: ${DEFAULT-VALUE}).")
    String optimizer;

    @Option(names = "--apollo-rank", paramLabel = "R",
            description = "APOLLO's projected rank (default: " + APOLLO_DEFAULT_RANK + ", a quarter of the model width; apollo-mini: 1).")
    Integer apolloRank;

    @Option(names = "--apollo-scale", paramLabel = "ALPHA",
            description = "APOLLO's update scale α (default: √(k/r) per matrix, which gives AdamW's update size).")
    Double apolloScale;

    @Option(names = "--card-only", description = "Only (re)measure the built model in --out and rewrite its MODEL_CARD.md.")
    boolean cardOnly;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        ComputeDevice device = runtimeOptions.computeDevice();
        if (device.isCuda()) {
            throw new ScalpelException("build-sample trains on the CPU (the recipe is defined for 2 cores); drop --device.");
        }
        Path corporaDir = corpora != null ? corpora : ScalpelHome.find(Path.of("..", "shared", "corpora"));
        if (corporaDir == null) {
            corporaDir = ScalpelHome.find(Path.of("shared", "corpora"));
        }
        if (corporaDir == null) {
            throw new ScalpelException("Cannot find the corpora (shared/corpora); pass --corpora DIR.");
        }
        var out = spec.commandLine().getOut();
        var options = new SampleModelRecipe.Options(corporaDir, minutes != null ? Duration.ofSeconds((long) (minutes * 60)) : null,
                tokens, seed, 8, lr, mix, apolloOptions());
        if (cardOnly) {
            SampleModelRecipe.writeCard(this.out, options, out::println);
            return 0;
        }
        var summary = SampleModelRecipe.build(this.out, options, out::println, p -> {
            if (p.step() == 1 || p.step() % 25 == 0 || p.step() == p.totalSteps()) {
                out.printf("step %5d/%d  tokens %,10d  loss %.4f  lr %.2e  %,.0f tok/s%n",
                        p.step(), p.totalSteps(), p.tokens(), p.loss(), p.learningRate(), p.tokensPerSecond());
            }
        }, () -> Thread.currentThread().isInterrupted());
        out.printf("done: %d steps, %,d tokens, last loss %.4f, %.1f minutes -> %s%n", summary.steps(), summary.tokens(),
                summary.lastLoss(), summary.seconds() / 60, this.out.toAbsolutePath());
        if (!summary.stoppedEarly()) {
            SampleModelRecipe.writeCard(this.out, options, out::println);
        }
        return 0;
    }

    /** The APOLLO settings --optimizer and the --apollo-* options ask for; null for AdamW. */
    private Apollo.Options apolloOptions() {
        if (optimizer.equals("adamw")) {
            if (apolloRank != null || apolloScale != null) {
                throw new ScalpelException("--apollo-rank and --apollo-scale need --optimizer apollo or apollo-mini.");
            }
            return null;
        }
        if (!optimizer.equals("apollo") && !optimizer.equals("apollo-mini")) {
            throw new ScalpelException("Unknown --optimizer '" + optimizer + "'; use adamw, apollo or apollo-mini.");
        }
        boolean mini = optimizer.equals("apollo-mini");
        int rank = apolloRank != null ? apolloRank : mini ? 1 : APOLLO_DEFAULT_RANK;
        if (rank < 1 || rank > SampleModelRecipe.ARCHITECTURE.hidden()) {
            throw new ScalpelException("--apollo-rank " + rank + " is out of range; use 1 to " + SampleModelRecipe.ARCHITECTURE.hidden() + ".");
        }
        if (apolloScale != null && !(apolloScale > 0 && apolloScale <= 1e4)) {
            throw new ScalpelException("--apollo-scale " + apolloScale + " is out of range; use a number in (0, 10000].");
        }
        Apollo.Options base = (mini ? Apollo.Options.mini() : Apollo.Options.defaults()).withRank(rank).withSeed(seed);
        return apolloScale == null ? base : new Apollo.Options(base.rank(), base.refreshPeriod(), OptionalDouble.of(apolloScale),
                base.normGrowthLimit(), base.beta1(), base.beta2(), base.eps(), base.weightDecay(), base.seed(), base.tensorWise());
    }
}
