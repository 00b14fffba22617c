package dev.scalpel.app.ui;

import javafx.scene.control.Alert;
import javafx.stage.Window;

/** Message boxes with the engine's one-line explanations: never a stack trace. */
final class Alerts {
    private Alerts() {}

    static void error(Window owner, String title, String message) {
        Alert alert = new Alert(Alert.AlertType.ERROR, message);
        alert.initOwner(owner);
        alert.setTitle(title);
        alert.setHeaderText(title);
        alert.getDialogPane().setMinWidth(480);
        alert.show();
    }
}
