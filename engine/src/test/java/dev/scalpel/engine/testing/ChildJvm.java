package dev.scalpel.engine.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A main class run in a JVM of its own (this JVM's {@code -D} and {@code -Xss} flags and class path), for crash-safety
 * tests that kill a writing process with SIGKILL: no shutdown hooks, no finally blocks run.
 */
public final class ChildJvm {
    private ChildJvm() {}

    /** The command line for {@code main} with {@code args}; its output is discarded unless the caller redirects it. */
    public static ProcessBuilder of(Class<?> main, List<String> args) {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                .filter(a -> a.startsWith("-D") || a.startsWith("-Xss")).forEach(command::add);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), main.getName()));
        command.addAll(args);
        return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD);
    }

    /**
     * Starts {@code main}, waits (up to 120 s) until it prints a line starting with {@code ready}, then lets it run
     * {@code millis} more and kills it with SIGKILL if it is still running.
     *
     * @return whether it was killed (false: it exited by itself first, with status 0)
     * @throws AssertionError when it never got ready or exited with another status
     */
    public static boolean killAfterReady(Class<?> main, List<String> args, String ready, long millis)
            throws IOException, InterruptedException {
        Process p = of(main, args).redirectOutput(ProcessBuilder.Redirect.PIPE).start();
        CompletableFuture<Void> readySeen = new CompletableFuture<>();
        StringBuilder output = new StringBuilder();
        Thread reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null; ) {
                    synchronized (output) {
                        output.append(line).append('\n');
                    }
                    if (line.startsWith(ready)) {
                        readySeen.complete(null);
                    }
                }
            } catch (IOException e) {
                // the process was killed: its pipe closes
            }
            readySeen.complete(null);
        });
        reader.setDaemon(true);
        reader.start();
        try {
            readySeen.get(120, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            p.destroyForcibly();
            throw new AssertionError(main.getSimpleName() + " did not print '" + ready + "' within 120 s", e);
        }
        boolean exited = p.waitFor(millis, TimeUnit.MILLISECONDS);
        if (!exited) {
            p.destroyForcibly();   // SIGKILL on Linux
            p.waitFor();
        }
        reader.join(10_000);
        if (exited && p.exitValue() != 0) {
            synchronized (output) {
                throw new AssertionError(main.getSimpleName() + " exited with " + p.exitValue() + ":\n" + output);
            }
        }
        return !exited;
    }
}
