package dev.scalpel.app.cli;

import dev.scalpel.engine.files.TextFiles;
import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.model.LoadedModel;
import dev.scalpel.engine.files.Output;
import dev.scalpel.engine.files.OutputGuard;
import dev.scalpel.engine.files.OutputKind;
import dev.scalpel.engine.study.UnlearningStudy;
import java.awt.BasicStroke;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code scalpel demo}: the German-removal study end to end, headless: table, results.csv, trade-off chart PNG. */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Remove a language from a model four ways (scalar prefactor on the top rank-1 component, rank-1 and "
                + "rank-4 LoRA on its matrix, head-LoRA on the top heads) at several token budgets; compare the damage.")
final class DemoCommand implements Callable<Integer> {
    @Mixin
    ModelOptions modelOptions;

    @Mixin
    RuntimeOptions runtimeOptions;

    @Option(names = "--target", defaultValue = "de", description = "Language to remove (default: ${DEFAULT-VALUE}).")
    String target;

    @Option(names = "--retain", defaultValue = "en", description = "Language to keep (default: ${DEFAULT-VALUE}).")
    String retain;

    @Option(names = "--budgets", defaultValue = "4,16,64,256,1024", split = ",", description = "Target-token budgets (default: ${DEFAULT-VALUE}).")
    List<Integer> budgets;

    @Option(names = "--steps", defaultValue = "40", description = "Optimizer steps per run (default: ${DEFAULT-VALUE}).")
    int steps;

    @Option(names = "--prefactor-lr", defaultValue = "0.5", description = "Learning rate of the prefactor runs; AdamW moves "
            + "a scalar by about this much per step, so steps × lr bounds how far it travels (default: ${DEFAULT-VALUE}).")
    double prefactorLr;

    @Option(names = "--components", defaultValue = "layers.*.self_attn.v_proj,layers.*.mlp.down_proj", split = ",",
            description = "Matrices whose SVD components are candidates (default: ${DEFAULT-VALUE}).")
    List<String> components;

    @Option(names = "--rank", defaultValue = "8", description = "SVD components per matrix (default: ${DEFAULT-VALUE}).")
    int rank;

    @Option(names = "--top-heads", defaultValue = "4", description = "Heads for head-LoRA (default: ${DEFAULT-VALUE}).")
    int topHeads;

    @Option(names = "--retain-weight", defaultValue = "1.0", description = "λ of the retain KL (default: ${DEFAULT-VALUE}).")
    double retainWeight;

    @Option(names = "--eval-tokens", defaultValue = "2048", description = "Tokens of each eval text (default: ${DEFAULT-VALUE}).")
    int evalTokens;

    @Option(names = "--seed", defaultValue = "1", description = "Seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--decomposition", paramLabel = "FILE",
            description = "A decomposition (scalpel decompose) whose most target-specific subcomponent gets a prefactor too. "
                    + "Default: the one the model ships in decompositions/, if any.")
    Path decomposition;

    @Option(names = "--no-decomposition", description = "Ignore the model's bundled decomposition (SVD components only).")
    boolean noDecomposition;

