package dev.scalpel.app.ui;

import dev.scalpel.engine.api.ImportanceMap;
import dev.scalpel.engine.api.ModelSummary;
import dev.scalpel.engine.api.ProgressListener;
import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.importance.HeadImportance;
import dev.scalpel.engine.importance.ImportanceMaps;
import dev.scalpel.engine.importance.Normalization;
import dev.scalpel.engine.model.LoadedModel;
import dev.scalpel.engine.model.ModelHash;
import dev.scalpel.engine.model.ModelSummaries;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;
import javafx.beans.property.BooleanProperty;
import javafx.beans.property.DoubleProperty;
import javafx.beans.property.ObjectProperty;
import javafx.beans.property.SimpleBooleanProperty;
import javafx.beans.property.SimpleDoubleProperty;
import javafx.beans.property.SimpleObjectProperty;
import javafx.beans.property.SimpleStringProperty;
import javafx.beans.property.StringProperty;

/**
 * The workbench's state and actions without any UI: the model, its bundled texts, the importance map shown, a busy
 * flag, progress and a status line. Long work runs on {@code background}; results are published on {@code ui}
 * (the FX thread in the app, the current thread in tests).
 */
public final class WorkbenchViewModel {
    private static final int MAX_TOKENS = 4096;

    private final LoadedModel model;
    private final ModelSummary summary;
    private final Map<String, long[]> texts = new LinkedHashMap<>();
    private final Executor background;
    private final Executor ui;
    private final ObjectProperty<ImportanceMap> map = new SimpleObjectProperty<>(this, "map");
    private final BooleanProperty busy = new SimpleBooleanProperty(this, "busy");
    private final DoubleProperty progress = new SimpleDoubleProperty(this, "progress");
    private final StringProperty status = new SimpleStringProperty(this, "status", "ready");
    private final String modelHash;

    public WorkbenchViewModel(LoadedModel model, Executor background, Executor ui) {
        this.model = model;
        this.summary = ModelSummaries.of(model.dir());
        this.background = background;
        this.ui = ui;
        this.modelHash = ModelHash.of(model.dir());
        Path evalDir = model.dir().resolve("eval");
        if (Files.isDirectory(evalDir)) {
            try (var files = Files.list(evalDir)) {
                for (Path f : files.sorted().toList()) {
                    String name = f.getFileName().toString();
                    if (name.endsWith(".txt")) {
                        long[] ids = model.tokenizer().encode(Files.readString(f));
                        texts.put(name.substring(0, name.length() - 4), Arrays.copyOf(ids, Math.min(ids.length, MAX_TOKENS)));
                    }
                }
            } catch (java.io.IOException e) {
                throw new ScalpelException("Cannot read the model's eval texts in " + evalDir + ": " + e.getMessage(), e);
            }
        }
    }

    public ModelSummary summary() {
        return summary;
    }

    public Path modelDir() {
        return model.dir();
    }

    /** Domains to show: every bundled text, and every contrast "a-b" of two of them. */
    public List<String> domains() {
        List<String> out = new ArrayList<>(texts.keySet());
        for (String a : texts.keySet()) {
            for (String b : texts.keySet()) {
                if (!a.equals(b)) {
                    out.add(a + "-" + b);
                }
            }
        }
        return out;
    }

    public ObjectProperty<ImportanceMap> mapProperty() {
        return map;
    }

    public BooleanProperty busyProperty() {
        return busy;
    }

    public DoubleProperty progressProperty() {
        return progress;
    }

    public StringProperty statusProperty() {
        return status;
    }

    /** Computes the map of {@code domain} ("de", or a contrast "de-en") with {@code method}, off the UI thread. */
    public void computeImportance(String domain, HeadImportance.Method method) {
        if (busy.get()) {
            return;
        }
        String[] parts = domain.split("-", 2);
        for (String p : parts) {
            if (!texts.containsKey(p)) {
                status.set("no text named '" + p + "' ships with this model");
                return;
            }
        }
        busy.set(true);
        progress.set(0);
        status.set("computing " + method.cliName() + " importance on " + domain + " …");
        background.execute(() -> {
            try {
                var importance = new HeadImportance(model.model(), new HeadImportance.Options(Math.min(256, summary.maxPositions()), 4));
                List<ImportanceMap> maps = new ArrayList<>();
                for (int i = 0; i < parts.length; i++) {
                    int part = i;
                    ProgressListener listener = (f, m) -> ui.execute(() -> progress.set((part + f) / parts.length));
                    maps.add(importance.compute(method, parts[i], texts.get(parts[i]), model.tokenizer().bosForPrompts(), modelHash, "", listener));
                }
                ImportanceMap result = maps.size() == 1 ? maps.get(0) : ImportanceMaps.contrast(
                        ImportanceMaps.normalize(maps.get(0), Normalization.LAYER_ZSCORE),
                        ImportanceMaps.normalize(maps.get(1), Normalization.LAYER_ZSCORE), Normalization.RAW);
                double seconds = importance.lastCost().seconds();
                ui.execute(() -> {
                    map.set(result);
                    status.set(String.format(java.util.Locale.ROOT, "%s importance on %s (%,d tokens) in %.1f s; top heads %s",
                            method.cliName(), domain, result.tokens(), seconds, ImportanceMaps.topK(result, 5)));
                });
            } catch (RuntimeException e) {
                ui.execute(() -> status.set("error: " + e.getMessage()));
            } finally {
                ui.execute(() -> {
                    busy.set(false);
                    progress.set(1);
                });
            }
        });
    }
}
