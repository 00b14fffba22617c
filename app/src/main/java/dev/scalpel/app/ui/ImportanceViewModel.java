package dev.scalpel.app.ui;

import dev.scalpel.engine.session.Snapshot;
import dev.scalpel.app.ui.jobs.Job;
import dev.scalpel.app.ui.jobs.JobContext;
import dev.scalpel.app.ui.jobs.JobRunner;
import dev.scalpel.engine.api.HeadId;
import dev.scalpel.engine.api.HeadSet;
import dev.scalpel.engine.api.ImportanceMap;
import dev.scalpel.engine.api.ProgressListener;
import dev.scalpel.engine.importance.HeadImportance;
import dev.scalpel.engine.importance.ImportanceCache;
import dev.scalpel.engine.importance.ImportanceMaps;
import dev.scalpel.engine.importance.Normalization;
import dev.scalpel.engine.model.ModelHash;
import dev.scalpel.engine.api.HeadMark;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.importance.ImportanceMapFile;
import dev.scalpel.engine.spec.ImportanceSpec;
import java.nio.file.Path;
import javafx.beans.property.BooleanProperty;
import javafx.beans.property.ObjectProperty;
import javafx.beans.property.SimpleObjectProperty;
import javafx.beans.property.SimpleBooleanProperty;
import javafx.beans.property.SimpleStringProperty;
import javafx.beans.property.StringProperty;

/**
 * The heatmap's actions without any UI: compute a domain's head-importance map (or a contrast "de-en" of two) as a
 * cancellable job, with the settings of the engine's {@link ImportanceSpec} (the same ones {@code scalpel importance}
 * takes), and mark heads from the map shown (top-k, above a threshold).
 */
public final class ImportanceViewModel {
    private static final ImportanceSpec DEFAULTS = ImportanceSpec.defaults();

    private final Session session;
    private final JobRunner jobs;
    private final ImportanceCache cache;
    private final BooleanProperty busy = new SimpleBooleanProperty(this, "busy");
    private final StringProperty status = new SimpleStringProperty(this, "status", "ready");
    private final ObjectProperty<HeadImportance.Method> agreeWith = new SimpleObjectProperty<>(this, "agreeWith");
    private final ObjectProperty<Normalization> normalize = new SimpleObjectProperty<>(this, "normalize", DEFAULTS.normalize());
    private final ObjectProperty<Normalization> contrastNormalize =
            new SimpleObjectProperty<>(this, "contrastNormalize", DEFAULTS.contrastNormalize());
    private final ObjectProperty<Integer> maxTokens = new SimpleObjectProperty<>(this, "maxTokens", Session.TEXT_TOKENS);
    /** 0 = the spec's default, min(256, the model's context). */
    private final ObjectProperty<Integer> context = new SimpleObjectProperty<>(this, "context", 0);
    private final ObjectProperty<Integer> batchSize = new SimpleObjectProperty<>(this, "batchSize", DEFAULTS.batchSize());
    private final BooleanProperty useCache = new SimpleBooleanProperty(this, "cache", DEFAULTS.cache());

    /**
     * @param cache where computed maps are kept between runs, or null for none; keyed by the weights a job reads (the
     *              checkpoint's hash, or with head groups swapped in a hash of it and the groups)
     */
    public ImportanceViewModel(Session session, JobRunner jobs, ImportanceCache cache) {
        this.session = session;
        this.jobs = jobs;
        this.cache = cache;
    }

    /** Domains to offer: every text of the session, and every contrast "a-b" of two of them. */
    public List<String> domains() {
        List<String> out = new ArrayList<>(session.texts().keySet());
        for (String a : session.texts().keySet()) {
            for (String b : session.texts().keySet()) {
                if (!a.equals(b)) {
                    out.add(a + "-" + b);
                }
            }
        }
        return out;
    }

    public BooleanProperty busyProperty() {
        return busy;
    }

    public StringProperty statusProperty() {
        return status;
    }

    /** A second method to compare with by Spearman correlation, or null for none (spec {@code agree_with}). */
    public ObjectProperty<HeadImportance.Method> agreeWithProperty() {
        return agreeWith;
    }

    /** How a single text's map is shown (spec {@code normalize}). */
    public ObjectProperty<Normalization> normalizeProperty() {
        return normalize;
    }

