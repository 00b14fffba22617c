package dev.scalpel.views.groups;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.scalpel.engine.api.HeadGrid;
import dev.scalpel.engine.api.HeadId;
import dev.scalpel.engine.api.HeadSet;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import javafx.geometry.Point2D;
import javafx.scene.Node;
import javafx.scene.Scene;
import javafx.scene.control.Button;
import javafx.scene.control.Label;
import javafx.scene.image.WritableImage;
import javafx.scene.input.MouseButton;
import javafx.scene.paint.Color;
import javafx.stage.Stage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.testfx.api.FxRobot;
import org.testfx.framework.junit5.ApplicationExtension;
import org.testfx.framework.junit5.Start;

/** What a user does on the head-group diagram, with a real (headless) mouse: drag cards, click slots. */
@ExtendWith(ApplicationExtension.class)
class HeadGroupDiagramTest {
    private static final GroupCard A = new GroupCard("a", HeadSet.parse("L0H0,L0H1,L1H2,L1H3"));
    private static final GroupCard B = new GroupCard("b", HeadSet.parse("L1H2,L1H3,L2H0"));

    private HeadGroupDiagram diagram;
    private final List<String> drops = new ArrayList<>();
    private final List<String> swapOuts = new ArrayList<>();

    @Start
    void start(Stage stage) {
        diagram = new HeadGroupDiagram();
        diagram.gridProperty().set(HeadGrid.uniform(4, 6));
        diagram.library().setAll(A, B);
        diagram.onDropProperty().set(drops::add);
        diagram.onSwapOutProperty().set(swapOuts::add);
        // What the app supplies: the heads a card would take that another loaded group owns.
        diagram.conflictsProperty().set(name -> {
            HeadSet wanted = diagram.library().stream().filter(c -> c.name().equals(name)).findFirst().orElseThrow().heads();
            Map<HeadId, String> owned = new HashMap<>();
            diagram.loaded().forEach((owner, heads) -> heads.heads().stream()
                    .filter(h -> !owner.equals(name) && wanted.contains(h)).forEach(h -> owned.put(h, owner)));
            return owned;
        });
        stage.setScene(new Scene(diagram, 960, 540));
        stage.show();
    }

    /** Each head's cell in diagram coordinates, {minX, minY, maxX, maxY}, found by asking slotAt at every pixel. */
    private Map<HeadId, double[]> cells() {
        Map<HeadId, double[]> cells = new HashMap<>();
        for (double y = 0.5; y < diagram.getHeight(); y++) {
            for (double x = 0.5; x < diagram.getWidth(); x++) {
                HeadId head = diagram.slotAt(x, y);
                if (head != null) {
                    double[] c = cells.computeIfAbsent(head, h -> new double[] {Double.MAX_VALUE, Double.MAX_VALUE, 0, 0});
                    c[0] = Math.min(c[0], x);
                    c[1] = Math.min(c[1], y);
                    c[2] = Math.max(c[2], x);
                    c[3] = Math.max(c[3], y);
                }
            }
        }
        return cells;
    }

    private static Point2D centre(Map<HeadId, double[]> cells, HeadId head) {
        double[] c = cells.get(head);
        assertNotNull(c, "no cell for " + head);
        return new Point2D((c[0] + c[2]) / 2, (c[1] + c[3]) / 2);
    }

    private Point2D screenCentre(HeadId head) {
        Point2D local = centre(cells(), head);
        return diagram.localToScreen(local.getX(), local.getY());
    }

    /** A point of the model area below the slots and legend: over the model, but on no slot. */
    private Point2D belowTheSlots() {
        double x = diagram.getWidth() * 0.7, y = diagram.getHeight() - 40;
        assertNull(diagram.slotAt(x, y));
        return diagram.localToScreen(x, y);
    }

    /** A point in the library column under the cards. */
    private Point2D emptyLibrary() {
        return diagram.localToScreen(60, diagram.getHeight() - 30);
    }

    private Color pixel(FxRobot robot, Point2D local) {
        AtomicReference<WritableImage> image = new AtomicReference<>();
        robot.interact(() -> image.set(diagram.getScene().snapshot(null)));
        Point2D scene = diagram.localToScene(local);
        return image.get().getPixelReader().getColor((int) scene.getX(), (int) scene.getY());
    }

    private static void assertColour(Color expected, Color actual, String what) {
        double d = Math.abs(expected.getRed() - actual.getRed()) + Math.abs(expected.getGreen() - actual.getGreen())
                + Math.abs(expected.getBlue() - actual.getBlue());
        assertTrue(d < 0.06, what + ": expected " + expected + ", drawn " + actual);
    }

    private String status(FxRobot robot) {
        return robot.lookup("#head-group-status").queryAs(Label.class).getText();
    }

