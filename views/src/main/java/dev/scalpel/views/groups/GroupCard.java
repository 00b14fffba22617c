package dev.scalpel.views.groups;

import dev.scalpel.engine.api.HeadSet;
import java.util.Objects;

/**
 * One saved head group as the diagram's library shows it: its name (unique in the library) and the heads it holds.
 *
 * @param name  the group's name, not blank
 * @param heads the heads the group takes when applied
 */
public record GroupCard(String name, HeadSet heads) {
    public GroupCard {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(heads, "heads");
        if (name.isBlank()) {
            throw new IllegalArgumentException("A head group card needs a name; got a blank one.");
        }
    }
}
