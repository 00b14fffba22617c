package dev.scalpel.engine.api;

import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A set of attention heads, e.g. the heads an edit touches or the top-k heads of an importance map.
 * Immutable and always sorted by {@link HeadId} order (layer, then head), so iteration and
 * {@link #toString()} are deterministic.
 *
 * <p>The text form, used on the command line and in files, is a comma-separated list such as
 * {@code L0H1,L2H3}; {@link #parse(String, int)} also accepts {@code L2H*} for every head of layer 2.
 *
 * @param heads the heads, sorted; unmodifiable
 */
public record HeadSet(SortedSet<HeadId> heads) {
    private static final Pattern WHOLE_LAYER = Pattern.compile("[Ll](\\d+)[.:]?[Hh]\\*");
    private static final HeadSet EMPTY = new HeadSet(new TreeSet<>());

    /** Copies {@code heads} into an unmodifiable sorted set. */
    public HeadSet {
        heads = Collections.unmodifiableSortedSet(new TreeSet<>(heads));
    }

    /** The set with no heads. */
    public static HeadSet empty() {
        return EMPTY;
    }

    /** The set of the given heads (duplicates collapse). */
    public static HeadSet of(HeadId... heads) {
        return of(List.of(heads));
    }

    /** The set of the given heads (duplicates collapse). */
    public static HeadSet of(Collection<HeadId> heads) {
        return new HeadSet(new TreeSet<>(heads));
    }

    /**
     * Parses {@code L0H1,L2H3} (spaces around commas allowed, empty text is the empty set).
     *
     * @throws ScalpelException if an item is not of the form {@code L<layer>H<head>}, or is
     *                          {@code L<layer>H*}, which needs the model's head count: use
     *                          {@link #parse(String, HeadGrid)}
     */
    public static HeadSet parse(String text) {
        return parseItems(text, null, null);
    }

    /**
     * Parses {@code L0H1,L2H3} and {@code L2H*} (all {@code headsPerLayer} heads of layer 2), for a model with the same
     * head count in every layer and any number of layers.
     *
     * @param headsPerLayer query heads per layer of the model the set is for; every head index must be below it
     * @throws ScalpelException naming the item that is wrong and the expected form, or a head beyond
     *                          {@code headsPerLayer}
     */
    public static HeadSet parse(String text, int headsPerLayer) {
        if (headsPerLayer < 1) {
            throw new IllegalArgumentException("headsPerLayer must be >= 1, got " + headsPerLayer);
        }
        return parseItems(text, (item, head) -> {
            if (head.head() >= headsPerLayer) {
                throw absent(head, item, HeadGrid.uniformAbsence(headsPerLayer));
            }
        }, layer -> headsPerLayer);
    }

    /**
     * Parses {@code L0H1,L2H3} and {@code L2H*} (every head of layer 2) for the model whose heads {@code grid} lists:
     * each layer, and each head within its own layer's count, must exist.
     *
     * @throws ScalpelException naming the item that is wrong and the expected form, or a head (layer) the model lacks
     */
    public static HeadSet parse(String text, HeadGrid grid) {
        Bounds bounds = (item, head) -> {
            if (!grid.contains(head)) {
                throw absent(head, item, grid.absence(head));
            }
        };
        return parseItems(text, bounds, layer -> {
            bounds.check(text, new HeadId(layer, 0));
            return grid.headsIn(layer);
        });
    }

    /** Refuses a head the model lacks, naming it in {@code text}. */
    private interface Bounds {
        void check(String text, HeadId head);
    }

    private static ScalpelException absent(HeadId head, String text, String why) {
        return new ScalpelException("Head " + head + " in '" + text + "' does not exist: " + why + ".");
    }

    /** Parses with known bounds, or without ({@code bounds} and {@code headsIn} null): then {@code *} is refused. */
    private static HeadSet parseItems(String text, Bounds bounds, java.util.function.IntUnaryOperator headsIn) {
        if (text.isBlank()) {
            return EMPTY;
        }
        TreeSet<HeadId> heads = new TreeSet<>();
        for (String item : text.split(",", -1)) {
            String trimmed = item.trim();
            Matcher wholeLayer = WHOLE_LAYER.matcher(trimmed);
            if (wholeLayer.matches()) {
                if (headsIn == null) {
                    throw new ScalpelException("'" + trimmed + "' means every head of a layer, which needs the model's head count; "
                            + "list the heads (L2H0,L2H1,...) or parse with the model's heads per layer.");
                }
                int layer = Integer.parseInt(wholeLayer.group(1));
                for (int h = 0, n = headsIn.applyAsInt(layer); h < n; h++) {
                    heads.add(new HeadId(layer, h));
                }
                continue;
            }
            HeadId head = parseOne(trimmed, text);
            if (bounds != null) {
                bounds.check(text, head);
            }
            heads.add(head);
        }
        return new HeadSet(heads);
    }

    private static HeadId parseOne(String item, String whole) {
        if (item.isEmpty()) {
            throw new ScalpelException("'" + whole + "' has an empty item; write heads as L<layer>H<head> separated by commas, "
                    + "e.g. L0H1,L2H3.");
        }
        try {
            return HeadId.parse(item);
        } catch (IllegalArgumentException notAHead) {   // HeadId's verdict on the text; this message says all it says
            throw new ScalpelException("'" + item + "' in '" + whole + "' is not a head; write heads as L<layer>H<head> "
                    + "separated by commas, e.g. L0H1,L2H3 (or L2H* for a whole layer).");
        }
    }

    /** Whether {@code head} is in the set. */
    public boolean contains(HeadId head) {
        return heads.contains(head);
    }

    /** How many heads the set has. */
    public int size() {
        return heads.size();
    }

    /** Whether the set has no heads. */
    public boolean isEmpty() {
        return heads.isEmpty();
    }

    /** The heads of one layer. */
    public HeadSet inLayer(int layer) {
        return of(heads.stream().filter(h -> h.layer() == layer).toList());
    }

    /** The heads in this set or in {@code other}. */
    public HeadSet union(HeadSet other) {
        TreeSet<HeadId> all = new TreeSet<>(heads);
        all.addAll(other.heads);
        return new HeadSet(all);
    }

    /** The text form {@code L0H1,L2H3} (empty for the empty set), which {@link #parse(String)} reads back. */
    @Override
    public String toString() {
        return String.join(",", heads.stream().map(HeadId::toString).toList());
    }
}
