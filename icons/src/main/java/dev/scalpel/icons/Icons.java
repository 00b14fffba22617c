package dev.scalpel.icons;

import java.net.URL;
import java.util.Objects;

/** The application's icons as classpath resources (SVG sources; the UI renders them). */
public final class Icons {
    /** The app icon (SVG source). */
    public static final String APP = "scalpel.svg";
    /** The app icon rendered to 256×256 PNG (convert -background none scalpel.svg -resize 256x256 scalpel.png). */
    public static final String APP_PNG = "scalpel.png";

    private Icons() {}

    /** The resource of icon {@code name}, e.g. {@link #APP}; an unknown name is a programming error. */
    public static URL resource(String name) {
        return Objects.requireNonNull(Icons.class.getResource(name), () -> "no icon resource '" + name + "'");
    }
}
