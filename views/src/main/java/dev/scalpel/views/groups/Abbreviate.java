package dev.scalpel.views.groups;

import java.util.Collection;
import java.util.stream.Collectors;

/** Short text forms of long lists, for cards and status lines. */
final class Abbreviate {
    private Abbreviate() {
    }

    /** The first {@code max} items joined by ", ", then " … +N more" when some were left out. */
    static String firstFew(Collection<?> items, int max) {
        String shown = items.stream().limit(max).map(String::valueOf).collect(Collectors.joining(", "));
        return items.size() > max ? shown + " … +" + (items.size() - max) + " more" : shown;
    }
}
