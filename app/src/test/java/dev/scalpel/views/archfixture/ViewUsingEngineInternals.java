package dev.scalpel.views.archfixture;

/** A deliberate violation (test sources only) proving the views-see-only-api rule fires. */
public final class ViewUsingEngineInternals {
    public dev.scalpel.engine.model.ModelConfig config() {
        return null;
    }
}
