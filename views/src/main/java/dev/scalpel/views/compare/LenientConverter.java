package dev.scalpel.views.compare;

import java.util.function.Function;
import javafx.scene.control.SpinnerValueFactory;
import javafx.util.StringConverter;

/** Spinner text ↔ number where text that does not parse keeps the spinner's current value instead of throwing. */
final class LenientConverter<T> extends StringConverter<T> {
    private final Function<String, T> parser;
    private final SpinnerValueFactory<T> values;

    LenientConverter(Function<String, T> parser, SpinnerValueFactory<T> values) {
        this.parser = parser;
        this.values = values;
    }

    @Override
    public String toString(T value) {
        return value == null ? "" : value.toString();
    }

    @Override
    public T fromString(String text) {
        try {
            return parser.apply(text.trim());
        } catch (NumberFormatException e) {
            return values.getValue();
        }
    }
}
