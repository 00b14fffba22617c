package dev.scalpel.engine.archfixture;

/** A deliberate violation (test sources only) proving the UI-free rule fires. */
public final class EngineClassUsingJavaFx {
    public javafx.scene.paint.Color color() {
        return javafx.scene.paint.Color.RED;
    }
}
