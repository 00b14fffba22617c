package dev.scalpel.app.cli;

import dev.scalpel.engine.edit.Edit;
import dev.scalpel.engine.edit.EditOverlay;
import dev.scalpel.engine.edit.EditsFile;
import dev.scalpel.engine.model.LinearOverlay;
import dev.scalpel.engine.model.LoadedModel;
import dev.scalpel.engine.model.ModelHash;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Option;

/** --edits FILE: run the model with the edits of an edits file (the base weights stay untouched). */
public final class EditsOptions {
    @Option(names = "--edits", paramLabel = "EDITS", description = "An edits file (.json) written by scalpel train, applied on top of --model.")
    Path edits;

    /** The overlay of the edits file, or null without --edits. The caller closes the returned edits. */
    public List<Edit> load(LoadedModel m) {
        return edits == null ? List.of() : EditsFile.read(edits, m.model(), ModelHash.of(m.dir()));
    }

    /** An overlay applying {@code loaded}, or null for none. */
    public static LinearOverlay overlay(List<Edit> loaded) {
        return loaded.isEmpty() ? null : new EditOverlay(loaded);
    }
}
