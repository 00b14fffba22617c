package dev.scalpel.app.cli;

import dev.scalpel.engine.edit.LiveEdit;
import dev.scalpel.engine.infer.Generator;
import dev.scalpel.engine.infer.SamplingOptions;
import dev.scalpel.engine.model.LoadedModel;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * {@code train --live-generate PROMPT}: every K steps, a thread of its own continues the prompt greedily with the live
 * weights (the copy the trainer publishes for it) and prints the step it used and the text (or, for {@code --json},
 * only keeps them for the summary). The training thread only hands over the request: it never waits for a generation,
 * and a request made while one is still running is dropped.
 */
final class LiveSampler implements AutoCloseable {
    private static final int NEW_TOKENS = 24;

    private final LoadedModel model;
    private final LiveEdit live;
    private final long[] prompt;
    private final int every;
    private final PrintWriter out;
    private final ExecutorService reader = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "live-generate");
        t.setDaemon(true);
        return t;
    });
    private final AtomicBoolean busy = new AtomicBoolean();
    private final List<Sample> samples = new CopyOnWriteArrayList<>();

    /** One continuation: the step whose weights made it and the generated text. */
    record Sample(long step, String text) {}

    /** @param out where each continuation is printed as it is made; null to only keep them ({@link #samples()}) */
    LiveSampler(LoadedModel model, LiveEdit live, String prompt, int every, PrintWriter out) {
        this.model = model;
        this.live = live;
        this.prompt = model.tokenizer().encodePrompt(prompt);
        this.every = every;
        this.out = out;
    }

    /** Called by the trainer after each step: starts a generation every K steps unless one is still running. */
    void stepped(long step) {
        if (step % every == 0 && busy.compareAndSet(false, true)) {
            reader.execute(this::sample);
        }
    }

    private void sample() {
        try (LiveEdit.Lease lease = live.acquireFresh(10_000)) {
            long[] ids = new Generator(model.model(), null, null, lease.overlay()).generate(prompt, SamplingOptions.greedy(NEW_TOKENS), null);
            String text = model.tokenizer().decode(ids);                                     // the generated ids only
            samples.add(new Sample(lease.step(), text));
            if (out != null) {
                synchronized (out) {
                    out.printf("  live @ step %d: %s%n", lease.step(), text.replace('\n', ' '));
                    out.flush();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            busy.set(false);
        }
    }

    /** The continuations made so far, in order. */
    List<Sample> samples() {
        return List.copyOf(samples);
    }

    /** Lets a running generation finish (so its line is printed), then stops the thread. */
    @Override
    public void close() {
        reader.shutdown();
        try {
            reader.awaitTermination(60, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
