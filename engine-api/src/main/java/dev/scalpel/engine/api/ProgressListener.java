package dev.scalpel.engine.api;

/** Receives progress of a long computation: the fraction done (0..1) and what is being done. */
@FunctionalInterface
public interface ProgressListener {
    void update(double fraction, String message);

    ProgressListener NONE = (fraction, message) -> { };
}
