package dev.scalpel.engine.edit;

import dev.scalpel.engine.api.HeadId;
import dev.scalpel.engine.api.HeadSet;
import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.model.CausalLM;
import dev.scalpel.engine.train.Optimizer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToDoubleFunction;
import org.bytedeco.pytorch.Tensor;

/**
 * LoRA, either on whole modules (PEFT's kind: target modules × layers, one rank per module or a rank pattern) or
 * restricted to chosen heads (head-LoRA: only the heads' q/k/v rows and o_proj columns change; see {@link HeadLayout}
 * for how grouped k/v heads are shared).
 */
public final class LoraEdit implements Edit {
    private final String kind;
    private final HeadSet heads;             // null for module LoRA
    private final List<String> projections;  // head-LoRA: q/k/v/o; module LoRA: the target module names
    private final List<Integer> layers;      // module LoRA: layers_to_transform, or null for all
    private final Map<String, Integer> rankPattern;
    private final int rank;
    private final double alpha;
    private final double dropout;
    private final Map<String, LoraAdapter> adapters;  // by weight name
    private final Map<String, long[]> shapes;         // weight name → [out, in]
    private final Map<String, HeadRates> rates;       // head-LoRA with per-head learning rates: by weight name; else empty
    private boolean training;

    /**
     * Per-head learning rates on one head-LoRA adapter. Its own factor — B [out', r] of a q/k/v row slice, A [r, in']
     * of an o_proj column slice — has one row (column) per head feature and trains each at its head's rate
     * ({@code own}: [out', 1] or [1, in']; a k/v row shared by several chosen heads at the largest of their rates). The
     * factor its heads share (A of rows, B of columns) trains at the largest rate among them.
     */
    private record HeadRates(Tensor own, double shared) {}

    private LoraEdit(String kind, HeadSet heads, List<String> projections, List<Integer> layers,
                     Map<String, Integer> rankPattern, int rank, double alpha, double dropout,
                     Map<String, LoraAdapter> adapters, Map<String, long[]> shapes) {
        this(kind, heads, projections, layers, rankPattern, rank, alpha, dropout, adapters, shapes, Map.of());
    }

    private LoraEdit(String kind, HeadSet heads, List<String> projections, List<Integer> layers,
                     Map<String, Integer> rankPattern, int rank, double alpha, double dropout,
                     Map<String, LoraAdapter> adapters, Map<String, long[]> shapes, Map<String, HeadRates> rates) {
        this.kind = kind;
        this.heads = heads;
        this.projections = projections;
        this.layers = layers;
        this.rankPattern = rankPattern;
        this.rank = rank;
        this.alpha = alpha;
        this.dropout = dropout;
        this.adapters = adapters;
        this.shapes = shapes;
        this.rates = rates;
    }

    /**
     * Refuses a LoRA that cannot train: rank below 1, α not a positive finite number, dropout outside [0, 1) (from a
     * spec, a dialog or an edits file).
     */
    public static void checkSettings(Integer rank, double alpha, double dropout) {
        if (rank == null || rank < 1) {
            throw new ScalpelException("A LoRA rank must be at least 1, got " + rank + ".");
        }
        if (!(alpha > 0) || Double.isInfinite(alpha)) {
            throw new ScalpelException("LoRA alpha must be a positive number, got " + alpha + ".");
        }
        if (!(dropout >= 0 && dropout < 1)) {
            throw new ScalpelException("LoRA dropout must be in [0, 1), got " + dropout + ".");
        }
    }

    /**
     * Module LoRA on every weight whose name matches one of {@code modules} (e.g. "q_proj", "v_proj") in
     * {@code layers} (null = all), rank from {@code rankPattern} when it has a key contained in the name, else
     * {@code rank}.
     */
    public static LoraEdit modules(CausalLM model, List<String> modules, List<Integer> layers, int rank,
                                   Map<String, Integer> rankPattern, double alpha, double dropout, long seed) {
        List<String> weights = new ArrayList<>();
        for (var e : model.weights().asMap().entrySet()) {
            String name = e.getKey();
            int layer = dev.scalpel.engine.components.ModuleNames.layerOf(name).orElse(-1);
            if (e.getValue().dim() == 2 && modules.stream().anyMatch(m -> name.contains("." + m + ".weight"))
                    && (layers == null || layers.contains(layer))) {
                weights.add(name);
            }
        }
        if (weights.isEmpty()) {
            throw new ScalpelException("No weight matches the LoRA target modules " + modules
                    + (layers != null ? " in layers " + layers : "") + "; use names like q_proj, v_proj, down_proj.");
        }
        return onWeights(model, weights, modules, layers, rank, rankPattern, alpha, dropout, seed);
    }

