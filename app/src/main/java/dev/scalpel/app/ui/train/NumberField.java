package dev.scalpel.app.ui.train;

import java.math.BigDecimal;
import java.util.function.Function;
import javafx.beans.property.Property;
import javafx.beans.value.ChangeListener;
import javafx.beans.value.WeakChangeListener;
import javafx.collections.ObservableMap;
import javafx.scene.control.TextField;

/**
 * A text field that edits a number property as the user types: text that parses sets the property at once; text that
 * does not leaves the property alone, outlines the field in red and puts a one-line error under the field's id into
 * {@code errors} until it is fixed. Changes of the property from elsewhere show in the field.
 */
public final class NumberField {
    private static final String INVALID_STYLE = "-fx-border-color: #c62828; -fx-border-width: 1.5;";

    private NumberField() {}

    /**
     * @param label what the field is, for the error line, e.g. "Steps"
     * @param kind  what the text must be, e.g. "a whole number"
     * @param parse reads the trimmed text; throws {@link NumberFormatException} when it is not a number
     */
    public static TextField of(String id, String label, String kind, Property<Number> property, Function<String, Number> parse,
                        ObservableMap<String, String> errors) {
        TextField field = new TextField(text(property.getValue()));
        field.setId(id);
        field.setPrefColumnCount(8);
        field.textProperty().addListener((obs, old, text) -> {
            try {
                Number value = parse.apply(text.trim());
                errors.remove(id);
                field.setStyle("");
                if (!value.equals(property.getValue())) {
                    property.setValue(value);
                }
            } catch (NumberFormatException e) {
                errors.put(id, label + ": '" + text.trim() + "' is not " + kind + ".");
                field.setStyle(INVALID_STYLE);
            }
        });
        ChangeListener<Number> toText = (obs, old, now) -> {
            if (errors.containsKey(id) || !now.equals(parse.apply(field.getText().trim()))) {
                field.setText(text(now));
            }
        };
        property.addListener(new WeakChangeListener<>(toText));
        field.getProperties().put(NumberField.class, toText);  // the field keeps the listener alive, the property does not
        return field;
    }

    /** 0.0001 rather than 1.0E-4; scientific notation only for very large or small numbers. */
    static String text(Number value) {
        if (value instanceof Double d && d != 0 && Math.abs(d) >= 1e-6 && Math.abs(d) < 1e9) {
            return BigDecimal.valueOf(d).stripTrailingZeros().toPlainString();
        }
        return String.valueOf(value);
    }
}
