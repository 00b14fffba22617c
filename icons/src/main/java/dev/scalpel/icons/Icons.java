package dev.scalpel.icons;

import java.net.URL;
import java.util.Objects;

/** The application's icons as classpath resources (SVG sources; the UI renders them). */
public final class Icons {
    /** The app icon. */
    public static final String APP = "scalpel.svg";

    private Icons() {}

    /** The resource of icon {@code name}, e.g. {@link #APP}; an unknown name is a programming error. */
    public static URL resource(String name) {
        return Objects.requireNonNull(Icons.class.getResource(name), () -> "no icon resource '" + name + "'");
    }
}