    /** Module LoRA on exactly these weights (what an edits file records), ranks as in {@link #modules}. */
    static LoraEdit onWeights(CausalLM model, List<String> weights, List<String> modules, List<Integer> layers, int rank,
                              Map<String, Integer> rankPattern, double alpha, double dropout, long seed) {
        checkSettings(rank, alpha, dropout);
        rankPattern.forEach((module, r) -> checkSettings(r, alpha, dropout));
        Map<String, LoraAdapter> adapters = new LinkedHashMap<>();
        Map<String, long[]> shapes = new LinkedHashMap<>();
        for (String name : weights) {
            Tensor w = model.weights().get(name);
            if (w == null) {
                throw new ScalpelException("LoRA target weight " + name + " is not in this model.");
            }
            int r = rankPattern.entrySet().stream().filter(p -> name.contains(p.getKey())).map(Map.Entry::getValue)
                    .findFirst().orElse(rank);
            long[] shape = {w.size(0), w.size(1)};
            shapes.put(name, shape);
            adapters.put(name, LoraAdapter.fresh(name, null, shape[0], shape[1], r, alpha, model.device(), seed + adapters.size()));
        }
        return new LoraEdit("lora", null, List.copyOf(modules), layers == null ? null : List.copyOf(layers),
                Map.copyOf(rankPattern), rank, alpha, dropout, adapters, shapes);
    }

    /**
     * Module LoRA from given factors: weight name → {A [r, in], B [out, r]}, with scaling α/r = 1 (α = r), as LoRA
     * extraction produces them. The "modules" it records are the full weight names.
     */
    static LoraEdit ofFactors(Map<String, Tensor[]> factors, int rank) {
        Map<String, LoraAdapter> adapters = new LinkedHashMap<>();
        Map<String, long[]> shapes = new LinkedHashMap<>();
        factors.forEach((name, ab) -> {
            ab[0].requires_grad_(true);
            ab[1].requires_grad_(true);
            adapters.put(name, new LoraAdapter(name, null, ab[0], ab[1], 1.0));
            shapes.put(name, new long[] {ab[1].size(0), ab[0].size(1)});
        });
        List<String> modules = factors.keySet().stream().map(LoraEdit::moduleKind).distinct().toList();
        return new LoraEdit("lora", null, modules, null, Map.of(), rank, rank, 0, adapters, shapes);
    }

    /**
     * Rank-1 LoRA on {@code module} that starts on one input direction: A = dᵀ/‖d‖ [1, in], B = 0 [out, 1], scaling 1,
     * both trainable. Its first updates reach only the positions whose input has a component along d — a LoRA localised
     * where a rank-1 subcomponent u vᵀ reads (d = v), the study's "localised rank-1 LoRA".
     *
     * @param direction [in]
     */
    public static LoraEdit startingOnInputDirection(CausalLM model, String module, Tensor direction) {
        Tensor w = model.weights().get(module + ".weight");                                    // [out, in]
        if (w == null || w.dim() != 2 || direction.dim() != 1 || direction.size(0) != w.size(1)) {
            throw new ScalpelException("A localised LoRA needs a matrix " + module + " and an input direction of its width.");
        }
        Tensor a = direction.div(direction.norm()).unsqueeze(0).detach().clone();                 // [1, in]
        Tensor b = org.bytedeco.pytorch.global.torch.zeros(new long[] {w.size(0), 1},
                dev.scalpel.engine.model.Tensors.floatOptions(model.device()));                   // [out, 1]
        return ofFactors(Map.of(module + ".weight", new Tensor[] {a, b}), 1);
    }

    /** "model.layers.3.self_attn.v_proj.weight" → "v_proj". */
    private static String moduleKind(String weightName) {
        String module = weightName.substring(0, weightName.length() - ".weight".length());
        return module.substring(module.lastIndexOf('.') + 1);
    }

    /** Head-LoRA: adapters on the chosen heads' slices of the chosen projections (q, k, v, o). */
    public static LoraEdit heads(CausalLM model, HeadSet heads, List<HeadLayout.Projection> projections, int rank,
                                 double alpha, double dropout, long seed) {
        return heads(model, heads, projections, rank, alpha, dropout, seed, null);
    }

