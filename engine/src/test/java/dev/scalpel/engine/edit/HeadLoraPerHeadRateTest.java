package dev.scalpel.engine.edit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.scalpel.engine.api.HeadId;
import dev.scalpel.engine.api.HeadSet;
import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.model.CausalLM;
import dev.scalpel.engine.model.ComputeDevice;
import dev.scalpel.engine.model.ForwardContext;
import dev.scalpel.engine.model.ModelLoader;
import dev.scalpel.engine.model.Tensors;
import dev.scalpel.engine.testing.Fixtures;
import dev.scalpel.engine.train.AdamW;
import dev.scalpel.engine.train.Optimizer;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Per-head learning rates for head-LoRA (issue 16): on the GQA fixture, each head's own factor rows (B of q/k/v,
 * A columns of o_proj) move at lr × its scale, a head at scale 0 gets no adapter, and all scales 1 is the uniform
 * head-LoRA (to float rounding).
 */
class HeadLoraPerHeadRateTest {
    private static final List<HeadLayout.Projection> QKVO = List.of(HeadLayout.Projection.values());
    private static final HeadId FAST = HeadId.parse("L0H0");
    private static final HeadId SLOW = HeadId.parse("L0H2");
    private static final HeadId FROZEN = HeadId.parse("L1H1");
    private static final ToDoubleFunction<HeadId> RATES = h -> h.equals(FAST) ? 1.0 : h.equals(SLOW) ? 0.25 : 0.0;
    private static CausalLM model;

    @BeforeAll
    static void load() {
        model = ModelLoader.load(Fixtures.model("llama-gqa"), ComputeDevice.CPU);
    }

    @AfterAll
    static void close() {
        model.close();
    }

    @Test
    void eachHeadsOwnFactorMovesAtItsRateAndAFrozenHeadGetsNoAdapter() {
        try (LoraEdit edit = LoraEdit.heads(model, HeadSet.of(FAST, SLOW, FROZEN), QKVO, 2, 4, 0, 7, RATES)) {
            assertEquals(HeadSet.of(FAST, SLOW), edit.heads());
            assertEquals(List.of("model.layers.0.self_attn.q_proj.weight", "model.layers.0.self_attn.k_proj.weight",
                    "model.layers.0.self_attn.v_proj.weight", "model.layers.0.self_attn.o_proj.weight"), edit.weightNames());
            Map<String, Tensor> before = snapshot(edit);
            try (AdamW adam = new AdamW(edit.trainables(), new AdamW.Options(1e-2, 0.9, 0.999, 1e-8, 0))) {
                step(edit, adam);
                assertOwnFactorsMoveAtTheirRates(edit, before, "q", 0);   // Adam's first step is ±lr·scale per element
                step(edit, adam);
                assertOwnFactorsMoveAtTheirRates(edit, before, "o", 1);   // A first gets a gradient once the shared B moved
            }
        }
    }

    /** The largest change of the fast head's own factor entries is 4× the slow head's. */
    private static void assertOwnFactorsMoveAtTheirRates(LoraEdit edit, Map<String, Tensor> before, String projection, int dim) {
        HeadLayout layout = new HeadLayout(model.config());
        String weight = "model.layers.0.self_attn." + projection + "_proj.weight";
        String factor = weight + (dim == 0 ? ".lora_B" : ".lora_A");
        HeadLayout.Projection p = HeadLayout.Projection.parse(projection);
        double fast = maxChange(edit, before, factor, dim, layout.slice(FAST, p), edit.slice(weight));
        double slow = maxChange(edit, before, factor, dim, layout.slice(SLOW, p), edit.slice(weight));
        assertEquals(0.25, slow / fast, 0.01, factor + ": the slow head's entries move at a quarter of the fast head's rate");
    }

    @Test
    void ratesOfOneAreTheUniformHeadLora() {
        HeadSet heads = HeadSet.of(FAST, SLOW);
        try (LoraEdit uniform = LoraEdit.heads(model, heads, QKVO, 2, 4, 0, 3);
             LoraEdit ones = LoraEdit.heads(model, heads, QKVO, 2, 4, 0, 3, h -> 1.0)) {
            train(uniform, 3);
            train(ones, 3);
            // the same update, computed as lr·s ⊙ (m̂ / (√v̂ + ε)) instead of addcdiv: equal to float rounding
            uniform.tensors().forEach((name, t) -> assertEquals(0, Tensors.toFloats(t.sub(ones.tensors().get(name)).abs().max())[0],
                    2e-6, name));
        }
    }

    @Test
    void freezingEveryChosenHeadIsRefused() {
        ScalpelException e = assertThrows(ScalpelException.class,
                () -> LoraEdit.heads(model, HeadSet.of(FROZEN), QKVO, 2, 4, 0, 7, RATES));
        assertEquals(true, e.getMessage().contains("freeze every chosen head"), e.getMessage());
    }

    /** {@code steps} AdamW steps (lr 1e-2, no weight decay). */
    private static void train(LoraEdit edit, int steps) {
        try (AdamW adam = new AdamW(edit.trainables(), new AdamW.Options(1e-2, 0.9, 0.999, 1e-8, 0))) {
            for (int s = 0; s < steps; s++) {
                step(edit, adam);
            }
        }
    }

    /** One step on the mean squared logits of a short prompt. */
    private static void step(LoraEdit edit, AdamW adam) {
        adam.zeroGrad();
        Tensor logits = model.forward(Tensors.ids(new long[] {3, 14, 15, 9, 2, 6}, ComputeDevice.CPU),
                ForwardContext.withOverlay(new EditOverlay(List.of(edit))));                           // [1, 6, V]
        logits.pow(new org.bytedeco.pytorch.Scalar(2)).mean().backward();
        adam.step(1e-2);
    }

    private static Map<String, Tensor> snapshot(Edit edit) {
        return edit.trainables().stream().collect(java.util.stream.Collectors.toMap(Optimizer.Trainable::name,
                t -> t.value().detach().clone()));
    }

    /** The largest change of factor {@code name} over the rows (dim 0) or columns (dim 1) that {@code head}'s slice holds. */
    private static double maxChange(LoraEdit edit, Map<String, Tensor> before, String name, int dim, Slice head, Slice union) {
        Tensor now = edit.trainables().stream().filter(t -> t.name().equals(name)).findFirst().orElseThrow().value();
        long[] features = union.indexArray();
        double max = 0;
        for (long f : head.indexArray()) {
            int i = Arrays.stream(features).boxed().toList().indexOf(f);
            Tensor change = now.detach().select(dim, i).sub(before.get(name).select(dim, i)).abs().max();
            max = Math.max(max, Tensors.toFloats(change)[0]);
        }
        return max;
    }
}
