package dev.scalpel.views.groups;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javafx.scene.paint.Color;

/**
 * Group colours: eight distinguishable colours, each group's picked from its name so it keeps its colour across
 * redraws and sessions. When two groups of the library would share a colour, the later one takes the next unused
 * colour, so up to eight groups are always told apart. Pure red and green are left out: they mark the drop preview.
 */
final class GroupPalette {
    static final Color FREE = Color.web("#dedede");
    static final Color TAKE = Color.web("#1a9641");
    static final Color CONFLICT = Color.web("#d7191c");

    private static final List<Color> COLOURS = List.of(Color.web("#4e79a7"), Color.web("#f28e2b"), Color.web("#76b7b2"),
            Color.web("#edc948"), Color.web("#b07aa1"), Color.web("#ff9da7"), Color.web("#9c755f"), Color.web("#2f4b7c"));

    private final Map<String, Color> assigned = new HashMap<>();

    /** Gives each of {@code names}, in order, its name's colour, or the next unused one if an earlier name has it. */
    void assign(List<String> names) {
        assigned.clear();
        Set<Integer> used = new HashSet<>();
        for (String name : names) {
            int index = preferred(name);
            while (used.size() < COLOURS.size() && used.contains(index)) {
                index = (index + 1) % COLOURS.size();
            }
            used.add(index);
            assigned.put(name, COLOURS.get(index));
        }
    }

    /** The colour of the group called {@code name}: as assigned, or its name's colour if it was not assigned one. */
    Color colour(String name) {
        Color colour = assigned.get(name);
        return colour != null ? colour : COLOURS.get(preferred(name));
    }

    /** How many distinct group colours there are. */
    static int size() {
        return COLOURS.size();
    }

    private static int preferred(String name) {
        int hash = name.hashCode();
        return Math.floorMod(hash ^ (hash >>> 16), COLOURS.size());
    }
}
