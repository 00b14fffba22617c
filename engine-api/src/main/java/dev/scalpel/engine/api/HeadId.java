package dev.scalpel.engine.api;

/**
 * One attention head: its layer (0-based) and its query-head index within that layer (0-based).
 */
public record HeadId(int layer, int head) implements Comparable<HeadId> {

    public HeadId {
        if (layer < 0 || head < 0) {
            throw new IllegalArgumentException("HeadId needs layer >= 0 and head >= 0, got L" + layer + "H" + head);
        }
    }

    /** Parses the {@code L3H5} form used in files and on the command line. */
    public static HeadId parse(String text) {
        var m = java.util.regex.Pattern.compile("[Ll](\\d+)[.:]?[Hh](\\d+)").matcher(text.trim());
        if (!m.matches()) {
            throw new IllegalArgumentException("'" + text + "' is not a head; write it as L<layer>H<head>, e.g. L3H5");
        }
        return new HeadId(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)));
    }

    @Override
    public int compareTo(HeadId o) {
        return layer != o.layer ? Integer.compare(layer, o.layer) : Integer.compare(head, o.head);
    }

    @Override
    public String toString() {
        return "L" + layer + "H" + head;
    }
}