    /**
     * Head-LoRA with per-head learning rates ({@code lrScale} null: every head at the base rate): each head's own
     * factor rows (columns) train at lr × its scale, see {@link HeadRates}; heads at scale 0 are frozen, so they get
     * no adapter rows at all.
     *
     * @throws ScalpelException when every chosen head is frozen
     */
    public static LoraEdit heads(CausalLM model, HeadSet heads, List<HeadLayout.Projection> projections, int rank,
                                 double alpha, double dropout, long seed, ToDoubleFunction<HeadId> lrScale) {
        checkSettings(rank, alpha, dropout);
        if (heads.isEmpty()) {
            throw new ScalpelException("Head-LoRA needs at least one head; mark heads to train first.");
        }
        HeadSet trained = lrScale == null ? heads : HeadSet.of(heads.heads().stream().filter(h -> lrScale.applyAsDouble(h) > 0).toList());
        if (trained.isEmpty()) {
            throw new ScalpelException("The per-head learning rates freeze every chosen head (" + heads + "); choose heads the "
                    + "map does not freeze, or raise per_head_lr.freeze_above.");
        }
        HeadLayout layout = new HeadLayout(model.config());
        Map<String, List<Map.Entry<HeadId, Slice>>> byWeight = new LinkedHashMap<>();   // weight#dim → (head, its slice)
        for (HeadId h : trained.heads()) {
            for (HeadLayout.Projection p : projections) {
                Slice s = layout.slice(h, p);     // a fused matrix (GPT-2's c_attn) holds several slices of one head
                byWeight.computeIfAbsent(s.weightName() + "#" + s.dim(), k -> new ArrayList<>()).add(Map.entry(h, s));
            }
        }
        Map<String, LoraAdapter> adapters = new LinkedHashMap<>();
        Map<String, long[]> shapes = new LinkedHashMap<>();
        Map<String, HeadRates> rates = new LinkedHashMap<>();
        for (List<Map.Entry<HeadId, Slice>> slices : byWeight.values()) {
            Slice union = Slice.union(slices.stream().map(Map.Entry::getValue).toList());
            Tensor w = model.weights().get(union.weightName());
            if (w == null) {
                throw new ScalpelException("Weight " + union.weightName() + " is not in this model; head-LoRA cannot place its adapter.");
            }
            long[] shape = {w.size(0), w.size(1)};
            shapes.put(union.weightName(), shape);
            adapters.put(union.weightName(), LoraAdapter.fresh(union.weightName(), union, shape[0], shape[1], rank, alpha,
                    model.device(), seed + adapters.size()));
            if (lrScale != null) {
                rates.put(union.weightName(), headRates(union, slices, lrScale, model));
            }
        }
        List<String> names = projections.stream().map(p -> p.name().toLowerCase(Locale.ROOT)).toList();
        return new LoraEdit("head-lora", trained, names, null, Map.of(), rank, alpha, dropout, adapters, shapes, rates);
    }

    /** The rates of one adapter over {@code union}: each feature at the largest scale of the heads whose slice holds it. */
    private static HeadRates headRates(Slice union, List<Map.Entry<HeadId, Slice>> slices, ToDoubleFunction<HeadId> lrScale,
                                       CausalLM model) {
        long[] features = union.indexArray();
        float[] own = new float[features.length];
        double shared = 0;
        for (var e : slices) {
            double scale = lrScale.applyAsDouble(e.getKey());
            shared = Math.max(shared, scale);
            java.util.Set<Long> held = new java.util.HashSet<>();
            for (long f : e.getValue().indexArray()) {
                held.add(f);
            }
            for (int i = 0; i < features.length; i++) {
                if (held.contains(features[i])) {
                    own[i] = (float) Math.max(own[i], scale);
                }
            }
        }
        Tensor scales = dev.scalpel.engine.model.Tensors.floats(own, model.device());
        scales = union.dim() == 0 ? scales.view(features.length, 1) : scales.view(1, features.length);   // [out', 1] or [1, in']
        scales.retainReference();
        return new HeadRates(scales, shared);
    }

    @Override
    public String kind() {
        return kind;
    }

    @Override
    public String describe() {
        String where = heads != null ? "on " + heads + " (" + String.join(",", projections) + ")"
                : "on " + String.join(",", projections) + " (" + adapters.size() + " matrices)";
        return String.format(Locale.ROOT, "%s r=%d α=%s %s, %,d params", kind.equals("lora") ? "LoRA" : "head-LoRA",
                rank, alpha, where, parameterCount());
    }

    @Override
    public List<String> weightNames() {
        return List.copyOf(adapters.keySet());
    }

    @Override
    public Tensor contribution(String weightName, Tensor x, Tensor weight) {
        LoraAdapter a = adapters.get(weightName);
        return a == null ? null : a.contribution(x, weight.size(0), dropout, training);
    }

