package dev.scalpel.views.charts;

import javafx.scene.Node;
import javafx.scene.image.PixelReader;
import javafx.scene.image.WritableImage;
import javafx.scene.paint.Color;

/** Counts pixels of a node's rendering, to check a chart really drew its data. */
final class ChartImages {
    private ChartImages() {}

    /** Renders {@code node} (on the FX thread) and counts pixels within 0.08 per channel of {@code colour}. */
    static int pixelsNear(Node node, Color colour) {
        WritableImage image = node.snapshot(null, null);
        PixelReader pixels = image.getPixelReader();
        int count = 0;
        for (int y = 0; y < (int) image.getHeight(); y++) {
            for (int x = 0; x < (int) image.getWidth(); x++) {
                Color c = pixels.getColor(x, y);
                if (Math.abs(c.getRed() - colour.getRed()) < 0.08 && Math.abs(c.getGreen() - colour.getGreen()) < 0.08
                        && Math.abs(c.getBlue() - colour.getBlue()) < 0.08) {
                    count++;
                }
            }
        }
        return count;
    }
}
