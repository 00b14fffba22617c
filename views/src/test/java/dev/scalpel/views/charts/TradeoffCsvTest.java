package dev.scalpel.views.charts;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.scalpel.engine.api.ScalpelException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading {@code scalpel demo}'s results.csv: the committed sample, and every kind of broken file. */
class TradeoffCsvTest {
    /** The demo output committed with the docs (run from the views module folder). */
    static final Path SAMPLE = Path.of("../docs/demo-sample/results.csv");

    private static final String HEADER = "method,budget,parameters,target_ce,target_fraction_of_lnV,seconds,delta_ce_de,delta_ce_en\n";

    @TempDir
    Path dir;

    @Test
    void readsEveryRunOfTheDemoSampleForGermanRemovedEnglishKept() {
        List<TradeoffPoint> points = TradeoffChart.readCsv(SAMPLE);
        assertEquals(30, points.size());
        assertEquals(new TradeoffPoint("prefactor-spd", 4, 4.77184, 0.58792), points.get(0));
        assertEquals(new TradeoffPoint("lora-r1", 64, 0.64948, 0.02508), points.get(17));
        assertEquals(new TradeoffPoint("head-lora-r4", 1024, 3.40932, 0.04463), points.get(29));
        assertEquals(List.of("prefactor-spd", "prefactor-svd", "lora-r1-local", "lora-r1", "lora-r4", "head-lora-r4"),
                points.stream().map(TradeoffPoint::method).distinct().toList());
    }

    @Test
    void otherLanguagePairsReadTheirColumns() {
        List<TradeoffPoint> points = TradeoffChart.readCsv(SAMPLE, "de", "fr");
        assertEquals(2.20466, points.get(0).retainDelta());
        assertEquals(4.77184, points.get(0).targetDelta());
    }

    @Test
    void aTargetTheStudyDidNotRemoveIsRefused() {
        ScalpelException e = assertThrows(ScalpelException.class, () -> TradeoffChart.readCsv(SAMPLE, "en", "de"));
        assertTrue(e.getMessage().contains("lines 2 and 3") && e.getMessage().contains("'en' is not the language this study removed"),
                e.getMessage());
    }

    @Test
    void aBadNumberNamesFileLineColumnAndFix() throws IOException {
        Path csv = write(HEADER + "prefactor,4,1,4.99,0.55,4.5,0.155,0.092\nprefactor,sixteen,1,5.07,0.56,5.2,0.237,0.141\n");
        ScalpelException e = assertThrows(ScalpelException.class, () -> TradeoffChart.readCsv(csv));
        assertEquals(csv + " line 3: budget 'sixteen' is not a whole number; fix or delete that line.", e.getMessage());

        Path delta = write(HEADER + "prefactor,4,1,4.99,0.55,4.5,0.155,n/a\n");
        e = assertThrows(ScalpelException.class, () -> TradeoffChart.readCsv(delta));
        assertEquals(delta + " line 2: delta_ce_en 'n/a' is not a number; fix or delete that line.", e.getMessage());
    }

    @Test
    void aShortLineAMissingColumnAndAnEmptyFileAreNamed() throws IOException {
        Path shortLine = write(HEADER + "prefactor,4,1,4.99,0.55,4.5,0.155,0.092\n\nlora-r1,4,512\n");
        ScalpelException e = assertThrows(ScalpelException.class, () -> TradeoffChart.readCsv(shortLine));
        assertEquals(shortLine + " line 4: 3 fields, but the header has 8; fix or delete that line.", e.getMessage());

        Path noGerman = write("method,budget,delta_ce_en,delta_ce_fr\nprefactor,4,0.1,0.2\n");
        e = assertThrows(ScalpelException.class, () -> TradeoffChart.readCsv(noGerman));
        assertTrue(e.getMessage().startsWith(noGerman + " line 1: no column 'delta_ce_de'"), e.getMessage());
        assertTrue(e.getMessage().endsWith("choose languages the study scored: [en, fr]."), e.getMessage());

        Path empty = write("");
        e = assertThrows(ScalpelException.class, () -> TradeoffChart.readCsv(empty));
        assertTrue(e.getMessage().startsWith(empty + " line 1: the file is empty"), e.getMessage());

        Path headerOnly = write(HEADER);
        e = assertThrows(ScalpelException.class, () -> TradeoffChart.readCsv(headerOnly));
        assertTrue(e.getMessage().startsWith(headerOnly + " line 2: no result lines"), e.getMessage());
    }

    @Test
    void aMissingFileSaysHowToMakeOne() {
        Path missing = dir.resolve("nowhere/results.csv");
        ScalpelException e = assertThrows(ScalpelException.class, () -> TradeoffChart.readCsv(missing));
        assertTrue(e.getMessage().startsWith("Cannot read " + missing) && e.getMessage().contains("scalpel demo --out DIR"),
                e.getMessage());
    }

    private Path write(String text) throws IOException {
        Path file = Files.createTempFile(dir, "results", ".csv");
        return Files.writeString(file, text);
    }
}
