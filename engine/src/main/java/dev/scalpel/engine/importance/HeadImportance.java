package dev.scalpel.engine.importance;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import dev.scalpel.engine.api.HeadId;
import dev.scalpel.engine.api.ImportanceMap;
import dev.scalpel.engine.api.ProgressListener;
import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.eval.TokenLoss;
import dev.scalpel.engine.eval.TokenWindows;
import dev.scalpel.engine.model.CausalLM;
import dev.scalpel.engine.model.ForwardContext;
import dev.scalpel.engine.model.HeadGates;
import dev.scalpel.engine.model.HookPoints;
import dev.scalpel.engine.model.Hooks;
import dev.scalpel.engine.model.LayerType;
import dev.scalpel.engine.model.ModelConfig;
import dev.scalpel.engine.model.Tensors;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Layer × head importance maps of a model on one text (a language, a domain):
 * <ul>
 *   <li>{@code gradient}: mean over token positions of |∂L/∂g| at gates g = 1 (Michel et al. 2019), with one gate per
 *       head and position; one forward + backward per batch gives the whole map.</li>
 *   <li>{@code ablation-zero} / {@code ablation-mean}: ΔCE (nats per token) when the head's output is replaced by zero /
 *       by its mean over the text's tokens. Each layer's heads are ablated together in one replicated batch (one head
 *       per replica) that starts from the cached residual stream entering that layer.</li>
 *   <li>{@code attention-entropy}: mean entropy (nats) of each head's attention distribution.</li>
 *   <li>{@code activation-norm}: mean L2 norm of each head's output z.</li>
 * </ul>
 * Every map has one row per layer of that layer's own heads ({@link ModelConfig#headGrid}): a hybrid's Gated DeltaNet
 * rows hold its value heads, its attention rows its query heads.
 */
public final class HeadImportance {
    /** The ways to score a head. */
    public enum Method {
        GRADIENT("gradient"), ABLATION_ZERO("ablation-zero"), ABLATION_MEAN("ablation-mean"),
        ATTENTION_ENTROPY("attention-entropy"), ACTIVATION_NORM("activation-norm");

        private final String cliName;

        Method(String cliName) {
            this.cliName = cliName;
        }

        @JsonValue
        public String cliName() {
            return cliName;
        }

        @JsonCreator
        public static Method parse(String name) {
            for (Method m : values()) {
                if (m.cliName.equals(name)) {
                    return m;
                }
            }
            throw new ScalpelException("Unknown importance method '" + name + "'; use one of gradient, ablation-zero, "
                    + "ablation-mean, attention-entropy, activation-norm.");
        }
    }

    /**
     * @param context   window length in tokens (BOS included)
     * @param batchSize windows per pass
     */
    public record Options(int context, int batchSize) {}

    /** What a map cost, for benchmarks: wall time and the time of one plain forward pass over the same batches. */
    public record Cost(double seconds, double plainForwardSeconds, int batches) {
        /** The computation's cost as a multiple of one forward pass over the data. */
        public double forwardPasses() {
            return seconds / plainForwardSeconds;
        }
    }

    /** Replicas per ablation pass are capped so that a pass holds at most this many sequences (memory, cache). */
    private static final int MAX_REPLICATED_SEQUENCES = 8;

    private final CausalLM model;
    private final ModelConfig config;
    private final Options options;
    private Cost lastCost;

    public HeadImportance(CausalLM model, Options options) {
        this.model = model;
        this.config = model.config();
        this.options = options;
    }

    /** What the last {@link #compute} cost. */
    public Cost lastCost() {
        return lastCost;
    }

    /**
     * @param tokens the text's ids (no BOS); {@code bos} is put first when not null
     */
    public ImportanceMap compute(Method method, String domain, long[] tokens, Integer bos, String modelHash,
                                 String dataHash, ProgressListener progress) {
        if (method == Method.ATTENTION_ENTROPY && model.config().layerTypes().contains(LayerType.LINEAR_ATTENTION)) {
            throw new ScalpelException("attention-entropy needs softmax attention patterns, and this model's Gated DeltaNet "
                    + "(linear_attention) layers have none; use gradient, ablation-zero, ablation-mean or activation-norm.");
        }
        List<long[][]> batches = TokenWindows.batches(domain, tokens, bos, options.context(), options.batchSize());
        long predicted = batches.stream().mapToLong(b -> (long) b.length * (b[0].length - 1)).sum();
        double plain = plainForwardSeconds(batches);
        long t0 = System.nanoTime();
        double[][] scores = switch (method) {
            case GRADIENT -> gradient(batches, progress);
            case ABLATION_ZERO -> ablation(batches, null, predicted, progress);
            case ABLATION_MEAN -> ablationToMean(batches, predicted, progress);
            case ATTENTION_ENTROPY, ACTIVATION_NORM -> descriptive(method, batches, progress);
        };
        lastCost = new Cost((System.nanoTime() - t0) / 1e9, plain, batches.size());
        return new ImportanceMap(modelHash, dataHash, domain, method.cliName(), predicted, scores);
    }

