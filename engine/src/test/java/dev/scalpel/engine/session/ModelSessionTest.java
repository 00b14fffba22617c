package dev.scalpel.engine.session;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.scalpel.engine.api.HeadSet;
import dev.scalpel.engine.api.ImportanceMap;
import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.edit.Edit;
import dev.scalpel.engine.eval.CrossEntropyEvaluator;
import dev.scalpel.engine.groups.HeadGroup;
import dev.scalpel.engine.groups.HeadGroupRegistry.OnConflict;
import dev.scalpel.engine.importance.HeadImportance;
import dev.scalpel.engine.importance.ImportanceCache;
import dev.scalpel.engine.model.ComputeDevice;
import dev.scalpel.engine.model.LoadedModel;
import dev.scalpel.engine.model.Tensors;
import dev.scalpel.engine.spec.EditSpec;
import dev.scalpel.engine.testing.Fixtures;
import dev.scalpel.engine.train.FineTuner;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 13's proof: a head group swapped in (and the edit stack undone) while a training, an importance and an
 * evaluation job run changes none of their results: each equals the same job run alone on its snapshot, bit for bit,
 * and the importance cache holds each map under the weights it was computed on.
 */
class ModelSessionTest {
    private static final String CACHE_OPTIONS = "test";

    @Test
    void aSwapWhileJobsRunWaitsForThemAndEveryResultEqualsItsRunAlone(@TempDir Path tmp) throws Exception {
        try (ModelSession session = new ModelSession(LoadedModel.open(Fixtures.model("llama-gqa"), ComputeDevice.CPU))) {
            long[] text = tokens(session, 600);
            session.putText("de", text);
            Edit stacked = new EditSpec.HeadLora("L1H1", null, 2, null, null, null).build(session.model().model(), 5, EditSpec.References.NONE);
            randomise(stacked);
            session.setEdits(List.of(stacked));
            HeadGroup group = scaledGroup(session, HeadSet.parse("L0H0,L1H2", 4), 1.7);
            ImportanceCache cache = new ImportanceCache(tmp.resolve("cache"));

            // alone, one after the other, each on a fresh snapshot
            List<Object> alone = new ArrayList<>();
            for (Function<Snapshot, Object> job : jobs()) {
                try (Snapshot s = session.snapshot()) {
                    alone.add(job.apply(s));
                }
            }

            // together, with the group swapped in and the edits undone while they run
            CountDownLatch started = new CountDownLatch(3);
            AtomicLong swapAsked = new AtomicLong();
            AtomicLong lastJobEnded = new AtomicLong();
            java.util.concurrent.atomic.AtomicInteger jobsEnded = new java.util.concurrent.atomic.AtomicInteger();
            ExecutorService pool = Executors.newFixedThreadPool(3);
            try {
                List<Future<Object>> running = new ArrayList<>();
                for (Function<Snapshot, Object> job : jobs()) {
                    running.add(pool.submit(() -> {
                        try (Snapshot s = session.snapshot()) {
                            started.countDown();
                            while (swapAsked.get() == 0) {
                                Thread.onSpinWait();
                            }
                            Thread.sleep(50);                                  // the swap is now waiting on our lease
                            Object result = job.apply(s);
                            lastJobEnded.accumulateAndGet(System.nanoTime(), Math::max);
                            jobsEnded.incrementAndGet();                    // before the snapshot (its lease) closes
                            return result;
                        }
                    }));
                }
                assertTrue(started.await(60, TimeUnit.SECONDS));
                ScalpelException refused = assertThrows(ScalpelException.class,
                        () -> session.applyGroup(group, OnConflict.CANCEL, ModelSession.Busy.REFUSE));
                assertTrue(refused.getMessage().contains("3 running jobs read the weights"), refused.getMessage());
                session.setEdits(List.of());                                    // undo: the jobs keep their snapshot's stack
                swapAsked.set(System.nanoTime());
                session.applyGroup(group, OnConflict.CANCEL, ModelSession.Busy.WAIT);
                long swapped = System.nanoTime();
                boolean jobsHadEnded = jobsEnded.get() == 3;
                for (int i = 0; i < running.size(); i++) {
                    assertResultEquals(alone.get(i), running.get(i).get());
                }
                assertTrue(jobsHadEnded && lastJobEnded.get() < swapped, "the swap returned only after every job had ended");
            } finally {
                pool.shutdownNow();
            }

            // the importance cache: each map under the weights it was computed on, none mixed
            ImportanceMap base = (ImportanceMap) alone.get(1);
            cache.put(base, CACHE_OPTIONS);
            ImportanceMap withGroup;
            String groupKey;
            try (Snapshot s = session.snapshot()) {
                groupKey = s.weightsKey();
                assertNotEquals(session.modelHash(), groupKey, "a swapped-in group changes the weights' key");
                assertEquals(Map.of("g", HeadSet.parse("L0H0,L1H2", 4)), s.groups());
                assertTrue(s.edits().isEmpty());
                withGroup = importance(s);
            }
            cache.put(withGroup, CACHE_OPTIONS);
            assertFalse(java.util.Arrays.deepEquals(base.scores(), withGroup.scores()), "the group changes the map");
            assertArrayEquals(base.scores(), cache.get(session.modelHash(), base.dataHash(), base.method(), CACHE_OPTIONS)
                    .orElseThrow().scores());
            assertArrayEquals(withGroup.scores(), cache.get(groupKey, withGroup.dataHash(), withGroup.method(), CACHE_OPTIONS)
                    .orElseThrow().scores());

            session.setMarks(Map.of(new dev.scalpel.engine.api.HeadId(1, 1), dev.scalpel.engine.api.HeadMark.TRAIN));
            try (Snapshot s = session.snapshot()) {
                session.setMarks(Map.of());
                assertEquals(Map.of(new dev.scalpel.engine.api.HeadId(1, 1), dev.scalpel.engine.api.HeadMark.TRAIN), s.marks(),
                        "a snapshot keeps the marks it was taken with");
            }
            session.swapOutGroup("g", ModelSession.Busy.REFUSE);
            try (Snapshot s = session.snapshot()) {
                assertEquals(session.modelHash(), s.weightsKey());
                assertArrayEquals(base.scores(), importance(s).scores(), "swapped out: bit-identical to before");
            }
            stacked.close();
            group.close();
        }
    }

