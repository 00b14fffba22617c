package dev.scalpel.app;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;

/**
 * Defaults for the installed application (the jpackage launcher passes {@code -Dscalpel.packaged=true}). The native
 * libraries ship inside the bundled jars and unpack on first start, never into the read-only install folder but into
 * the user's cache folder, {@code $XDG_CACHE_HOME/scalpel} (else {@code ~/.cache/scalpel}): JavaCPP's libtorch, MKL and
 * OpenBLAS under {@code javacpp/}, the tokenizer's under {@code djl/}, JavaFX's under {@code openjfx/}. jpackage's
 * --java-options cannot expand the home folder, so this happens here, before any native library loads. The home folder
 * is {@code $HOME} (Java's user.home comes from the password database instead), so {@code HOME=/tmp/x scalpel …} keeps
 * every per-user file (caches, ~/.scalpel) under /tmp/x. A property (or, for DJL, an environment variable) set already
 * wins; outside the package (./scalpel) nothing changes.
 */
final class PackagedRuntime {
    static final String PACKAGED = "scalpel.packaged";
    static final String JAVACPP_CACHE = "org.bytedeco.javacpp.cachedir";
    static final String DJL_CACHE = "DJL_CACHE_DIR";
    static final String JAVAFX_CACHE = "javafx.cachedir";

    private PackagedRuntime() {}

    /** Sets the home and cache folders in {@code props} when {@code props} says this is the installed application. */
    static void applyDefaults(Properties props, Map<String, String> env) {
        if (!Boolean.parseBoolean(props.getProperty(PACKAGED))) {
            return;
        }
        String home = env.get("HOME");
        if (absolute(home) && Files.isDirectory(Path.of(home))) {
            props.setProperty("user.home", home);
        }
        Path root = cacheRoot(env, props.getProperty("user.home"));
        setIfAbsent(props, JAVACPP_CACHE, root.resolve("javacpp").toString());
        if (env.get(DJL_CACHE) == null) {
            setIfAbsent(props, DJL_CACHE, root.resolve("djl").toString());
        }
        setIfAbsent(props, JAVAFX_CACHE, root.resolve("openjfx").toString());
    }

    /** {@code $XDG_CACHE_HOME/scalpel}, or {@code HOME/.cache/scalpel} when that is unset or relative (as the XDG spec says). */
    static Path cacheRoot(Map<String, String> env, String home) {
        String xdg = env.get("XDG_CACHE_HOME");
        return absolute(xdg) ? Path.of(xdg, "scalpel") : Path.of(home, ".cache", "scalpel");
    }

    private static boolean absolute(String path) {
        return path != null && !path.isBlank() && Path.of(path).isAbsolute();
    }

    private static void setIfAbsent(Properties props, String key, String value) {
        String current = props.getProperty(key);
        if (current == null || current.isBlank()) {
            props.setProperty(key, value);
        }
    }
}
