package dev.scalpel.views.common;

import dev.scalpel.icons.Glyph;
import javafx.scene.Group;
import javafx.scene.Node;
import javafx.scene.paint.Color;
import javafx.scene.shape.Rectangle;
import javafx.scene.shape.SVGPath;
import javafx.scene.shape.StrokeLineCap;
import javafx.scene.shape.StrokeLineJoin;

/** Draws {@link Glyph}s as JavaFX nodes for toolbar buttons and menus. */
public final class GlyphNodes {
    private GlyphNodes() {}

    /** {@code glyph} as an outline {@code size} pixels square, in {@code colour}. */
    public static Node of(Glyph glyph, double size, Color colour) {
        SVGPath path = new SVGPath();
        path.setContent(glyph.path());
        path.setFill(null);
        path.setStroke(colour);
        path.setStrokeWidth(1.8);
        path.setStrokeLineCap(StrokeLineCap.ROUND);
        path.setStrokeLineJoin(StrokeLineJoin.ROUND);
        // a transparent 24 × 24 frame keeps every glyph the same size whatever its path's extent
        Rectangle frame = new Rectangle(24, 24, Color.TRANSPARENT);
        Group group = new Group(frame, path);
        group.setScaleX(size / 24);
        group.setScaleY(size / 24);
        return new Group(group);
    }
}
