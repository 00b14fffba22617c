package dev.scalpel.engine.edit;

import dev.scalpel.engine.api.HeadId;
import dev.scalpel.engine.api.HeadSet;
import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.model.CausalLM;
import dev.scalpel.engine.model.LayerType;
import dev.scalpel.engine.model.Tensors;
import dev.scalpel.engine.train.Optimizer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Trains how fast chosen Gated DeltaNet heads forget: a delta on each head's {@code A_log} (its decay rate is
 * exp(A_log)) and {@code dt_bias} (the bias of its step size), two numbers per head, applied through the overlay
 * (the stored weights are never written). The decay per position is g = −exp(A_log) · softplus(a + dt_bias), so these
 * two scalars set how much of a head's recurrent state survives each token: the levers the hybrid models' research
 * singles out for behavioural change.
 */
public final class DeltaNetDecayEdit implements Edit {
    /** The two per-head parameters a decay edit trains, by their name in {@code model.layers.N.linear_attn.}. */
    public static final List<String> PARAMETERS = List.of("A_log", "dt_bias");

    /**
     * One parameter vector of one layer: its delta [H_v] (trainable) and the mask [H_v] of the chosen heads, so the
     * heads not chosen stay exactly as stored.
     */
    private record Part(String name, Tensor delta, Tensor mask) {
        Tensor effective() {
            return delta.mul(mask);
        }
    }

    private final HeadSet heads;
    private final List<Part> parts;

    private DeltaNetDecayEdit(HeadSet heads, List<Part> parts) {
        this.heads = heads;
        this.parts = parts;
    }

    /** A fresh (zero) decay edit on {@code heads}, each of them a value head of a Gated DeltaNet layer. */
    public static DeltaNetDecayEdit of(CausalLM model, HeadSet heads) {
        if (heads.isEmpty()) {
            throw new ScalpelException("A decay edit needs at least one head of a Gated DeltaNet (linear_attention) layer.");
        }
        List<Part> parts = new ArrayList<>();
        for (int layer : heads.heads().stream().map(HeadId::layer).distinct().sorted().toList()) {
            if (model.config().layerTypes().get(layer) != LayerType.LINEAR_ATTENTION) {
                throw new ScalpelException("L" + layer + " is not a Gated DeltaNet layer, so its heads have no A_log or dt_bias; "
                        + "a decay edit takes heads of linear_attention layers (see scalpel info).");
            }
            float[] mask = new float[model.config().headsIn(layer)];   // [H_v]: 1 on the chosen value heads
            heads.inLayer(layer).heads().forEach(h -> mask[h.head()] = 1f);
            for (String parameter : PARAMETERS) {
                Tensor delta = torch.zeros(new long[] {mask.length}, Tensors.floatOptions(model.device()));
                delta.requires_grad_(true);
                delta.retainReference();
                Tensor m = Tensors.floats(mask, model.device());
                m.retainReference();
                parts.add(new Part("model.layers." + layer + ".linear_attn." + parameter, delta, m));
            }
        }
        return new DeltaNetDecayEdit(heads, parts);
    }

    @Override
    public String kind() {
        return "deltanet-decay";
    }

    @Override
    public String describe() {
        return String.format(Locale.ROOT, "decay (A_log, dt_bias) of %s, %,d params", heads, parameterCount());
    }

    @Override
    public long parameterCount() {
        return 2L * heads.size();
    }

    @Override
    public List<String> weightNames() {
        return parts.stream().map(Part::name).toList();
    }

    @Override
    public Tensor contribution(String weightName, Tensor x, Tensor weight) {
        return null;
    }

    @Override
    public Tensor parameterDelta(String name) {
        for (Part p : parts) {
            if (p.name().equals(name)) {
                return p.effective();
            }
        }
        return null;
    }

    @Override
    public Map<String, Tensor> denseDeltas(Map<String, Tensor> weights) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        parts.forEach(p -> out.put(p.name(), p.effective().detach()));
        return out;
    }

    @Override
    public List<Optimizer.Trainable> trainables() {
        return parts.stream().map(p -> new Optimizer.Trainable(p.name(), p.delta(), 1.0, false)).toList();
    }

    @Override
    public Edit copy() {
        List<Part> copies = new ArrayList<>();
        for (Part p : parts) {
            Tensor delta = p.delta().detach().clone();
            delta.retainReference();
            p.mask().retainReference();
            copies.add(new Part(p.name(), delta, p.mask()));
        }
        return new DeltaNetDecayEdit(heads, copies);
    }

    @Override
    public Map<String, Object> metadata() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("kind", kind());
        m.put("heads", heads.toString());
        return m;
    }

    @Override
    public Map<String, Tensor> tensors() {
        Map<String, Tensor> t = new LinkedHashMap<>();
        parts.forEach(p -> t.put(p.name(), p.delta()));
        return t;
    }

    @Override
    public void close() {
        parts.forEach(p -> {
            p.delta().releaseReference();
            p.mask().releaseReference();
        });
    }
}
