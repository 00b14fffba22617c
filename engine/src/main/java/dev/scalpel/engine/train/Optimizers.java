package dev.scalpel.engine.train;

import dev.scalpel.engine.api.ScalpelException;
import java.util.List;

/** Makes the optimizer a training spec names. */
public final class Optimizers {
    private Optimizers() {}

    /**
     * @param name   adamw, apollo or apollo-mini
     * @param apollo APOLLO's settings, or null for the defaults of {@code name} with {@code seed}
     */
    public static Optimizer create(String name, List<Optimizer.Trainable> trainables, double lr, long seed, Apollo.Options apollo) {
        return switch (name) {
            case "adamw" -> new AdamW(trainables, new AdamW.Options(lr, 0.9, 0.999, 1e-8, 0.0));
            case "apollo", "apollo-mini" -> new Apollo(trainables, apollo != null ? apollo : apolloOptions(name, seed),
                    Apollo::inDecoderBlock);
            default -> throw new ScalpelException("Unknown optimizer '" + name + "'; use adamw, apollo or apollo-mini.");
        };
    }

    /** The default options of "apollo" or "apollo-mini" with {@code seed}. */
    public static Apollo.Options apolloOptions(String name, long seed) {
        return switch (name) {
            case "apollo" -> Apollo.Options.defaults().withSeed(seed);
            case "apollo-mini" -> Apollo.Options.mini().withSeed(seed);
            default -> throw new IllegalArgumentException(name + " is not an APOLLO optimizer");
        };
    }
}
