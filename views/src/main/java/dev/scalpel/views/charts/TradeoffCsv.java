package dev.scalpel.views.charts;

import dev.scalpel.engine.api.ScalpelException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Reads the {@code results.csv} that {@code scalpel demo} writes: header
 * {@code method,budget,parameters,target_ce,target_fraction_of_lnV,seconds,delta_ce_<lang>…}, one line per run, CE
 * deltas already relative to the base model. Checks that the chosen target really is the language the study removed
 * ({@code target_ce − delta_ce_<target>}, the base CE, must be the same on every line).
 */
final class TradeoffCsv {
    private static final String DELTA_PREFIX = "delta_ce_";
    /** The CSV holds 5 decimals; two roundings make the implied base CE wobble by up to 1e-5. */
    private static final double BASE_TOLERANCE = 1e-3;

    private final Path file;
    private final List<String> header;

    private TradeoffCsv(Path file, List<String> header) {
        this.file = file;
        this.header = header;
    }

    static List<TradeoffPoint> read(Path file, String target, String retain) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new ScalpelException("Cannot read " + file + " (" + e.getMessage()
                    + "); run `scalpel demo --out DIR` and open DIR/results.csv.", e);
        }
        if (lines.isEmpty() || lines.get(0).isBlank()) {
            throw new ScalpelException(file + " line 1: the file is empty; open the results.csv written by `scalpel demo`.");
        }
        TradeoffCsv csv = new TradeoffCsv(file, Arrays.stream(lines.get(0).replace("\uFEFF", "").split(",", -1)).map(String::trim).toList());
        return csv.points(lines, target, retain);
    }

    private List<TradeoffPoint> points(List<String> lines, String target, String retain) {
        int method = column("method"), budget = column("budget");
        int targetDelta = column(DELTA_PREFIX + target), retainDelta = column(DELTA_PREFIX + retain);
        int targetCe = header.indexOf("target_ce");
        List<TradeoffPoint> points = new ArrayList<>();
        double baseCe = Double.NaN;
        int baseLine = 0;
        for (int i = 1; i < lines.size(); i++) {
            int line = i + 1;
            if (lines.get(i).isBlank()) {
                continue;
            }
            String[] fields = lines.get(i).split(",", -1);
            if (fields.length != header.size()) {
                throw new ScalpelException(String.format(Locale.ROOT, "%s line %d: %d fields, but the header has %d; fix or delete that line.",
                        file, line, fields.length, header.size()));
            }
            if (fields[method].isBlank()) {
                throw new ScalpelException(file + " line " + line + ": the method is empty; fix or delete that line.");
            }
            TradeoffPoint p = new TradeoffPoint(fields[method].trim(), wholeNumber(fields, budget, line),
                    number(fields, targetDelta, line), number(fields, retainDelta, line));
            if (targetCe >= 0 && Double.isFinite(number(fields, targetCe, line)) && Double.isFinite(p.targetDelta())) {
                double base = number(fields, targetCe, line) - p.targetDelta();
                if (Double.isNaN(baseCe)) {
                    baseCe = base;
                    baseLine = line;
                } else if (Math.abs(base - baseCe) > BASE_TOLERANCE) {
                    throw new ScalpelException(String.format(Locale.ROOT, "%s lines %d and %d: target_ce − %s%s differs (%.4f vs %.4f), so "
                            + "'%s' is not the language this study removed; choose the demo's --target language.",
                            file, baseLine, line, DELTA_PREFIX, target, baseCe, base, target));
                }
            }
            points.add(p);
        }
        if (points.isEmpty()) {
            throw new ScalpelException(file + " line 2: no result lines after the header; run `scalpel demo` to completion and open its results.csv.");
        }
        return points;
    }

    private int column(String name) {
        int index = header.indexOf(name);
        if (index < 0) {
            List<String> languages = header.stream().filter(h -> h.startsWith(DELTA_PREFIX)).map(h -> h.substring(DELTA_PREFIX.length())).toList();
            throw new ScalpelException(file + " line 1: no column '" + name + "' (columns: " + String.join(",", header) + "); "
                    + (name.startsWith(DELTA_PREFIX) ? "choose languages the study scored: " + languages
                    : "open the results.csv written by `scalpel demo`") + ".");
        }
        return index;
    }

    private double number(String[] fields, int column, int line) {
        try {
            return Double.parseDouble(fields[column].trim());
        } catch (NumberFormatException e) {
            throw new ScalpelException(String.format(Locale.ROOT, "%s line %d: %s '%s' is not a number; fix or delete that line.",
                    file, line, header.get(column), fields[column]));
        }
    }

    private int wholeNumber(String[] fields, int column, int line) {
        try {
            return Integer.parseInt(fields[column].trim());
        } catch (NumberFormatException e) {
            throw new ScalpelException(String.format(Locale.ROOT, "%s line %d: %s '%s' is not a whole number; fix or delete that line.",
                    file, line, header.get(column), fields[column]));
        }
    }
}
