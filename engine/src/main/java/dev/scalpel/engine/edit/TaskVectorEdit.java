package dev.scalpel.engine.edit;

import dev.scalpel.engine.model.CausalLM;
import dev.scalpel.engine.train.Optimizer;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * A task vector applied as an edit: each touched linear layer gets x·τᵀ added (W + τ without writing W), and every
 * other tensor it touches (embeddings, norms, biases, lm_head) is read as stored + τ, so the edit equals its merged
 * export. Head pruning is the task vector −W on the heads' slices. A full fine-tune ({@link #fullFinetune}) trains τ
 * for every weight of the model, starting from zero; what it learns is a task vector like any other.
 */
public final class TaskVectorEdit implements Edit {
    private final String description;
    private final Map<String, Tensor> deltas;
    private final boolean trainable;

    public TaskVectorEdit(TaskVector vector, String description) {
        this(vector, description, false);
    }

    private TaskVectorEdit(TaskVector vector, String description, boolean trainable) {
        this.description = description;
        this.trainable = trainable;
        this.deltas = new LinkedHashMap<>();
        vector.deltas().forEach((name, d) -> {
            Tensor own = d.detach().clone();
            if (trainable) {
                own.requires_grad_(true);
            }
            own.retainReference();
            deltas.put(name, own);
        });
    }

    /**
     * A trainable zero task vector over every weight of {@code model} (embeddings, norms, biases and lm_head too): a
     * full-model fine-tune that never writes the base weights. Its optimizer state is that of the whole model (AdamW:
     * two moments per weight; APOLLO projects the matrices).
     */
    public static TaskVectorEdit fullFinetune(CausalLM model) {
        Map<String, Tensor> zeros = new LinkedHashMap<>();
        try (NoGradGuard g = new NoGradGuard()) {
            model.weights().asMap().forEach((name, w) -> zeros.put(name, torch.zeros_like(w)));
        }
        return new TaskVectorEdit(new TaskVector(zeros), "full fine-tune", true);
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

    /** For a full fine-tune every delta, decayed when it is a matrix; none for a fixed task vector. */
    @Override
    public List<Optimizer.Trainable> trainables() {
        return trainable ? deltas.entrySet().stream().map(e -> Optimizer.Trainable.of(e.getKey(), e.getValue())).toList()
                : List.of();
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
