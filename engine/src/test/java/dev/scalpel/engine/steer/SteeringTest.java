package dev.scalpel.engine.steer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.model.CausalLM;
import dev.scalpel.engine.model.ComputeDevice;
import dev.scalpel.engine.model.ForwardContext;
import dev.scalpel.engine.model.HookPoints;
import dev.scalpel.engine.model.Hooks;
import dev.scalpel.engine.model.ModelLoader;
import dev.scalpel.engine.model.Tensors;
import dev.scalpel.engine.testing.Fixtures;
import dev.scalpel.engine.testing.Logits;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SteeringTest {
    private static final long[][] IDS = {{0, 45, 301, 77, 12, 99}};

    @Test
    void meanDifferenceIsTheDifferenceOfMeanResidualsAndSteeringAddsItWithItsCoefficient(@TempDir Path tmp) {
        try (CausalLM model = ModelLoader.load(Fixtures.model("llama-gqa"), ComputeDevice.CPU)) {
            List<long[]> pos = List.of(new long[] {0, 10, 11, 12}, new long[] {0, 13, 14});
            List<long[]> neg = List.of(new long[] {0, 200, 201}, new long[] {0, 202, 203, 204});
            SteeringVector v = SteeringVector.extract(model, pos, neg, 0, SteeringVector.Method.MEAN_DIFFERENCE);
            assertEquals(64, v.direction().length);
            float[] expected = new float[64];
            for (int i = 0; i < 2; i++) {
                float[] p = meanResid(model, pos.get(i)), n = meanResid(model, neg.get(i));
                for (int j = 0; j < 64; j++) {
                    expected[j] += (p[j] - n[j]) / 2;
                }
            }
            assertArrayEquals(expected, v.direction(), 1e-5f);

            float[] base = logits(model, new Hooks());
            assertArrayEquals(base, logits(model, v.hooks(0, model)), 0f);
            assertTrue(Logits.maxAbsDiff(base, logits(model, v.hooks(4, model))) > 1e-2, "steering moves the output");

            SteeringVector pc = SteeringVector.extract(model, pos, neg, 1, SteeringVector.Method.FIRST_PRINCIPAL_COMPONENT);
            assertEquals(1, pc.layer());

            GgufControlVector.write(tmp.resolve("v.gguf"), pc, "llama", 2, java.util.List.of());
            SteeringVector back = GgufControlVector.read(tmp.resolve("v.gguf"));
            assertEquals(1, back.layer());
            assertArrayEquals(pc.direction(), back.direction(), 0f);
            ScalpelException block0 = assertThrows(ScalpelException.class,
                    () -> GgufControlVector.write(tmp.resolve("v0.gguf"), v, "llama", 2, java.util.List.of()));
            assertTrue(block0.getMessage().contains("cannot steer the output of block 0"), block0.getMessage());
        }
    }

    private static float[] meanResid(CausalLM model, long[] ids) {
        try (PointerScope s = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            Hooks hooks = new Hooks();
            Map<String, org.bytedeco.pytorch.Tensor> c = hooks.capture(HookPoints.residPost(0));
            model.forward(Tensors.ids(ids, ComputeDevice.CPU), ForwardContext.withHooks(hooks));
            float[] all = Tensors.toFloats(c.get(HookPoints.residPost(0)));                // [1, S, 64]
            float[] mean = new float[64];
            int positions = ids.length;
            for (int t = 0; t < positions; t++) {
                for (int j = 0; j < 64; j++) {
                    mean[j] += all[t * 64 + j] / positions;
                }
            }
            return mean;
        }
    }

    private static float[] logits(CausalLM model, Hooks hooks) {
        try (PointerScope s = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            return Tensors.toFloats(model.forward(Tensors.ids(IDS, ComputeDevice.CPU), ForwardContext.withHooks(hooks)));
        }
    }

    @Test
    void trainingHeadsToMatchTheSteeredModelTrainsTheVectorIn() {
        try (CausalLM model = ModelLoader.load(Fixtures.model("llama-gqa"), ComputeDevice.CPU)) {
            SteeringVector v = SteeringVector.extract(model, List.of(new long[] {0, 10, 11, 12}), List.of(new long[] {0, 200, 201}), 1,
                    SteeringVector.Method.MEAN_DIFFERENCE);
            long[] text = new long[300];
            for (int i = 0; i < text.length; i++) {
                text[i] = 3 + (i * 37) % 500;
            }
            double[] firstAndLast = {Double.NaN, Double.NaN};
            var spec = new dev.scalpel.engine.train.FineTuner.Spec(dev.scalpel.engine.train.FineTuner.Objective.MATCH_TEACHER,
                    0, 0, 300, 60, 4, 32, 1e-2, "adamw", 3);
            try (var edit = dev.scalpel.engine.edit.HeadFinetuneEdit.of(model, dev.scalpel.engine.api.HeadSet.parse("L1H*", 4),
                    List.of(dev.scalpel.engine.edit.HeadLayout.Projection.values()), h -> 1.0)) {
                new dev.scalpel.engine.train.FineTuner(model, edit, spec).run(
                        new dev.scalpel.engine.train.FineTuner.Data(text, null, null, 0, v.hooks(2.0, model)),
                        p -> {
                            if (Double.isNaN(firstAndLast[0])) {
                                firstAndLast[0] = p.loss();
                            }
                            firstAndLast[1] = p.loss();
                        }, () -> false);
            }
            assertTrue(firstAndLast[0] > 1e-3, "the steered teacher differs from the base: KL " + firstAndLast[0]);
            assertTrue(firstAndLast[1] < 0.5 * firstAndLast[0], "KL to the steered model falls: " + firstAndLast[0] + " -> " + firstAndLast[1]);
        }
    }
}