    @Test
    void droppingACardOnTheModelReportsItsName(FxRobot robot) {
        robot.drag(diagram.cardNode("a"), MouseButton.PRIMARY).dropTo(screenCentre(new HeadId(2, 3)));
        assertEquals(List.of("a"), drops);
        assertNull(diagram.draggingProperty().get());
        assertEquals(Set.of(), diagram.previewTaken());
        assertFalse(robot.lookup("#head-group-ghost").query().isVisible());
    }

    @Test
    void releasingOutsideTheModelCancelsTheDrag(FxRobot robot) {
        robot.drag(diagram.cardNode("a"), MouseButton.PRIMARY).moveTo(screenCentre(new HeadId(2, 3)));
        assertEquals(A.heads().heads(), diagram.previewTaken());
        robot.dropTo(emptyLibrary());
        assertEquals(List.of(), drops);
        assertNull(diagram.draggingProperty().get());
        assertEquals(Set.of(), diagram.previewTaken());
    }

    @Test
    void aClickOnACardIsNotADrop(FxRobot robot) {
        robot.clickOn(diagram.cardNode("a"), MouseButton.PRIMARY);
        assertEquals(List.of(), drops);
        assertNull(diagram.draggingProperty().get());
    }

    @Test
    void draggingOverTheModelPreviewsTakenAndConflictingHeads(FxRobot robot) {
        robot.interact(() -> diagram.loaded().put("a", A.heads()));
        robot.moveTo(diagram.cardNode("b")).press(MouseButton.PRIMARY).moveTo(emptyLibrary());
        assertEquals("b", diagram.draggingProperty().get());
        assertTrue(robot.lookup("#head-group-ghost").query().isVisible());
        assertEquals(Set.of(), diagram.previewTaken(), "no preview while over the library");

        robot.moveTo(belowTheSlots());
        assertEquals(B.heads().heads(), diagram.previewTaken());
        assertEquals(Set.of(new HeadId(1, 2), new HeadId(1, 3)), diagram.previewConflicts());
        assertEquals("2 conflicts: L1H2 (a), L1H3 (a)", status(robot));
        Map<HeadId, double[]> cells = cells();
        Color conflict = pixel(robot, centre(cells, new HeadId(1, 2)));
        Color take = pixel(robot, centre(cells, new HeadId(2, 0)));
        assertTrue(conflict.getRed() > conflict.getGreen() + 0.2, "conflict slot drawn red: " + conflict);
        assertTrue(take.getGreen() > take.getRed() + 0.2, "taken free slot drawn green: " + take);

        robot.release(MouseButton.PRIMARY);
        assertEquals(List.of("b"), drops);
        assertEquals(Set.of(), diagram.previewConflicts());
        assertNull(diagram.draggingProperty().get());
    }

    @Test
    void aDragWithoutConflictsSaysWhatItTakes(FxRobot robot) {
        robot.drag(diagram.cardNode("b"), MouseButton.PRIMARY).moveTo(belowTheSlots());
        assertEquals(Set.of(), diagram.previewConflicts());
        assertEquals("Release to apply b: it takes 3 free heads.", status(robot));
        robot.release(MouseButton.PRIMARY);
    }

    @Test
    void aGroupTooBigForTheModelSaysWhichHeadsDoNotFit(FxRobot robot) {
        robot.interact(() -> diagram.library().add(new GroupCard("big", HeadSet.parse("L0H0,L5H0,L1H7"))));
        robot.drag(diagram.cardNode("big"), MouseButton.PRIMARY).moveTo(belowTheSlots());
        assertEquals("big has 2 heads outside this 4 × 6 model: L1H7, L5H0 — it was made for a bigger model.", status(robot));
        robot.release(MouseButton.PRIMARY);
    }

    @Test
    void clickingASlotOfALoadedGroupSwapsItOut(FxRobot robot) {
        robot.interact(() -> diagram.loaded().put("a", A.heads()));
        robot.clickOn(screenCentre(new HeadId(1, 3)), MouseButton.PRIMARY);
        assertEquals(List.of("a"), swapOuts);
        robot.clickOn(screenCentre(new HeadId(3, 5)), MouseButton.PRIMARY);
        assertEquals(List.of("a"), swapOuts, "a free slot swaps nothing out");
        assertEquals("L1H3 — owned by a", ((SlotCanvas) robot.lookup(n -> n instanceof SlotCanvas).query())
                .describe(new HeadId(1, 3)));
    }

    @Test
    void loadedCardsShowABadgeAndASwapOutButton(FxRobot robot) {
        CardView a = (CardView) diagram.cardNode("a"), b = (CardView) diagram.cardNode("b");
        assertFalse(a.isLoaded());
        robot.interact(() -> diagram.loaded().put("a", A.heads()));
        assertTrue(a.isLoaded());
        assertFalse(b.isLoaded());
        Button swapOut = robot.from(a).lookup((Node n) -> n instanceof Button && n.isVisible()).queryButton();
        robot.clickOn(swapOut, MouseButton.PRIMARY);
        assertEquals(List.of("a"), swapOuts);
        assertEquals(List.of(), drops);
        assertTrue(robot.from(a).lookup((Node n) -> n instanceof Label l && l.getText().equals("4 heads")).tryQuery()
                .isPresent());
        assertTrue(robot.from(a).lookup((Node n) -> n instanceof Label l && l.getText().equals("L0H0, L0H1, L1H2, L1H3"))
                .tryQuery().isPresent());
    }