    @Option(names = "--out", defaultValue = "demo-results", paramLabel = "DIR", description = "Output folder (default: ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--quick", description = "A representative minimal run (well under a minute on two cores): budgets "
            + "16,256, 10 steps, rank 4, the v_proj matrices only, 256 eval tokens; options given explicitly still win.")
    boolean quick;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        var print = spec.commandLine().getOut();
        if (quick) {
            applyQuickDefaults();
        }
        Path dir = modelOptions.modelDir();
        Output folder = OutputGuard.folder(OutputKind.DEMO_RESULTS, out, List.of(dir));   // before the minutes of training
        try (LoadedModel m = LoadedModel.open(dir, runtimeOptions.computeDevice())) {
            Map<String, long[]> eval = texts(m, dir.resolve("eval"));
            Map<String, long[]> train = texts(m, dir.resolve("train-sample"));
            Path decomposition = decomposition(dir);
            if (decomposition != null) {
                print.println("decomposition: " + decomposition);
            }
            var options = new UnlearningStudy.Options(target, retain, budgets, components, rank, topHeads, steps, prefactorLr, retainWeight, evalTokens,
                    seed, decomposition);
            UnlearningStudy.Result result = UnlearningStudy.run(m, eval, train, options, print::println);
            writeCsv(result, folder, out.resolve("results.csv"));
            writeChart(result, folder, out.resolve("tradeoff.png"));
            printTable(result, print);
            if (!result.sweep().isEmpty()) {
                writeSweep(result, folder, out.resolve("sweep.csv"), print);
            }
            print.println("wrote " + out.resolve("results.csv") + (result.sweep().isEmpty() ? "" : ", " + out.resolve("sweep.csv"))
                    + " and " + out.resolve("tradeoff.png"));
        }
        return 0;
    }

    /** --quick: the smaller settings, for every option the command line did not set itself. */
    private void applyQuickDefaults() {
        var parsed = spec.commandLine().getParseResult();
        if (!parsed.hasMatchedOption("--budgets")) {
            budgets = List.of(16, 256);
        }
        if (!parsed.hasMatchedOption("--steps")) {
            steps = 10;
        }
        if (!parsed.hasMatchedOption("--rank")) {
            rank = 4;
        }
        if (!parsed.hasMatchedOption("--components")) {
            components = List.of("layers.*.self_attn.v_proj");
        }
        if (!parsed.hasMatchedOption("--eval-tokens")) {
            evalTokens = 256;
        }
    }

    /** --decomposition, else the one the model ships in decompositions/ (none: null; several: say which). */
    private Path decomposition(Path dir) throws IOException {
        if (noDecomposition) {
            return null;
        }
        if (decomposition != null) {
            return decomposition;
        }
        Path bundled = dir.resolve("decompositions");
        if (!Files.isDirectory(bundled)) {
            return null;
        }
        try (var files = Files.list(bundled)) {
            List<Path> found = files.filter(f -> f.getFileName().toString().endsWith(".safetensors")
                    && !f.getFileName().toString().endsWith(".optimizer.safetensors")).sorted().toList();
            if (found.size() > 1) {
                throw new ScalpelException(dir + " ships several decompositions " + found + "; choose one with --decomposition.");
            }
            return found.isEmpty() ? null : found.get(0);
        }
    }

    /** Ids of every &lt;lang&gt;.txt in {@code folder}. */
    private static Map<String, long[]> texts(LoadedModel m, Path folder) throws IOException {
        if (!Files.isDirectory(folder)) {
            throw new ScalpelException("The demo needs " + folder + " (per-language eval/ and train-sample/ texts, as the sample model ships).");
        }
        Map<String, long[]> texts = new LinkedHashMap<>();
        try (var files = Files.list(folder)) {
            for (Path f : files.sorted().toList()) {
                String name = f.getFileName().toString();
                if (name.endsWith(".txt")) {
                    texts.put(name.substring(0, name.length() - 4), m.tokenizer().encode(TextFiles.readUtf8(f)));
                }
            }
        }
        return texts;
    }

    /** The subcomponent's prefactor fixed at each sweep value: printed, and sweep.csv (s, target CE, ΔCE per language). */
    private void writeSweep(UnlearningStudy.Result r, Output folder, Path file, java.io.PrintWriter print) {
        List<String> langs = List.copyOf(r.baseCe().keySet());
        var sub = r.attribution().subcomponent();
        print.printf(Locale.ROOT, "%nprefactor of %s #%d fixed at s (eval text; chooses nothing: the best trade-off any s offers)%n",
                sub.module(), sub.index());
        StringBuilder csv = new StringBuilder("s,target_ce,target_fraction_of_lnV");
        langs.forEach(l -> csv.append(",delta_ce_").append(l));
        csv.append('\n');
        print.printf("%7s %10s %7s", "s", target + " CE", "/lnV");
        langs.stream().filter(l -> !l.equals(target)).forEach(l -> print.printf(" %8s", "Δ" + l));
        print.println();
        for (var p : r.sweep()) {
            csv.append(String.format(Locale.ROOT, "%.1f,%.5f,%.5f", p.s(), p.targetCe(), p.targetFractionOfLnV()));
            langs.forEach(l -> csv.append(String.format(Locale.ROOT, ",%.5f", p.deltaCe().get(l))));
            csv.append('\n');
            print.printf(Locale.ROOT, "%7.1f %10.3f %7.2f", p.s(), p.targetCe(), p.targetFractionOfLnV());
            langs.stream().filter(l -> !l.equals(target)).forEach(l -> print.printf(Locale.ROOT, " %+8.3f", p.deltaCe().get(l)));
            print.println();
        }
        folder.writeBytes(file, csv.toString().getBytes(StandardCharsets.UTF_8));
    }

    private void writeCsv(UnlearningStudy.Result r, Output folder, Path file) {
        List<String> langs = List.copyOf(r.baseCe().keySet());
        StringBuilder csv = new StringBuilder("method,budget,parameters,target_ce,target_fraction_of_lnV,seconds");
        langs.forEach(l -> csv.append(",delta_ce_").append(l));
        csv.append('\n');
        for (var row : UnlearningStudy.sorted(r.rows())) {
            csv.append(String.format(Locale.ROOT, "%s,%d,%d,%.5f,%.5f,%.2f", row.method(), row.budget(), row.parameters(),
                    row.targetCe(), row.targetFractionOfLnV(), row.seconds()));
            langs.forEach(l -> csv.append(String.format(Locale.ROOT, ",%.5f", row.deltaCe().get(l))));
            csv.append('\n');
        }
        byte[] bytes = csv.toString().getBytes(StandardCharsets.UTF_8);
        folder.writeBytes(file, bytes);
    }

    /** Target CE removed (x) against retain CE damage (y), one line per method through its budgets. */
    private void writeChart(UnlearningStudy.Result r, Output folder, Path file) throws IOException {
        System.setProperty("java.awt.headless", "true");
        XYSeriesCollection data = new XYSeriesCollection();
        for (String method : UnlearningStudy.methods(r.rows())) {
            XYSeries s = new XYSeries(method, false);
            r.rows().stream().filter(row -> row.method().equals(method)).forEach(row ->
                    s.add(row.deltaCe().get(target), row.deltaCe().get(retain)));
            data.addSeries(s);
        }
        if (!r.sweep().isEmpty()) {
            XYSeries sweep = new XYSeries("prefactor-spd at fixed s (sweep)", false);
            r.sweep().forEach(p -> sweep.add(p.deltaCe().get(target), p.deltaCe().get(retain)));
            data.addSeries(sweep);
        }
        JFreeChart chart = ChartFactory.createXYLineChart(
                String.format(Locale.ROOT, "Removing %s, keeping %s (budgets %s tokens)", target, retain, budgets),
                "ΔCE on " + target + " (removed, nats; ln V − base = " + String.format(Locale.ROOT, "%.2f", r.lnV() - r.baseCe().get(target)) + ")",
                "ΔCE on " + retain + " (damage, nats)", data, PlotOrientation.VERTICAL, true, false, false);
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, true);
        int[] colours = {0xD62728, 0x1F77B4, 0x2CA02C, 0x9467BD, 0xFF7F0E, 0x8C564B, 0xE377C2, 0x17BECF};
        for (int i = 0; i < data.getSeriesCount(); i++) {
            renderer.setSeriesStroke(i, new BasicStroke(2.2f));
            renderer.setSeriesPaint(i, new java.awt.Color(colours[i % colours.length]));
        }
        if (!r.sweep().isEmpty()) {                                  // the sweep: points only, grey
            int last = data.getSeriesCount() - 1;
            renderer.setSeriesLinesVisible(last, false);
            renderer.setSeriesPaint(last, java.awt.Color.GRAY);
        }
        var plot = chart.getXYPlot();
        plot.setRenderer(renderer);
        plot.setBackgroundPaint(java.awt.Color.WHITE);
        plot.setDomainGridlinePaint(java.awt.Color.LIGHT_GRAY);
        plot.setRangeGridlinePaint(java.awt.Color.LIGHT_GRAY);
        folder.write(file, channel -> ChartUtils.writeChartAsPNG(java.nio.channels.Channels.newOutputStream(channel), chart, 1000, 650));
    }

    private void printTable(UnlearningStudy.Result r, java.io.PrintWriter print) {
        List<String> langs = List.copyOf(r.baseCe().keySet());
        print.printf(Locale.ROOT, "%nbase CE %s, ln V = %.3f; top heads %s; top component %s #%d%n", r.baseCe(), r.lnV(),
                r.attribution().heads(), r.attribution().component(), r.attribution().componentIndex());
        if (r.attribution().subcomponent() != null) {
            var sub = r.attribution().subcomponent();
            print.printf(Locale.ROOT, "%s-specific subcomponent %s #%d (chosen on train-sample text; mean CI %s); LoRAs on %s%n",
                    target, sub.module(), sub.index(), sub.meanImportance(), r.attribution().loraMatrix());
        }
        print.printf("%-13s %7s %9s %10s %7s", "method", "budget", "params", target + " CE", "/lnV");
        langs.stream().filter(l -> !l.equals(target)).forEach(l -> print.printf(" %8s", "Δ" + l));
        print.printf(" %7s%n", "secs");
        for (var row : UnlearningStudy.sorted(r.rows())) {
            print.printf(Locale.ROOT, "%-13s %7d %9d %10.3f %7.2f", row.method(), row.budget(), row.parameters(), row.targetCe(), row.targetFractionOfLnV());
            langs.stream().filter(l -> !l.equals(target)).forEach(l -> print.printf(Locale.ROOT, " %+8.3f", row.deltaCe().get(l)));
            print.printf(Locale.ROOT, " %7.1f%n", row.seconds());
        }
    }
}
