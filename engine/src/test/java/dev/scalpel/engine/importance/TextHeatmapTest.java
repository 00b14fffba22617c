package dev.scalpel.engine.importance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.scalpel.engine.api.ImportanceMap;
import java.util.List;
import org.junit.jupiter.api.Test;

class TextHeatmapTest {
    private static ImportanceMap map(double[][] scores) {
        return new ImportanceMap("m", "d", "de", "gradient", 4096, scores);
    }

    private static List<String> render(double[][] scores) {
        return TextHeatmap.render(map(scores)).lines().toList();
    }

    @Test
    void smallMapShowsNumbersShadesAndLegend() {
        List<String> lines = render(new double[][] {{0.1, 0.25, 0}, {1.5, 0.75, 0.5}});

        assertEquals(List.of(
                "         H0      H1      H2",
                "L0   +0.100  +0.250. +0.000",
                "L1   +1.500@ +0.750+ +0.500-",
                "rows: layers L0-L1, columns: heads H0-H2; gradient on 'de', 4096 tokens",
                "shade ' .:-=+*#%@' runs from ' ' at the minimum +0.000 to '@' at the maximum +1.500"), lines);
    }

    @Test
    void tinyScoresAreShownInUnitsOfAPowerOfTen() {
        List<String> lines = render(new double[][] {{-2.5e-6, 2e-6}, {3.25e-5, 0}});

        assertEquals("L0   -0.250  +0.200.", lines.get(1));
        assertEquals("L1   +3.250@ +0.000", lines.get(2));
        assertTrue(lines.get(4).endsWith("to '@' at the maximum +3.250e-05; numbers are in units of 1e-5"), lines.get(4));
    }

    @Test
    void decimalsFollowTheLargestScore() {
        assertEquals("L0    +1235@    -12", render(new double[][] {{1234.5, -12}}).get(1));
        assertEquals("L0   +12.50@  -0.02", render(new double[][] {{12.5, -0.02}}).get(1));
        List<String> hundredths = render(new double[][] {{0.042, 0.001}});       // signed numbers never touch
        assertEquals("L0   +4.200@ +0.100", hundredths.get(1));
        assertTrue(hundredths.get(3).endsWith("; numbers are in units of 1e-2"), hundredths.get(3));
        assertEquals("L0   +0.420@ -0.079", render(new double[][] {{0.42, -0.079}}).get(1));
        List<String> large = render(new double[][] {{123456.7, 0}});
        assertEquals("L0   +1.235@ +0.000", large.get(1));
        assertTrue(large.get(3).endsWith("; numbers are in units of 1e+5"), large.get(3));
    }

    @Test
    void maxCellIsDarkestAndMinCellIsBlank() {
        assertEquals('@', TextHeatmap.shade(7, -3, 7));
        assertEquals(' ', TextHeatmap.shade(-3, -3, 7));
        assertEquals('+', TextHeatmap.shade(2, -3, 7));   // halfway: shade 5 of 0..9
        assertEquals('@', TextHeatmap.shade(1, 1, 1));   // all equal
    }

    @Test
    void fullSizeMapKeepsCellsEightWide() {
        double[][] scores = new double[32][32];
        for (int l = 0; l < 32; l++) {
            for (int h = 0; h < 32; h++) {
                scores[l][h] = Math.sin(l * 32 + h);
            }
        }
        List<String> lines = render(scores);

        assertEquals(32 + 3, lines.size());
        assertTrue(lines.get(0).endsWith("H31"), lines.get(0));
        assertEquals("L31  ", lines.get(32).substring(0, 5));
        for (String line : lines.subList(0, 33)) {
            assertTrue(line.length() <= 5 + 32 * 8, line.length() + ": " + line);
        }
    }

    @Test
    void wideMapShowsOnlyShades() {
        double[][] scores = new double[2][40];
        scores[1][39] = 9;
        scores[0][5] = 4.5;
        List<String> lines = render(scores);

        assertEquals("    H0        H10       H20       H30", lines.get(0));
        assertEquals("L0       +", lines.get(1));
        assertEquals("L1" + "  " + " ".repeat(39) + "@", lines.get(2));
        assertTrue(lines.get(4).startsWith("shade ' .:-=+*#%@' runs from ' ' at the minimum +0.000 to '@' at the maximum +9.000"),
                lines.get(4));
        assertEquals(5, lines.size());
    }
}