    /** Σ over positions of |∂L_seq/∂g| per head, divided by the number of positions. */
    private double[][] gradient(List<long[][]> batches, ProgressListener progress) {
        double[][] sum = perLayer();
        long positions = 0;
        for (int i = 0; i < batches.size(); i++) {
            long[][] batch = batches.get(i);
            int b = batch.length, n = batch[0].length;
            try (PointerScope scope = new PointerScope();
                 HeadGates gates = HeadGates.perToken(config, b, n - 1, model.device()).requireGrad()) {
                Tensor ids = Tensors.ids(batch, model.device());                                   // [B, n]
                Tensor logits = model.forward(ids.narrow(1, 0, n - 1), ForwardContext.withGates(gates)); // [B, n-1, V]
                // Σ_b mean_s CE: its gradient w.r.t. sequence b's gates is ∂L_b/∂g.
                Tensor loss = TokenLoss.perToken(logits, ids.narrow(1, 1, n - 1)).sum().div(new Scalar(n - 1));
                loss.backward();
                Tensor perHead = gates.grad().abs().sum(new long[] {1, 2}, false, new ScalarTypeOptional()); // [L, W]
                add(sum, Tensors.toFloats(perHead), gates.grid().width());
                positions += (long) b * (n - 1);
            }
            progress.update((i + 1.0) / batches.size(), "gradient: batch " + (i + 1) + "/" + batches.size());
        }
        return divide(sum, positions);
    }

    /**
     * ΔCE per head: for each layer, the residual entering it (from one plain pass) is replicated once per head and
     * run from that layer on, each replica with one head's gate at 0 (to zero, or to {@code meanZ} when given).
     */
    private double[][] ablation(List<long[][]> batches, Tensor meanZ, long predicted, ProgressListener progress) {
        int layers = config.numLayers();
        double[][] delta = perLayer();
        String[] residPre = new String[layers];
        for (int l = 0; l < layers; l++) {
            residPre[l] = HookPoints.residPre(l);
        }
        try (NoGradGuard noGrad = new NoGradGuard()) {
            for (int i = 0; i < batches.size(); i++) {
                long[][] batch = batches.get(i);
                int b = batch.length, n = batch[0].length;
                try (PointerScope scope = new PointerScope()) {
                    Tensor ids = Tensors.ids(batch, model.device());
                    Tensor targets = ids.narrow(1, 1, n - 1);                                        // [B, n-1]
                    Hooks hooks = new Hooks();
                    Map<String, Tensor> residuals = hooks.capture(residPre);
                    double base = TokenLoss.perSequence(model.forward(ids.narrow(1, 0, n - 1),
                            ForwardContext.withHooks(hooks)), targets).sum().item_double();
                    for (int l = 0; l < layers; l++) {
                        int heads = config.headsIn(l);
                        int group = Math.max(1, Math.min(heads, MAX_REPLICATED_SEQUENCES / b)); // heads ablated per pass
                        for (int first = 0; first < heads; first += group) {
                            int k = Math.min(group, heads - first);
                            float[] nll = ablatedNll(l, first, k, residuals.get(residPre[l]), targets, meanZ); // [k]
                            for (int j = 0; j < k; j++) {
                                delta[l][first + j] += nll[j] - base;
                            }
                        }
                    }
                    residuals.values().forEach(Tensor::releaseReference);
                }
                progress.update((i + 1.0) / batches.size(), "ablation: batch " + (i + 1) + "/" + batches.size());
            }
        }
        return divide(delta, predicted);
    }

    private double[][] ablationToMean(List<long[][]> batches, long predicted, ProgressListener progress) {
        Tensor meanZ = meanHeadOutputs(batches);
        meanZ.retainReference(); // shared by the gates of every layer and batch
        try {
            return ablation(batches, meanZ, predicted, progress);
        } finally {
            meanZ.releaseReference();
        }
    }

    /**
     * Summed NLL of the batch with head (l, first + j) ablated in replica j, for j < k: the residual entering layer l
     * is repeated k times and run from layer l on.
     *
     * @param residual [B, S, d]; targets [B, S]
     * @return [k]
     */
    private float[] ablatedNll(int l, int first, int k, Tensor residual, Tensor targets, Tensor meanZ) {
        int b = (int) residual.size(0);
        try (PointerScope pass = new PointerScope(); // frees this pass's logits before the next one
             HeadGates gates = HeadGates.perSequence(config, k * b, model.device())) {
            if (meanZ != null) {
                gates.withBaseline(meanZ);
            }
            for (int j = 0; j < k; j++) {
                for (int r = 0; r < b; r++) {
                    gates.set(j * b + r, new HeadId(l, first + j), 0);
                }
            }
            Tensor logits = model.forwardFromLayer(l, residual.repeat(k, 1, 1), ForwardContext.withGates(gates)); // [k·B, S, V]
            return Tensors.toFloats(TokenLoss.perSequence(logits, targets.repeat(k, 1))
                    .view(k, b).sum(new long[] {1}, false, new ScalarTypeOptional()));
        }
    }