    @Test
    void slotAtFindsEveryHeadOfALargeModelWhereItIsDrawn(FxRobot robot) {
        robot.interact(() -> {
            diagram.gridProperty().set(HeadGrid.uniform(80, 64));
            diagram.loaded().put("z", HeadSet.parse("L0H0,L40H31,L79H63"));
        });
        Map<HeadId, double[]> cells = cells();
        assertEquals(80 * 64, cells.size(), "every head has a cell");
        for (Map.Entry<HeadId, double[]> cell : cells.entrySet()) {
            HeadId h = cell.getKey();
            double[] c = cell.getValue();
            assertTrue(c[2] - c[0] >= 3 && c[3] - c[1] >= 3, h + " cell too small to click: " + List.of(c[0], c[1], c[2], c[3]));
            if (h.head() > 0) {
                assertTrue(c[0] > cells.get(new HeadId(h.layer(), h.head() - 1))[2], h + " right of its left neighbour");
            }
            if (h.layer() > 0) {
                assertTrue(c[1] > cells.get(new HeadId(h.layer() - 1, h.head()))[3], h + " below the head above it");
            }
        }
        assertNull(diagram.slotAt(20, 20), "the library column has no slots");

        Color z = new GroupPalette().colour("z");
        for (HeadId owned : HeadSet.parse("L0H0,L40H31,L79H63").heads()) {
            assertColour(z, pixel(robot, centre(cells, owned)), owned + " in z's colour");
        }
        for (HeadId free : HeadSet.parse("L0H1,L40H30,L79H62").heads()) {
            assertColour(GroupPalette.FREE, pixel(robot, centre(cells, free)), free + " free");
        }
        Point2D last = centre(cells, new HeadId(79, 63));
        robot.clickOn(diagram.localToScreen(last.getX(), last.getY()), MouseButton.PRIMARY);
        assertEquals(List.of("z"), swapOuts);
    }

    @Test
    void aHybridsRowsHaveAsManySlotsAsTheirLayersHeads(FxRobot robot) {
        // three Gated DeltaNet layers of 8 value heads, then an attention layer of 4 heads
        robot.interact(() -> diagram.gridProperty().set(new HeadGrid(List.of(8, 8, 8, 4))));
        Map<HeadId, double[]> cells = cells();
        assertEquals(28, cells.size(), "8 + 8 + 8 + 4 slots");
        assertTrue(cells.containsKey(new HeadId(2, 7)) && cells.containsKey(new HeadId(3, 3)));
        assertFalse(cells.containsKey(new HeadId(3, 4)), "the attention layer has no 5th head");
    }

    @Test
    void aSmallModelGetsSquareSlotsOfBoundedSize(FxRobot robot) {
        robot.interact(() -> {
            diagram.gridProperty().set(HeadGrid.uniform(2, 4));
        });
        Map<HeadId, double[]> cells = cells();
        assertEquals(8, cells.size());
        double[] c = cells.get(new HeadId(1, 3));
        double w = c[2] - c[0] + 1, h = c[3] - c[1] + 1;
        assertEquals(w, h, 1.0, "square slots");
        assertTrue(w >= 30 && w <= 45, "slot side " + w);
    }

    @Test
    void groupsOfTheLibraryGetDistinctColoursThatStayPut() {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < GroupPalette.size(); i++) {
            names.add("group-" + i);
        }
        GroupPalette palette = new GroupPalette();
        palette.assign(names);
        List<Color> colours = names.stream().map(palette::colour).toList();
        assertEquals(GroupPalette.size(), Set.copyOf(colours).size(), "eight groups, eight colours: " + colours);
        assertFalse(colours.contains(GroupPalette.FREE));

        List<String> more = new ArrayList<>(names);
        more.add("group-late");
        palette.assign(more);
        assertEquals(colours, names.stream().map(palette::colour).toList(), "adding a group recolours none");

        GroupPalette alone = new GroupPalette();
        Color byName = alone.colour("de-heads");
        alone.assign(List.of("de-heads"));
        assertEquals(byName, alone.colour("de-heads"), "a group alone gets its name's colour");
    }

    @Test
    void longHeadListsAreAbbreviatedWithACount() {
        assertEquals("L0H0, L0H1 … +3 more", Abbreviate.firstFew(HeadSet.parse("L0H0,L0H1,L0H2,L1H0,L1H1").heads(), 2));
        assertEquals("L0H0, L0H1", Abbreviate.firstFew(HeadSet.parse("L0H0,L0H1").heads(), 2));
    }
}
