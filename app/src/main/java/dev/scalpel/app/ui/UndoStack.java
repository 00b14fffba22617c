package dev.scalpel.app.ui;

import java.util.ArrayDeque;
import java.util.Deque;
import javafx.beans.property.ReadOnlyBooleanProperty;
import javafx.beans.property.ReadOnlyBooleanWrapper;
import javafx.beans.property.ReadOnlyStringProperty;
import javafx.beans.property.ReadOnlyStringWrapper;

/**
 * Edit ▸ Undo / Redo: a stack of actions already done (adding a trained edit, applying or swapping out a head group …),
 * each knowing how to undo and redo itself. Doing something new clears the redo side.
 */
public final class UndoStack {
    /** Something the user did, e.g. "apply head group de-heads", with its inverse. */
    public record Action(String name, Runnable undo, Runnable redo) {}

    private final Deque<Action> done = new ArrayDeque<>();
    private final Deque<Action> undone = new ArrayDeque<>();
    private final ReadOnlyBooleanWrapper canUndo = new ReadOnlyBooleanWrapper(this, "canUndo");
    private final ReadOnlyBooleanWrapper canRedo = new ReadOnlyBooleanWrapper(this, "canRedo");
    private final ReadOnlyStringWrapper undoName = new ReadOnlyStringWrapper(this, "undoName", "");
    private final ReadOnlyStringWrapper redoName = new ReadOnlyStringWrapper(this, "redoName", "");

    /** Records an action the caller has just done. */
    public void done(Action action) {
        done.push(action);
        undone.clear();
        refresh();
    }

    /** Forgets every action (after opening a workspace: its state is the starting point, not something to undo). */
    public void clear() {
        done.clear();
        undone.clear();
        refresh();
    }

    /** Undoes the last action; nothing when there is none. */
    public void undo() {
        if (!done.isEmpty()) {
            Action a = done.peek();
            a.undo().run();              // if it refuses (throws), the action stays where it was
            done.pop();
            undone.push(a);
            refresh();
        }
    }

    /** Redoes the last undone action; nothing when there is none. */
    public void redo() {
        if (!undone.isEmpty()) {
            Action a = undone.peek();
            a.redo().run();
            undone.pop();
            done.push(a);
            refresh();
        }
    }

    public ReadOnlyBooleanProperty canUndoProperty() {
        return canUndo.getReadOnlyProperty();
    }

    public ReadOnlyBooleanProperty canRedoProperty() {
        return canRedo.getReadOnlyProperty();
    }

    /** The name of what Undo would undo, or "". */
    public ReadOnlyStringProperty undoNameProperty() {
        return undoName.getReadOnlyProperty();
    }

    /** The name of what Redo would redo, or "". */
    public ReadOnlyStringProperty redoNameProperty() {
        return redoName.getReadOnlyProperty();
    }

    private void refresh() {
        canUndo.set(!done.isEmpty());
        canRedo.set(!undone.isEmpty());
        undoName.set(done.isEmpty() ? "" : done.peek().name());
        redoName.set(undone.isEmpty() ? "" : undone.peek().name());
    }
}
