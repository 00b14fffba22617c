package dev.scalpel.app.cli;

import dev.scalpel.engine.api.ScalpelException;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.util.Properties;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code scalpel}: the root command of the CLI (the Launcher opens the workbench when there are no arguments). */
@Command(name = "scalpel",
        mixinStandardHelpOptions = true,
        versionProvider = ScalpelCommand.Version.class,
        description = "Head-level surgery on transformer language models.",
        subcommands = {OpenCommand.class, InfoCommand.class, GenerateCommand.class, EvalCommand.class, ImportanceCommand.class, DecomposeCommand.class, TrainCommand.class, DemoCommand.class, ExportCommand.class, ExportJobCommand.class, ImportJobCommand.class, HeadsCommand.class, VectorsCommand.class,
                BenchCommand.class,
                BuildSampleCommand.class,
                CommandLine.HelpCommand.class})
public final class ScalpelCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /**
     * Runs the CLI with {@code args}, writing to {@code out} / {@code err}, and returns the exit status.
     * User errors return 1 with one "error:" line: a {@link ScalpelException}, and a usage error picocli finds while
     * parsing (an unknown option, a missing required option, a value of the wrong type), which also names the
     * command's {@code --help}. Other failures print their message (the stack trace only with SCALPEL_DEBUG=1) and
     * return 2, which is kept for internal errors.
     */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        CommandLine cli = new CommandLine(new ScalpelCommand());
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        cli.setParameterExceptionHandler(ScalpelCommand::usageError);
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            if (e instanceof ScalpelException) {
                commandLine.getErr().println("error: " + e.getMessage());
                return 1;
            }
            commandLine.getErr().println("internal error: " + e + " (rerun with SCALPEL_DEBUG=1 for details, and report it)");
            if (System.getenv("SCALPEL_DEBUG") != null) {
                e.printStackTrace(commandLine.getErr());
            }
            return 2;
        });
        return cli.execute(args);
    }

    /**
     * A usage error: picocli's message (and its suggestions for a mistyped option) as one "error:" line that names the
     * command's --help, instead of the whole usage text; exit status 1.
     */
    static int usageError(CommandLine.ParameterException e, String[] args) {
        CommandLine commandLine = e.getCommandLine();
        StringBuilder line = new StringBuilder("error: ").append(oneLine(e.getMessage()));
        if (e instanceof CommandLine.UnmatchedArgumentException unmatched && !unmatched.getSuggestions().isEmpty()) {
            line.append(" (did you mean ").append(String.join(" or ", unmatched.getSuggestions())).append("?)");
        }
        line.append("; run '").append(commandLine.getCommandSpec().qualifiedName()).append(" --help'");
        commandLine.getErr().println(line);
        return 1;
    }

    private static String oneLine(String message) {
        String m = message == null ? "invalid command line" : message.strip().replaceAll("\\s*\\R\\s*", "; ");
        return m.endsWith(".") ? m.substring(0, m.length() - 1) : m;
    }

    /** Reads the version Maven wrote into version.properties. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() throws IOException {
            Properties p = new Properties();
            try (InputStream in = ScalpelCommand.class.getResourceAsStream("/dev/scalpel/app/version.properties")) {
                if (in != null) {
                    p.load(in);
                }
            }
            return new String[] {"scalpel " + p.getProperty("version", "unknown")};
        }
    }
}
