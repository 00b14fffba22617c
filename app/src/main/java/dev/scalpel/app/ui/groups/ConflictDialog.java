package dev.scalpel.app.ui.groups;

import dev.scalpel.engine.api.HeadId;
import dev.scalpel.engine.groups.HeadGroupRegistry.OnConflict;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import javafx.scene.control.Alert;
import javafx.scene.control.ButtonBar;
import javafx.scene.control.ButtonType;
import javafx.stage.Window;

/** Asks how to resolve a head-group conflict: replace the owners, keep their heads, or cancel. */
public final class ConflictDialog implements HeadGroupsViewModel.ConflictResolver {
    static final ButtonType REPLACE = new ButtonType("Replace", ButtonBar.ButtonData.YES);
    static final ButtonType KEEP = new ButtonType("Keep theirs", ButtonBar.ButtonData.NO);

    private final Window owner;

    public ConflictDialog(Window owner) {
        this.owner = owner;
    }

    @Override
    public Optional<OnConflict> resolve(String group, Map<HeadId, String> contested) {
        Alert alert = new Alert(Alert.AlertType.WARNING, "", REPLACE, KEEP, ButtonType.CANCEL);
        alert.initOwner(owner);
        alert.setTitle("Head group conflict");
        alert.setHeaderText(group + " claims " + contested.size() + (contested.size() == 1 ? " head" : " heads") + " that loaded groups own");
        alert.setContentText(contested.entrySet().stream().map(e -> e.getKey() + " — " + e.getValue()).collect(Collectors.joining(", "))
                + "\n\nReplace: swap those groups out and apply " + group + " whole.\nKeep theirs: apply only " + group
                + "'s free heads.\nCancel: change nothing.");
        alert.getDialogPane().setId("conflictDialog");
        alert.getDialogPane().setMinWidth(520);
        return alert.showAndWait().map(b -> b == REPLACE ? OnConflict.REPLACE : b == KEEP ? OnConflict.KEEP : OnConflict.CANCEL);
    }
}
