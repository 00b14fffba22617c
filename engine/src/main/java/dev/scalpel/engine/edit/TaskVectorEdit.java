package dev.scalpel.engine.edit;

import dev.scalpel.engine.train.Optimizer;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;

/**
 * A task vector applied as an edit: each touched linear layer gets x·τᵀ added (W + τ without writing W), and every
 * other tensor it touches (embeddings, norms, biases, lm_head) is read as stored + τ, so the edit equals its merged
 * export. Task vectors are not trained. Head pruning is the task vector −W on the heads' slices.
 */
public final class TaskVectorEdit implements Edit {
    private final String description;
    private final Map<String, Tensor> deltas;

    public TaskVectorEdit(TaskVector vector, String description) {
        this.description = description;
        this.deltas = new LinkedHashMap<>();
        vector.deltas().forEach((name, d) -> {
            Tensor own = d.detach().clone();
            own.retainReference();
            deltas.put(name, own);
        });
    }

    @Override
    public String kind() {
        return "task-vector";
    }

    @Override
    public String describe() {
        long numbers = deltas.values().stream().mapToLong(Tensor::numel).sum();
        return String.format(Locale.ROOT, "%s (%d weights, %,d numbers)", description, deltas.size(), numbers);
    }

    @Override
    public List<String> weightNames() {
        return List.copyOf(deltas.keySet());
    }

    @Override
    public Tensor contribution(String weightName, Tensor x, Tensor weight) {
        Tensor d = deltas.get(weightName);
        return d == null ? null : x.matmul(d.t());                                          // [..., in]·[in, out]
    }

    @Override
    public Tensor parameterDelta(String name) {
        return deltas.get(name);
    }

    @Override
    public Map<String, Tensor> denseDeltas(Map<String, Tensor> weights) {
        return Map.copyOf(deltas);
    }

    @Override
    public List<Optimizer.Trainable> trainables() {
        return List.of();
    }

    @Override
    public Edit copy() {
        return new TaskVectorEdit(new TaskVector(deltas), description);
    }

    @Override
    public Map<String, Object> metadata() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("kind", kind());
        m.put("name", description);
        m.put("weights", List.copyOf(deltas.keySet()));
        return m;
    }

    @Override
    public Map<String, Tensor> tensors() {
        return java.util.Collections.unmodifiableMap(deltas);
    }

    @Override
    public void close() {
        deltas.values().forEach(Tensor::releaseReference);
    }
}