    /** How a contrast's two maps are normalised before subtracting (spec {@code contrast_normalize}). */
    public ObjectProperty<Normalization> contrastNormalizeProperty() {
        return contrastNormalize;
    }

    /** Tokens used of each text (spec {@code max_tokens}); the open texts hold at most {@value Session#TEXT_TOKENS}. */
    public ObjectProperty<Integer> maxTokensProperty() {
        return maxTokens;
    }

    /** Window length, 0 for min(256, the model's context) (spec {@code context}). */
    public ObjectProperty<Integer> contextProperty() {
        return context;
    }

    /** Windows per forward pass (spec {@code batch_size}). */
    public ObjectProperty<Integer> batchSizeProperty() {
        return batchSize;
    }

    /** Read and write the map cache (spec {@code cache}). */
    public BooleanProperty cacheProperty() {
        return useCache;
    }

    /** The settings as the engine's spec for {@code domain} ("de", or a contrast "de-en") and {@code method}. */
    public ImportanceSpec spec(String domain, HeadImportance.Method method) {
        Integer window = context.get() == null || context.get() == 0 ? null : context.get();
        return new ImportanceSpec(method, agreeWith.get(), domain.contains("-") ? domain : null, normalize.get(),
                contrastNormalize.get(), maxTokens.get(), window, batchSize.get(), null, useCache.get());
    }

    /** Computes the map of {@code domain} ("de", or a contrast "de-en") with {@code method} as a job, then shows it. */
    public void compute(String domain, HeadImportance.Method method) {
        if (busy.get()) {
            status.set("an importance map is being computed; wait for it or cancel it in the jobs panel");
            return;
        }
        List<String> parts = Arrays.asList(domain.split("-", 2));
        for (String p : parts) {
            if (!session.texts().containsKey(p)) {
                status.set("no text named '" + p + "' is open; choose one of " + session.texts().keySet());
                return;
            }
        }
        ImportanceSpec spec;
        try {
            spec = spec(domain, method);
            spec.window(session.summary().maxPositions());
        } catch (ScalpelException e) {
            status.set(e.getMessage());
            return;
        }
        busy.set(true);
        status.set("computing " + method.cliName() + " importance on " + domain + " …");
        jobs.submit(new MapJob(domain, parts, spec), result -> {
            busy.set(false);
            session.showMap(result.map());
            status.set(String.format(Locale.ROOT, "%s importance on %s (%,d tokens) %s; top heads %s%s", method.cliName(), domain,
                    result.map().tokens(), result.seconds() < 0 ? "from the cache" : String.format(Locale.ROOT, "in %.1f s", result.seconds()),
                    ImportanceMaps.topK(result.map(), 5), result.agreement() == null ? ""
                            : String.format(Locale.ROOT, "; Spearman vs %s %+.3f", spec.agreeWith().cliName(), result.agreement())));
        }, error -> {
            busy.set(false);
            status.set(error instanceof CancellationException ? "importance on " + domain + " cancelled" : "error: " + error.getMessage());
        });
    }

    /** Marks the {@code k} highest-scoring heads of the map shown for training (replacing earlier train marks). */
    public void markTopK(int k) {
        ImportanceMap m = session.mapProperty().get();
        if (m != null) {
            markForTraining(ImportanceMaps.topK(m, k), "top " + k);
        }
    }

    /** Marks every head of the map shown scoring above {@code threshold} for training (replacing earlier train marks). */
    public void markAbove(double threshold) {
        ImportanceMap m = session.mapProperty().get();
        if (m != null) {
            markForTraining(ImportanceMaps.threshold(m, threshold), String.format(Locale.ROOT, "score > %.4g", threshold));
        }
    }

    /** Train marks become {@code heads}; freeze marks stay (a frozen head is never marked for training). */
    private void markForTraining(HeadSet heads, String rule) {
        session.marks().values().removeIf(mark -> mark == HeadMark.TRAIN);
        int frozen = 0;
        for (HeadId h : heads.heads()) {
            if (session.marks().get(h) == HeadMark.FREEZE) {
                frozen++;
            } else {
                session.marks().put(h, HeadMark.TRAIN);
            }
        }
        status.set(String.format(Locale.ROOT, "marked %d heads for training (%s)%s", heads.size() - frozen, rule,
                frozen > 0 ? ", skipped " + frozen + " frozen" : ""));
    }

