package dev.scalpel.app.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code scalpel demo --quick}: the small settings the installer's smoke test runs; explicit options still win. */
class DemoQuickTest {
    /** A copy of a fixture model with the eval/ and train-sample/ texts the demo needs. */
    private static Path modelWithTexts(Path tmp) throws IOException {
        return ModelsWithTexts.llamaGqa(tmp.resolve("model"), 40);
    }

    private static List<String> budgetsIn(Path csv) throws IOException {
        return Files.readAllLines(csv).stream().skip(1).map(l -> l.split(",")[1]).distinct().sorted().toList();
    }

    @Test
    void quickRunsTheFourMethodsAtTwoBudgets(@TempDir Path tmp) throws IOException {
        Path model = modelWithTexts(tmp);
        Path out = tmp.resolve("quick");
        long t0 = System.nanoTime();
        CliRun r = CliRun.of("demo", "--quick", "--model", model.toString(), "--top-heads", "2", "--out", out.toString());
        double seconds = (System.nanoTime() - t0) / 1e9;
        assertEquals(0, r.status(), r.err());
        Path csv = out.resolve("results.csv");
        assertEquals(1 + 2 * 4, Files.readAllLines(csv).size(), "4 methods × the 2 quick budgets");
        assertEquals(List.of("16", "256"), budgetsIn(csv));
        assertTrue(Files.size(out.resolve("tradeoff.png")) > 0);
        assertTrue(r.out().contains("model.layers.") && r.out().contains("v_proj"), "quick scores only the v_proj matrices: " + r.out());
        assertTrue(seconds < 60, "quick took " + seconds + " s on a tiny fixture");
    }

    @Test
    void optionsGivenExplicitlyOverrideTheQuickDefaults(@TempDir Path tmp) throws IOException {
        Path model = modelWithTexts(tmp);
        Path out = tmp.resolve("quick4");
        CliRun r = CliRun.of("demo", "--quick", "--model", model.toString(), "--budgets", "4", "--steps", "2", "--top-heads", "2",
                "--out", out.toString());
        assertEquals(0, r.status(), r.err());
        assertEquals(List.of("4"), budgetsIn(out.resolve("results.csv")));
    }
}
