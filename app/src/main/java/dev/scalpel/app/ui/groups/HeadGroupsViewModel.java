package dev.scalpel.app.ui.groups;

import dev.scalpel.app.ui.Session;
import dev.scalpel.engine.api.HeadId;
import dev.scalpel.engine.api.HeadSet;
import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.groups.HeadGroupRegistry.OnConflict;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import javafx.beans.property.ReadOnlyStringProperty;
import javafx.beans.property.ReadOnlyStringWrapper;

/**
 * The head-group diagram's actions without any UI: add group files to the library, apply a dropped group (asking
 * the user how to resolve conflicts), swap a loaded group out. Every change goes through the session, so undo
 * restores it; every refusal becomes a status line.
 */
public final class HeadGroupsViewModel {
    /** How the user resolves a conflict: replace, keep or cancel (empty: the dialog was closed). */
    @FunctionalInterface
    public interface ConflictResolver {
        Optional<OnConflict> resolve(String group, Map<HeadId, String> contested);
    }

    private final Session session;
    private final ConflictResolver resolver;
    private final ReadOnlyStringWrapper status = new ReadOnlyStringWrapper(this, "status", "");

    public HeadGroupsViewModel(Session session, ConflictResolver resolver) {
        this.session = session;
        this.resolver = resolver;
    }

    public ReadOnlyStringProperty statusProperty() {
        return status.getReadOnlyProperty();
    }

    /** Reads a head-group file into the library; a bad or incompatible file becomes the status. */
    public void addToLibrary(Path file) {
        try {
            Session.LibraryGroup g = session.addToLibrary(file);
            status.set("added head group " + g.name() + " (" + g.group().heads().size() + " heads) to the library");
        } catch (ScalpelException e) {
            status.set("cannot add " + file.getFileName() + ": " + e.getMessage());
        }
    }

    /** Heads {@code group} would take that loaded groups own, with their owner: the red slots of the drag preview. */
    public Map<HeadId, String> conflicts(String group) {
        return library(group).map(session::conflicts).orElse(Map.of());
    }

    /** A library group dropped on the model: apply it, asking the resolver first when it conflicts. */
    public void apply(String group) {
        Optional<Session.LibraryGroup> entry = library(group);
        if (entry.isEmpty()) {
            status.set("no head group named '" + group + "' is in the library");
            return;
        }
        if (session.loadedGroups().containsKey(group)) {
            status.set("head group " + group + " is already swapped in; click it to swap it out");
            return;
        }
        Map<HeadId, String> contested = session.conflicts(entry.get());
        OnConflict choice = OnConflict.CANCEL;
        if (!contested.isEmpty()) {
            Optional<OnConflict> answer = resolver.resolve(group, contested);
            if (answer.isEmpty() || answer.get() == OnConflict.CANCEL) {
                status.set("did not apply " + group + ": it conflicts with " + HeadSet.of(contested.keySet()));
                return;
            }
            choice = answer.get();
        }
        try {
            HeadSet taken = session.applyGroup(entry.get(), choice);
            status.set("swapped in " + group + ": " + taken.size() + " heads" + (choice == OnConflict.KEEP && !contested.isEmpty()
                    ? " (left " + contested.size() + (contested.size() == 1 ? " contested head" : " contested heads") + " with their owners)" : choice == OnConflict.REPLACE
                    ? " (replaced " + String.join(", ", contested.values().stream().distinct().toList()) + ")" : ""));
        } catch (ScalpelException e) {
            status.set("cannot apply " + group + ": " + e.getMessage());
        }
    }

    /** Swaps a loaded group out, restoring the weights it displaced. */
    public void swapOut(String group) {
        if (!session.loadedGroups().containsKey(group)) {
            status.set("head group " + group + " is not swapped in");
            return;
        }
        session.swapOutGroup(group);
        status.set("swapped out " + group + "; its heads have their previous weights again");
    }

    private Optional<Session.LibraryGroup> library(String name) {
        return session.library().stream().filter(g -> g.name().equals(name)).findFirst();
    }
}