    /** The three jobs: train a head-LoRA (its values), an importance map, the CE of the text with the snapshot's edits. */
    private static List<Function<Snapshot, Object>> jobs() {
        return List.of(ModelSessionTest::train, ModelSessionTest::importance, ModelSessionTest::evaluate);
    }

    private static Object train(Snapshot s) {
        var spec = new FineTuner.Spec(FineTuner.Objective.LEARN, 0, 0.25, 256, 4, 2, 32, 1e-2, "adamw", 3);
        try (Edit edit = new EditSpec.HeadLora("L0H1", null, 2, null, null, null).build(s.model().model(), 1, EditSpec.References.NONE)) {
            new FineTuner(s.model().model(), edit, spec).run(new FineTuner.Data(s.texts().get("de"), null, null, 0), p -> { }, () -> false);
            List<float[]> values = new ArrayList<>();
            edit.trainables().forEach(t -> values.add(Tensors.toFloats(t.value())));
            return values;
        }
    }

    private static ImportanceMap importance(Snapshot s) {
        var importance = new HeadImportance(s.model().model(), new HeadImportance.Options(32, 4));
        long[] text = s.texts().get("de");
        return importance.compute(HeadImportance.Method.GRADIENT, "de", text, 0, s.weightsKey(), "de-data", (f, m) -> { });
    }

    private static Object evaluate(Snapshot s) {
        return new CrossEntropyEvaluator(s.model().model(), 32, 4).withOverlay(s.overlay())
                .evaluate("de", s.texts().get("de"), 0, null).ce();
    }

    @SuppressWarnings("unchecked")
    private static void assertResultEquals(Object alone, Object together) {
        if (alone instanceof ImportanceMap a) {
            ImportanceMap b = (ImportanceMap) together;
            assertArrayEquals(a.scores(), b.scores(), "importance map bit for bit");
            assertEquals(a.modelHash(), b.modelHash());
        } else if (alone instanceof List<?> a) {
            List<float[]> b = (List<float[]>) together;
            for (int i = 0; i < a.size(); i++) {
                assertArrayEquals((float[]) a.get(i), b.get(i), 0f, "trained values bit for bit");
            }
        } else {
            assertEquals(alone, together, "CE with the snapshot's edits");
        }
    }

    private static long[] tokens(ModelSession session, int n) {
        long[] ids = session.model().tokenizer().encode("Der schnelle braune Fuchs springt über den faulen Hund. ".repeat(40));
        return java.util.Arrays.copyOf(ids, Math.min(n, ids.length));
    }

    private static void randomise(Edit edit) {
        try (NoGradGuard g = new NoGradGuard()) {
            edit.trainables().forEach(t -> t.value().copy_(org.bytedeco.pytorch.global.torch.randn(Tensors.shape(t.value()))
                    .mul(new Scalar(0.1))));
        }
    }

    private static HeadGroup scaledGroup(ModelSession session, HeadSet heads, double scale) {
        HeadGroup g = HeadGroup.extract(session.model().model(), session.modelHash(), "g", heads, Map.of());
        try (NoGradGuard ng = new NoGradGuard()) {
            g.tensors().values().forEach(t -> t.mul_(new Scalar(scale)));
        }
        return g;
    }
}
