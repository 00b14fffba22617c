package dev.scalpel.engine.train;

import dev.scalpel.engine.components.ModuleNames;
import dev.scalpel.engine.edit.Edit;
import dev.scalpel.engine.model.CausalLM;
import dev.scalpel.engine.model.ForwardContext;
import dev.scalpel.engine.model.HookPoints;
import dev.scalpel.engine.model.Hooks;
import dev.scalpel.engine.model.Tensors;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * The residual stream entering the lowest layer an edit touches, kept per training row: the blocks below that layer
 * cannot change while the edit trains, so they run once per distinct row instead of once per step (PEFT runs the
 * whole model every step). With a small token budget every target row is one of a few windows, so after the first
 * steps training runs only the layers from the edit up. Rows beyond {@code maxBytes} of kept streams are run through
 * the lower blocks each time they come.
 */
final class FrozenPrefix implements AutoCloseable {
    private final CausalLM model;
    private final int layer;
    private final long maxBytes;
    private final Map<Row, Tensor> streams = new HashMap<>();   // row → [n-1, d], retained
    private long bytes;

    /** A row of token ids as a map key (content equality). */
    private record Row(long[] ids) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Row r && Arrays.equals(ids, r.ids);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(ids);
        }
    }

    FrozenPrefix(CausalLM model, int layer, long maxBytes) {
        this.model = model;
        this.layer = layer;
        this.maxBytes = maxBytes;
    }

    /**
     * The lowest layer whose weights or parameters {@code edit} changes, when it is above 0 and every one of them lies
     * in a layer (an edit of the embeddings or lm_head reaches the whole model: nothing to skip).
     */
    static OptionalInt firstLayer(Edit edit) {
        int lowest = Integer.MAX_VALUE;
        for (String name : edit.weightNames()) {
            OptionalInt l = ModuleNames.layerOf(name);
            if (l.isEmpty()) {
                return OptionalInt.empty();
            }
            lowest = Math.min(lowest, l.getAsInt());
        }
        return lowest > 0 && lowest < Integer.MAX_VALUE ? OptionalInt.of(lowest) : OptionalInt.empty();
    }

    int layer() {
        return layer;
    }

    /** The streams entering {@link #layer()} for the inputs of {@code rows} (each row but its last token), [R, n-1, d]. */
    Tensor streams(long[][] rows) {
        List<Integer> missing = new ArrayList<>();
        for (int i = 0; i < rows.length; i++) {
            if (!streams.containsKey(new Row(rows[i]))) {
                missing.add(i);
            }
        }
        Tensor computed = missing.isEmpty() ? null : lowerBlocks(missing.stream().map(i -> rows[i]).toArray(long[][]::new));
        TensorVector parts = new TensorVector();
        for (int i = 0, next = 0; i < rows.length; i++) {
            Tensor kept = streams.get(new Row(rows[i]));
            if (kept == null) {
                kept = computed.select(0, next++);                                      // [n-1, d]
                keep(rows[i], kept);
            }
            parts.push_back(kept.unsqueeze(0));
        }
        Tensor out = torch.cat(parts, 0);                                               // [R, n-1, d]
        if (computed != null) {
            computed.releaseReference();   // the capture's reference; the kept rows are copies
        }
        return out;
    }

    /** Runs rows [k, n] through the blocks below {@link #layer()} without gradients: [k, n-1, d]. */
    private Tensor lowerBlocks(long[][] rows) {
        try (NoGradGuard g = new NoGradGuard()) {
            Hooks hooks = new Hooks();
            String point = HookPoints.residPre(layer);
            Map<String, Tensor> captured = hooks.capture(point);
            int n = rows[0].length;
            model.forward(Tensors.ids(rows, model.device()).narrow(1, 0, n - 1), ForwardContext.withHooks(hooks));
            return captured.get(point);   // retained by the capture: released by streams once used
        }
    }

    private void keep(long[] row, Tensor stream) {
        long size = stream.numel() * stream.element_size();
        if (bytes + size > maxBytes) {
            return;
        }
        Tensor copy = stream.clone();
        copy.retainReference();
        streams.put(new Row(row.clone()), copy);
        bytes += size;
    }

    @Override
    public void close() {
        streams.values().forEach(Tensor::releaseReference);
        streams.clear();
        bytes = 0;
    }
}