    /** Writes the map shown as JSON (what {@code scalpel importance --out} writes); the status line says where. */
    public void saveShownMap(Path file) {
        ImportanceMap m = session.mapProperty().get();
        if (m == null) {
            status.set("compute a map first; Save writes the map shown");
            return;
        }
        try {
            ImportanceMapFile.write(m, file, List.of(session.modelDir()));
            status.set("wrote " + m.domain() + " (" + m.method() + ") to " + file);
        } catch (ScalpelException e) {
            status.set(e.getMessage());
        }
    }

    /** @param agreement Spearman correlation with the agree-with method's map, or null without one */
    private record Computed(ImportanceMap map, double seconds, Double agreement) {}

    /** One map, or the contrast of two, computed from the session's texts as the spec says. */
    private final class MapJob implements Job<Computed> {
        private final String domain;
        private final List<String> parts;
        private final ImportanceSpec spec;

        MapJob(String domain, List<String> parts, ImportanceSpec spec) {
            this.domain = domain;
            this.parts = parts;
            this.spec = spec;
        }

        @Override
        public String title() {
            return "Importance (" + spec.method().cliName() + ") on " + domain;
        }

        /** Runs on the snapshot's weights and keys the cache (and the maps) on them, head groups included. */
        @Override
        public Computed run(JobContext context) {
            try (Snapshot snapshot = session.snapshot()) {
                return compute(snapshot, context);
            }
        }

        private Computed compute(Snapshot snapshot, JobContext context) {
            Outcome main = maps(snapshot, spec.method(), context, spec.agreeWith() == null ? 1.0 : 0.5);
            ImportanceMap result = combined(main.maps());
            Double agreement = null;
            if (spec.agreeWith() != null) {
                Outcome other = maps(snapshot, spec.agreeWith(), context, 0.5);
                agreement = ImportanceMaps.spearman(result, combined(other.maps()));
            }
            return new Computed(result, main.seconds(), agreement);
        }

        /** The text's map as {@code normalize} says, or the contrast of the two as {@code contrast_normalize} says. */
        private ImportanceMap combined(List<ImportanceMap> maps) {
            if (maps.size() == 1) {
                return ImportanceMaps.normalize(maps.get(0), spec.normalize());
            }
            return ImportanceMaps.contrast(ImportanceMaps.normalize(maps.get(0), spec.contrastNormalize()),
                    ImportanceMaps.normalize(maps.get(1), spec.contrastNormalize()), Normalization.RAW);
        }

        /** @param seconds time spent computing, −1 when every map came from the cache */
        private record Outcome(List<ImportanceMap> maps, double seconds) {}

        /** The raw map of each part with {@code method}, from the cache where it has them; {@code share} of the progress bar. */
        private Outcome maps(Snapshot snapshot, HeadImportance.Method method, JobContext context, double share) {
            var model = snapshot.model();
            int positions = session.summary().maxPositions();
            var importance = new HeadImportance(model.model(), spec.options(positions));
            String cacheKey = spec.cacheKey(positions);
            List<ImportanceMap> maps = new ArrayList<>();
            double seconds = -1;
            double offset = method == spec.method() ? 0 : 1 - share;
            for (int i = 0; i < parts.size(); i++) {
                String name = parts.get(i);
                long[] all = snapshot.texts().get(name);
                long[] tokens = Arrays.copyOf(all, Math.min(all.length, spec.maxTokens()));
                String dataHash = ModelHash.ofText(name + "\n" + Arrays.toString(tokens));
                Optional<ImportanceMap> cached = cache != null && spec.cache()
                        ? cache.get(snapshot.weightsKey(), dataHash, method.cliName(), cacheKey) : Optional.empty();
                if (cached.isPresent()) {
                    maps.add(cached.get());
                    continue;
                }
                int part = i;
                ProgressListener listener = (fraction, message) -> {
                    if (context.cancelled()) {
                        throw new CancellationException("cancelled");
                    }
                    context.progress(offset + share * (part + fraction) / parts.size(), name + ": " + message);
                };
                ImportanceMap map = importance.compute(method, name, tokens, model.tokenizer().bosForPrompts(), snapshot.weightsKey(),
                        dataHash, listener);
                seconds = Math.max(0, seconds) + importance.lastCost().seconds();
                if (cache != null && spec.cache()) {
                    cache.put(map, cacheKey);
                }
                maps.add(map);
            }
            return new Outcome(maps, seconds);
        }
    }
}
