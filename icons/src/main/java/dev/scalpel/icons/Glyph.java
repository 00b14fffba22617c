package dev.scalpel.icons;

/**
 * Toolbar and menu glyphs as SVG path data on a 24 × 24 grid, drawn as outlines (stroke, no fill) so they stay crisp at
 * any size and follow the theme's text colour. Drawn for Scalpel; no third-party artwork.
 */
public enum Glyph {
    /** A folder. */
    OPEN("M3 6h6l2 2h10v11H3z"),
    /** A floppy disk. */
    SAVE("M4 3h13l4 4v14H4z M8 3v5h8V3 M7 13h10v8H7z"),
    /** An arrow turning back to the left. */
    UNDO("M9 6L4 11l5 5 M4 11h10a5 5 0 0 1 0 10h-2"),
    /** An arrow turning forward to the right. */
    REDO("M15 6l5 5-5 5 M20 11H10a5 5 0 0 0 0 10h2"),
    /** A 3 × 3 grid: compute an importance map. */
    HEATMAP("M3 3h18v18H3z M3 9h18 M3 15h18 M9 3v18 M15 3v18"),
    /** A lightning bolt: train. */
    TRAIN("M13 2L4 14h7l-1 8 9-12h-7z"),
    /** An arrow out of a tray: export. */
    EXPORT("M12 15V3 M7 8l5-5 5 5 M4 14v7h16v-7"),
    /** Two columns: A/B compare. */
    COMPARE("M3 4h8v16H3z M13 4h8v16h-8z"),
    /** Bars on a baseline: evaluate per language. */
    EVAL("M5 20V11 M10 20V5 M15 20v-6 M20 20V8 M2 20h20"),
    /** Four slots: head groups. */
    GROUPS("M3 3h7v7H3z M14 3h7v7h-7z M3 14h7v7H3z M14 14h7v7h-7z");

    private final String path;

    Glyph(String path) {
        this.path = path;
    }

    /** SVG path data on a 24 × 24 grid. */
    public String path() {
        return path;
    }
}
