package dev.scalpel.app.cli;

import dev.scalpel.app.ScalpelHome;
import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.model.ComputeDevice;
import dev.scalpel.engine.sample.SampleModelRecipe;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
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
                tokens, seed, 8, lr, mix);
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
}
