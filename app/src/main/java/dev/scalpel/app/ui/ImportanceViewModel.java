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
import javafx.beans.property.BooleanProperty;
import javafx.beans.property.SimpleBooleanProperty;
import javafx.beans.property.SimpleStringProperty;
import javafx.beans.property.StringProperty;

/**
 * The heatmap's actions without any UI: compute a domain's head-importance map (or a contrast "de-en" of two,
 * layer-z-normalised) as a cancellable job, and mark heads from the map shown (top-k, above a threshold).
 */
public final class ImportanceViewModel {
    /** Importance runs over windows of at most this many tokens, 4 sequences per batch. */
    private static final int CONTEXT = 256;

    private final Session session;
    private final JobRunner jobs;
    private final ImportanceCache cache;
    private final BooleanProperty busy = new SimpleBooleanProperty(this, "busy");
    private final StringProperty status = new SimpleStringProperty(this, "status", "ready");

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
        busy.set(true);
        status.set("computing " + method.cliName() + " importance on " + domain + " …");
        jobs.submit(new MapJob(domain, parts, method), result -> {
            busy.set(false);
            session.showMap(result.map());
            status.set(String.format(Locale.ROOT, "%s importance on %s (%,d tokens) %s; top heads %s", method.cliName(), domain,
                    result.map().tokens(), result.seconds() < 0 ? "from the cache" : String.format(Locale.ROOT, "in %.1f s", result.seconds()),
                    ImportanceMaps.topK(result.map(), 5)));
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

    private record Computed(ImportanceMap map, double seconds) {}

    /** One map, or the layer-z contrast of two, computed from the session's texts. */
    private final class MapJob implements Job<Computed> {
        private final String domain;
        private final List<String> parts;
        private final HeadImportance.Method method;
        MapJob(String domain, List<String> parts, HeadImportance.Method method) {
            this.domain = domain;
            this.parts = parts;
            this.method = method;
        }

        @Override
        public String title() {
            return "Importance (" + method.cliName() + ") on " + domain;
        }

        /** Runs on the snapshot's weights and keys the cache (and the maps) on them, head groups included. */
        @Override
        public Computed run(JobContext context) {
            try (Snapshot snapshot = session.snapshot()) {
                return compute(snapshot, context);
            }
        }

        private Computed compute(Snapshot snapshot, JobContext context) {
            var model = snapshot.model();
            var importance = new HeadImportance(model.model(), new HeadImportance.Options(Math.min(CONTEXT, session.summary().maxPositions()), 4));
            String cacheKey = "workbench:context=" + CONTEXT + ",tokens=" + Session.TEXT_TOKENS;
            List<ImportanceMap> maps = new ArrayList<>();
            double seconds = -1;
            for (int i = 0; i < parts.size(); i++) {
                String name = parts.get(i);
                long[] tokens = snapshot.texts().get(name);
                String dataHash = ModelHash.ofText(name + "\n" + Arrays.toString(tokens));
                Optional<ImportanceMap> cached = cache != null
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
                    context.progress((part + fraction) / parts.size(), name + ": " + message);
                };
                ImportanceMap map = importance.compute(method, name, tokens, model.tokenizer().bosForPrompts(), snapshot.weightsKey(),
                        dataHash, listener);
                seconds = Math.max(0, seconds) + importance.lastCost().seconds();
                if (cache != null) {
                    cache.put(map, cacheKey);
                }
                maps.add(map);
            }
            ImportanceMap result = maps.size() == 1 ? maps.get(0) : ImportanceMaps.contrast(
                    ImportanceMaps.normalize(maps.get(0), Normalization.LAYER_ZSCORE),
                    ImportanceMaps.normalize(maps.get(1), Normalization.LAYER_ZSCORE), Normalization.RAW);
            return new Computed(result, seconds);
        }
    }
}