    @Override
    public Map<String, Tensor> denseDeltas(Map<String, Tensor> weights) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        adapters.forEach((name, a) -> out.put(name, a.denseDelta(shapes.get(name)[0], shapes.get(name)[1])));
        return out;
    }

    /**
     * The adapter as a standard PEFT LoRA adapter: tensors named {@code base_model.model.<module>.lora_A.weight}
     * [r, in] and {@code .lora_B.weight} [out, r], dense (zero outside the chosen heads for head-LoRA), so that
     * W + (α/r)·B·A is this edit's update; {@code <module>} is the base checkpoint's name of the module, which
     * {@code checkpointModuleName} gives for Scalpel's.
     */
    public Map<String, Tensor> peftTensors(java.util.function.UnaryOperator<String> checkpointModuleName) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        adapters.forEach((name, a) -> {
            String module = checkpointModuleName.apply(name.substring(0, name.length() - ".weight".length()));
            out.put("base_model.model." + module + ".lora_A.weight", a.denseA(shapes.get(name)[1]));
            out.put("base_model.model." + module + ".lora_B.weight", a.denseB(shapes.get(name)[0]));
        });
        return out;
    }

    /** Module name (weight name without .weight) → its adapter's rank. */
    public Map<String, Integer> moduleRanks() {
        Map<String, Integer> out = new LinkedHashMap<>();
        adapters.forEach((name, a) -> out.put(name.substring(0, name.length() - ".weight".length()), (int) a.a.size(0)));
        return out;
    }

    public double alpha() {
        return alpha;
    }

    public double dropout() {
        return dropout;
    }

    /** The rows (q/k/v) or columns (o_proj) of {@code weightName} that a head-LoRA adapter covers; null for a whole matrix. */
    public Slice slice(String weightName) {
        LoraAdapter a = adapters.get(weightName);
        if (a == null) {
            throw new IllegalArgumentException(weightName + " has no adapter in this edit");
        }
        return a.slice;
    }

    /** The heads of a head-LoRA, or null for module LoRA. */
    public HeadSet heads() {
        return heads;
    }

    @Override
    public List<Optimizer.Trainable> trainables() {
        List<Optimizer.Trainable> t = new ArrayList<>();
        adapters.forEach((name, a) -> {
            HeadRates r = rates.get(name);
            if (r == null) {
                t.add(new Optimizer.Trainable(name + ".lora_A", a.a, 1.0, false));
                t.add(new Optimizer.Trainable(name + ".lora_B", a.b, 1.0, false));
            } else if (a.slice.dim() == 0) {     // q/k/v rows: B is the heads' own factor
                t.add(new Optimizer.Trainable(name + ".lora_A", a.a, r.shared(), false));
                t.add(new Optimizer.Trainable(name + ".lora_B", a.b, 1.0, false, r.own()));
            } else {                            // o_proj columns: A is
                t.add(new Optimizer.Trainable(name + ".lora_A", a.a, 1.0, false, r.own()));
                t.add(new Optimizer.Trainable(name + ".lora_B", a.b, r.shared(), false));
            }
        });
        return t;
    }

    @Override
    public Edit copy() {
        Map<String, LoraAdapter> copies = new LinkedHashMap<>();
        adapters.forEach((name, a) -> copies.put(name, a.copy()));
        rates.values().forEach(r -> r.own().retainReference());
        return new LoraEdit(kind, heads, projections, layers, rankPattern, rank, alpha, dropout, copies, shapes, rates);
    }

    @Override
    public void setTraining(boolean training) {
        this.training = training;
    }

    @Override
    public Map<String, Object> metadata() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("kind", kind);
        m.put("rank", rank);
        m.put("alpha", alpha);
        m.put("dropout", dropout);
        if (heads != null) {
            m.put("heads", heads.toString());
            m.put("projections", projections);
            if (!rates.isEmpty()) {
                m.put("per_head_lr", true);   // trained with per-head rates; the edit itself is an ordinary head-LoRA
            }
        } else {
            m.put("modules", projections);
            m.put("layers", layers);
            m.put("rank_pattern", rankPattern);
        }
        m.put("target_weights", List.copyOf(adapters.keySet()));
        return m;
    }

    @Override
    public Map<String, Tensor> tensors() {
        Map<String, Tensor> t = new LinkedHashMap<>();
        adapters.forEach((name, a) -> {
            t.put(name + ".lora_A", a.a);
            t.put(name + ".lora_B", a.b);
        });
        return t;
    }

    @Override
    public void close() {
        adapters.values().forEach(LoraAdapter::close);
        rates.values().forEach(r -> r.own().releaseReference());
    }
}