    /**
     * Each head's mean output z over all positions of the batches, [L, W, D_max] ({@link HeadGates#withBaseline}):
     * layer l's in [l, :H_l, :D_l].
     */
    private Tensor meanHeadOutputs(List<long[][]> batches) {
        int layers = config.numLayers();
        Tensor sum = torch.zeros(new long[] {layers, config.headGrid().width(), config.maxHeadWidth()},
                Tensors.floatOptions(model.device()));
        long positions = 0;
        try (NoGradGuard noGrad = new NoGradGuard()) {
            for (long[][] batch : batches) {
                int n = batch[0].length;
                try (PointerScope scope = new PointerScope()) {
                    Hooks hooks = new Hooks();
                    for (int l = 0; l < layers; l++) {
                        int layer = l;
                        hooks.add(HookPoints.z(l), z -> {                                             // z: [B, S, H_l, D_l]
                            sum.select(0, layer).narrow(0, 0, z.size(2)).narrow(1, 0, z.size(3))
                                    .add_(z.sum(new long[] {0, 1}, false, new ScalarTypeOptional()));       // [H_l, D_l]
                            return z;
                        });
                    }
                    model.forward(Tensors.ids(batch, model.device()).narrow(1, 0, n - 1), ForwardContext.withHooks(hooks));
                }
                positions += (long) batch.length * (n - 1);
            }
        }
        return sum.div(new Scalar(positions));
    }

    /** Attention entropy or output norm per head, averaged over positions. */
    private double[][] descriptive(Method method, List<long[][]> batches, ProgressListener progress) {
        int layers = config.numLayers();
        double[][] sum = perLayer();
        long positions = 0;
        try (NoGradGuard noGrad = new NoGradGuard()) {
            for (int i = 0; i < batches.size(); i++) {
                long[][] batch = batches.get(i);
                int n = batch[0].length;
                try (PointerScope scope = new PointerScope()) {
                    Hooks hooks = new Hooks();
                    for (int l = 0; l < layers; l++) {
                        int layer = l;
                        if (method == Method.ATTENTION_ENTROPY) {
                            hooks.add(HookPoints.pattern(l), p -> {                                  // p: [B, H, S, T]
                                Tensor entropy = p.mul(p.clamp_min(new Scalar(1e-30)).log()).sum(new long[] {-1}, false,
                                        new ScalarTypeOptional()).neg();                              // [B, H, S]
                                addRow(sum[layer], Tensors.toFloats(entropy.sum(new long[] {0, 2}, false, new ScalarTypeOptional())));
                                return p;
                            });
                        } else {
                            hooks.add(HookPoints.z(l), z -> {                                        // z: [B, S, H_l, D_l]
                                Tensor norms = z.norm(new org.bytedeco.pytorch.ScalarOptional(new Scalar(2)), new long[] {-1}, false); // [B, S, H]
                                addRow(sum[layer], Tensors.toFloats(norms.sum(new long[] {0, 1}, false, new ScalarTypeOptional())));
                                return z;
                            });
                        }
                    }
                    model.forward(Tensors.ids(batch, model.device()).narrow(1, 0, n - 1), ForwardContext.withHooks(hooks));
                }
                positions += (long) batch.length * (n - 1);
                progress.update((i + 1.0) / batches.size(), method.cliName() + ": batch " + (i + 1) + "/" + batches.size());
            }
        }
        return divide(sum, positions);
    }

    /** Time of one plain forward pass over all batches (the unit the cost is reported in). */
    private double plainForwardSeconds(List<long[][]> batches) {
        long t0 = System.nanoTime();
        try (NoGradGuard noGrad = new NoGradGuard()) {
            for (long[][] batch : batches) {
                try (PointerScope scope = new PointerScope()) {
                    int n = batch[0].length;
                    model.forward(Tensors.ids(batch, model.device()).narrow(1, 0, n - 1), ForwardContext.plain()).sum().item_float();
                }
            }
        }
        return (System.nanoTime() - t0) / 1e9;
    }

    /** Zeros, one row per layer of that layer's heads. */
    private double[][] perLayer() {
        double[][] rows = new double[config.numLayers()][];
        for (int l = 0; l < rows.length; l++) {
            rows[l] = new double[config.headsIn(l)];
        }
        return rows;
    }

    /** Adds [L, W] (row-major, {@code width} per layer) into the ragged rows, skipping each layer's absent cells. */
    private static void add(double[][] into, float[] flat, int width) {
        for (int l = 0; l < into.length; l++) {
            for (int h = 0; h < into[l].length; h++) {
                into[l][h] += flat[l * width + h];
            }
        }
    }

    private static void addRow(double[] into, float[] values) {
        for (int h = 0; h < into.length; h++) {
            into[h] += values[h];
        }
    }

    private static double[][] divide(double[][] sums, long count) {
        double[][] out = new double[sums.length][];
        for (int l = 0; l < sums.length; l++) {
            out[l] = new double[sums[l].length];
            for (int h = 0; h < out[l].length; h++) {
                out[l][h] = sums[l][h] / count;
            }
        }
        return out;
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "HeadImportance[%d×%d, context %d]", config.numLayers(), config.headGrid().width(), options.context());
    }
}
