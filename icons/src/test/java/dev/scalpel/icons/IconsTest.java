package dev.scalpel.icons;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class IconsTest {
    @Test
    void theAppIconIsAnSvgOnTheClasspath() throws IOException {
        try (InputStream in = Icons.resource(Icons.APP).openStream()) {
            String svg = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(svg.startsWith("<svg") && svg.contains("viewBox=\"0 0 256 256\""), svg.substring(0, 40));
        }
    }

    @Test
    void anUnknownIconIsReported() {
        assertThrows(NullPointerException.class, () -> Icons.resource("nope.svg"));
    }
}
