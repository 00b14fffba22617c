package dev.scalpel.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The installed application unpacks its natives into the user's cache folder; the source tree's ./scalpel is unchanged. */
class PackagedRuntimeTest {
    private static Properties props(String... keyValues) {
        Properties p = new Properties();
        for (int i = 0; i < keyValues.length; i += 2) {
            p.setProperty(keyValues[i], keyValues[i + 1]);
        }
        return p;
    }

    @Test
    void outsideThePackageNothingIsSet() {
        Properties p = props("user.home", "/home/ada");
        PackagedRuntime.applyDefaults(p, Map.of());
        assertNull(p.getProperty(PackagedRuntime.JAVACPP_CACHE));
        assertNull(p.getProperty(PackagedRuntime.DJL_CACHE));
        assertNull(p.getProperty(PackagedRuntime.JAVAFX_CACHE));
    }

    @Test
    void packagedCachesGoUnderTheUsersCacheFolder() {
        Properties p = props("user.home", "/home/ada", PackagedRuntime.PACKAGED, "true");
        PackagedRuntime.applyDefaults(p, Map.of());
        assertEquals("/home/ada/.cache/scalpel/javacpp", p.getProperty(PackagedRuntime.JAVACPP_CACHE));
        assertEquals("/home/ada/.cache/scalpel/djl", p.getProperty(PackagedRuntime.DJL_CACHE));
        assertEquals("/home/ada/.cache/scalpel/openjfx", p.getProperty(PackagedRuntime.JAVAFX_CACHE));
    }

    @Test
    void xdgCacheHomeIsHonouredWhenAbsolute() {
        assertEquals(Path.of("/var/cache/ada/scalpel"), PackagedRuntime.cacheRoot(Map.of("XDG_CACHE_HOME", "/var/cache/ada"), "/home/ada"));
        assertEquals(Path.of("/home/ada/.cache/scalpel"), PackagedRuntime.cacheRoot(Map.of("XDG_CACHE_HOME", "rel"), "/home/ada"));
    }

    @Test
    void homeFromTheEnvironmentBecomesUserHome(@TempDir Path scratch) {
        Properties p = props("user.home", "/home/ada", PackagedRuntime.PACKAGED, "true");
        PackagedRuntime.applyDefaults(p, Map.of("HOME", scratch.toString()));
        assertEquals(scratch.toString(), p.getProperty("user.home"));
        assertEquals(scratch.resolve(".cache/scalpel/javacpp").toString(), p.getProperty(PackagedRuntime.JAVACPP_CACHE));
    }

    @Test
    void aMissingOrRelativeHomeIsIgnored() {
        for (String home : new String[] {"", "rel", "/no/such/folder"}) {
            Properties p = props("user.home", "/home/ada", PackagedRuntime.PACKAGED, "true");
            PackagedRuntime.applyDefaults(p, Map.of("HOME", home));
            assertEquals("/home/ada", p.getProperty("user.home"), home);
        }
    }

    @Test
    void outsideThePackageHomeIsLeftAlone(@TempDir Path scratch) {
        Properties p = props("user.home", "/home/ada");
        PackagedRuntime.applyDefaults(p, Map.of("HOME", scratch.toString()));
        assertEquals("/home/ada", p.getProperty("user.home"));
    }

    @Test
    void settingsGivenAlreadyWin() {
        Properties p = props("user.home", "/home/ada", PackagedRuntime.PACKAGED, "true", PackagedRuntime.JAVACPP_CACHE, "/tmp/jc");
        PackagedRuntime.applyDefaults(p, Map.of(PackagedRuntime.DJL_CACHE, "/tmp/djl"));
        assertEquals("/tmp/jc", p.getProperty(PackagedRuntime.JAVACPP_CACHE));
        assertNull(p.getProperty(PackagedRuntime.DJL_CACHE), "DJL reads its environment variable itself");
        assertEquals("/home/ada/.cache/scalpel/openjfx", p.getProperty(PackagedRuntime.JAVAFX_CACHE));
    }
}
