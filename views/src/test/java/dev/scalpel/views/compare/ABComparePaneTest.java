package dev.scalpel.views.compare;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import javafx.scene.Scene;
import javafx.scene.control.Button;
import javafx.scene.control.Label;
import javafx.scene.control.Spinner;
import javafx.scene.paint.Color;
import javafx.scene.shape.Path;
import javafx.scene.text.Text;
import javafx.stage.Stage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.testfx.api.FxRobot;
import org.testfx.framework.junit5.ApplicationExtension;
import org.testfx.framework.junit5.Start;
import org.testfx.util.WaitForAsyncUtils;

/** What a user does on the A/B panel, and how it shows tokens and their losses. */
@ExtendWith(ApplicationExtension.class)
class ABComparePaneTest {
    private static final List<ScoredToken> EDITED = List.of(new ScoredToken("Der", 0.5), new ScoredToken(" Hund", 8.0),
            ScoredToken.unscored("\n"), new ScoredToken("bellt", 4.0));

    private ABComparePane pane;

    @Start
    void start(Stage stage) {
        pane = new ABComparePane();
        stage.setScene(new Scene(pane, 900, 560));
        stage.show();
    }

    /** How red a colour is: rises from the green low end through yellow to the red high end. */
    private static double redness(Color c) {
        return c.getRed() - c.getGreen();
    }

    @Test
    void typingAPromptUpdatesThePromptProperty(FxRobot robot) {
        robot.clickOn("#prompt").write("Guten Tag");
        assertEquals("Guten Tag", pane.promptProperty().get());
        robot.clickOn("#reference").write("Der Hund");
        assertEquals("Der Hund", pane.referenceProperty().get());
        robot.clickOn("#followLive");
        assertTrue(pane.followLiveProperty().get());
    }

    @Test
    void generateRunsTheCallbackWithTheTypedSeedUnlessBusy(FxRobot robot) {
        List<Long> seeds = new ArrayList<>();
        pane.onGenerateProperty().set(() -> seeds.add(pane.seedProperty().get()));
        Spinner<?> seed = robot.lookup("#seed").queryAs(Spinner.class);
        robot.doubleClickOn(seed.getEditor()).write("12345");
        robot.clickOn("#generate");
        assertEquals(List.of(12345L), seeds, "the typed seed is committed before the callback runs");

        robot.doubleClickOn(seed.getEditor()).write("abc");
        robot.clickOn("#generate");
        assertEquals(List.of(12345L, 12345L), seeds, "text that is no number keeps the seed");
        assertEquals("12345", seed.getEditor().getText());

        robot.interact(() -> pane.busyProperty().set(true));
        Button generate = robot.lookup("#generate").queryButton();
        assertTrue(generate.isDisabled());
        assertEquals("Generating…", generate.getText());
        robot.clickOn(generate);
        assertEquals(2, seeds.size(), "a busy panel does not start another generation");

        robot.interact(() -> {
            pane.busyProperty().set(false);
            pane.maxTokensProperty().set(200);
        });
        assertEquals(200, robot.lookup("#maxTokens").queryAs(Spinner.class).getValue());
    }

    @Test
    void showEditedRendersOneTextPerTokenColouredByLoss(FxRobot robot) {
        robot.interact(() -> pane.showEdited(EDITED));
        WaitForAsyncUtils.waitForFxEvents();
        TokenFlow flow = pane.editedColumn().flow();
        List<Text> texts = flow.texts();
        assertEquals(List.of("Der", " Hund", "\n", "bellt"), texts.stream().map(Text::getText).toList());

        Color low = flow.fill(0), high = flow.fill(1), middle = flow.fill(3);
        assertNull(flow.fill(2), "unscored tokens get no background");
        assertTrue(redness(low) < redness(middle) && redness(middle) < redness(high),
                "0.5 < 4.0 < 8.0 nats: " + low + " < " + middle + " < " + high);
        assertTrue(low.getGreen() > low.getRed(), "low loss is greenish: " + low);
        assertEquals(LossScale.HIGH, high, "the largest loss on screen is full red");

        List<Path> shapes = flow.highlightShapes();
        assertEquals(List.of(low, high, middle), shapes.stream().map(Path::getFill).toList(), "one background per scored token");
        assertTrue(shapes.get(0).getBoundsInParent().getWidth() > 10, "backgrounds cover their tokens");

        double firstLine = texts.get(0).getBoundsInParent().getMinY();
        assertTrue(texts.get(3).getBoundsInParent().getMinY() > firstLine + 8, "the newline token breaks the line");

        Label mean = robot.lookup("#edited-mean").queryAs(Label.class);
        assertEquals("mean CE 4.17 nats over 3 tokens", mean.getText());
    }

    @Test
    void bothColumnsShareOneScaleAndHaveSubtitles(FxRobot robot) {
        robot.interact(() -> {
            pane.showEdited(EDITED);
            pane.showBase(List.of(new ScoredToken("Der", 2.0), new ScoredToken(" Hund", 4.0)));
            pane.baseSubtitleProperty().set("sample model");
            pane.editedSubtitleProperty().set("live · step 12");
        });
        TokenFlow base = pane.baseColumn().flow(), edited = pane.editedColumn().flow();
        assertEquals(edited.fill(3), base.fill(1), "4.0 nats looks the same in both columns");
        assertEquals(LossScale.HIGH, edited.fill(1), "showing base kept the edited column on the shared scale");
        assertEquals("mean CE 3.00 nats over 2 tokens", robot.lookup("#base-mean").queryAs(Label.class).getText());
        assertTrue(robot.lookup(".label").queryAllAs(Label.class).stream().anyMatch(l -> "live · step 12".equals(l.getText())));

        robot.interact(() -> pane.showBase(List.of(ScoredToken.unscored("Hallo"))));
        assertEquals("no token scored: give a reference text to see losses",
                robot.lookup("#base-mean").queryAs(Label.class).getText());
        assertTrue(pane.baseColumn().flow().highlightShapes().isEmpty());
        AtomicInteger runs = new AtomicInteger();
        pane.onGenerateProperty().set(runs::incrementAndGet);
        robot.clickOn("#generate");
        assertEquals(1, runs.get());
        assertFalse(pane.busyProperty().get());
    }
}
