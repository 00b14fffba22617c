package dev.scalpel.views.compare;

import javafx.scene.control.SpinnerValueFactory;

/** Spinner values for a {@code long} sampling seed; the arrows stop at the ends of the range instead of wrapping. */
final class SeedValueFactory extends SpinnerValueFactory<Long> {

    SeedValueFactory(long initial) {
        setValue(initial);
        setConverter(new LenientConverter<>(Long::valueOf, this));
    }

    @Override
    public void decrement(int steps) {
        long value = getValue();
        setValue(value - steps > value ? Long.MIN_VALUE : value - steps);
    }

    @Override
    public void increment(int steps) {
        long value = getValue();
        setValue(value + steps < value ? Long.MAX_VALUE : value + steps);
    }
}
