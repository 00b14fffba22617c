package dev.scalpel.engine.model.arch.gpt2;

import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.model.CausalLM;
import dev.scalpel.engine.model.CausalSelfAttention;
import dev.scalpel.engine.model.ComputeDevice;
import dev.scalpel.engine.model.ForwardContext;
import dev.scalpel.engine.model.HookPoints;
import dev.scalpel.engine.model.Hooks;
import dev.scalpel.engine.model.LinearOverlay;
import dev.scalpel.engine.model.ModelConfig;
import dev.scalpel.engine.model.WeightReader;
import dev.scalpel.engine.model.Weights;
import java.nio.file.Path;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

/**
 * GPT-2 with Hugging Face semantics: learned positions, pre-LayerNorm blocks, fused qkv projection stored as Conv1D
 * ([in, out]), gelu_new (tanh) MLP, unembedding tied to the token embedding.
 */
public final class Gpt2Model implements CausalLM {
    /** HF's key prefix of GPT-2 weights; the store always uses it. */
    public static final String ROOT = "transformer.";
    private static final String LM_HEAD = "lm_head.weight";

    private final ModelConfig config;
    private final ComputeDevice device;
    private final Weights weights;
    private final Tensor wte;          // [V, d]
    private final Tensor wpe;          // [P, d]
    private final Gpt2Layer[] layers;
    private final Tensor lnFWeight;    // [d]
    private final Tensor lnFBias;      // [d]
    private final Tensor unembed;      // [V, d]: wte when tied (GPT-2's default), else lm_head.weight
    private final String unembedName;
    private final HookPoints.Layer[] hookNames;
    private final Gpt2Layer.Names[] weightNames;

    private Gpt2Model(ModelConfig config, ComputeDevice device, Weights weights, Tensor wte, Tensor wpe,
                      Gpt2Layer[] layers, Tensor lnFWeight, Tensor lnFBias, Tensor lmHead) {
        this.config = config;
        this.device = device;
        this.weights = weights;
        this.wte = wte;
        this.wpe = wpe;
        this.layers = layers;
        this.lnFWeight = lnFWeight;
        this.lnFBias = lnFBias;
        this.unembed = lmHead != null ? lmHead : wte;
        this.unembedName = lmHead != null ? LM_HEAD : ROOT + "wte.weight";
        this.hookNames = new HookPoints.Layer[layers.length];
        this.weightNames = new Gpt2Layer.Names[layers.length];
        for (int l = 0; l < layers.length; l++) {
            hookNames[l] = HookPoints.Layer.of(l);
            weightNames[l] = Gpt2Layer.Names.of(ROOT, l);
        }
    }

    /**
     * Loads {@code dir}; keys may carry HF's {@code transformer.} prefix or not (the original OpenAI export). Either way
     * the weights are stored under HF's prefixed names, so head operations, edits and exports see one naming.
     */
    public static Gpt2Model load(Path dir, ModelConfig config, ComputeDevice device) {
        Weights weights = new Weights();
        try (WeightReader r = new WeightReader(dir, device, weights)) {
            String root = r.has(ROOT + "wte.weight") ? ROOT : "";
            r.storingAs(name -> name.startsWith(ROOT) || name.equals(LM_HEAD) ? name : ROOT + name);
            long d = config.hiddenSize(), inner = config.intermediateSize();
            Tensor wte = r.read(root + "wte.weight", config.vocabSize(), d);
            Tensor wpe = r.read(root + "wpe.weight", config.maxPositions(), d);
            Gpt2Layer[] layers = new Gpt2Layer[config.numLayers()];
            for (int l = 0; l < layers.length; l++) {
                String p = root + "h." + l + ".";              // as the checkpoint names them
                String stored = ROOT + "h." + l + ".";         // as the store names them
                Tensor qkv = transposed(weights, stored + "attn.c_attn.weight", r.read(p + "attn.c_attn.weight", d, 3 * d)); // [3d, d]
                Tensor qkvBias = r.read(p + "attn.c_attn.bias", 3 * d);                                                // [3d]
                layers[l] = new Gpt2Layer(
                        r.read(p + "ln_1.weight", d), r.read(p + "ln_1.bias", d),
                        qkv, qkvBias,
                        transposed(weights, stored + "attn.c_proj.weight", r.read(p + "attn.c_proj.weight", d, d)),
                        r.read(p + "attn.c_proj.bias", d),
                        r.read(p + "ln_2.weight", d), r.read(p + "ln_2.bias", d),
                        transposed(weights, stored + "mlp.c_fc.weight", r.read(p + "mlp.c_fc.weight", d, inner)),
                        r.read(p + "mlp.c_fc.bias", inner),
                        transposed(weights, stored + "mlp.c_proj.weight", r.read(p + "mlp.c_proj.weight", inner, d)),
                        r.read(p + "mlp.c_proj.bias", d));
            }
            Tensor lnF = r.read(root + "ln_f.weight", d);
            Tensor lnFBias = r.read(root + "ln_f.bias", d);
            // GPT2LMHeadModel keeps lm_head.weight at the top level; a tied checkpoint may still carry a copy of wte there
            Tensor lmHead = config.tieWordEmbeddings() ? null : r.read(LM_HEAD, config.vocabSize(), d);
            // Hub GPT-2 checkpoints carry the causal-mask buffers attn.bias / attn.masked_bias: not weights.
            r.requireEveryTensorRead(n -> n.endsWith(".attn.bias") || n.endsWith(".attn.masked_bias")
                    || config.tieWordEmbeddings() && n.equals(LM_HEAD));
            return new Gpt2Model(config, device, weights, wte, wpe, layers, lnF, lnFBias, lmHead);
        } catch (RuntimeException e) {
            weights.close();
            throw e;
        }
    }

    /**
     * Replaces a Conv1D weight [in, out] in the store by its contiguous transpose [out, in]. The store keeps the HF
     * name; exporters transpose back.
     */
    private static Tensor transposed(Weights weights, String name, Tensor conv1d) {
        return weights.put(name, conv1d.t().contiguous());
    }

    @Override
    public Tensor forward(Tensor inputIds, ForwardContext ctx) {
        Hooks hooks = ctx.hooks();
        long s = inputIds.size(1), start = ctx.startPosition();
        if (start + s > config.maxPositions()) {
            throw new ScalpelException("GPT-2 has " + config.maxPositions() + " learned positions but this input reaches position "
                    + (start + s) + "; use a shorter text or context (--context / --max-new-tokens).");
        }
        LinearOverlay ov = ctx.overlay();
        Tensor tok = hooks.run(HookPoints.EMBED, torch.embedding(ov.parameter(ROOT + "wte.weight", wte), inputIds)); // [B, S, d]
        Tensor pos = hooks.run(HookPoints.POS_EMBED,
                ov.parameter(ROOT + "wpe.weight", wpe).narrow(0, start, s).unsqueeze(0));                        // [1, S, d]
        return forwardFromLayer(0, tok.add(pos), ctx);
    }

    @Override
    public Tensor forwardFromLayer(int first, Tensor residual, ForwardContext ctx) {
        Hooks hooks = ctx.hooks();
        LinearOverlay ov = ctx.overlay();
        long b = residual.size(0), s = residual.size(1);
        int h = config.numHeads(), hd = config.headDim();
        long d = config.hiddenSize();

        Tensor x = residual;                                                                        // [B, S, d]
        for (int l = first; l < layers.length; l++) {
            Gpt2Layer w = layers[l];
            Gpt2Layer.Names n = weightNames[l];
            HookPoints.Layer names = hookNames[l];
            x = hooks.run(names.residPre(), x);

            Tensor a = layerNorm(x, n.ln1(), w.ln1Weight(), w.ln1Bias(), ov);                      // [B, S, d]
            Tensor qkv = ov.linear(n.qkv(), a, w.qkv(), w.qkvBias());                               // [B, S, 3d]
            Tensor q = qkv.narrow(2, 0, d).reshape(b, s, h, hd);                                     // [B, S, H, D]
            Tensor k = qkv.narrow(2, d, d).reshape(b, s, h, hd);                                     // [B, S, H, D]
            Tensor v = qkv.narrow(2, 2 * d, d).reshape(b, s, h, hd);                                 // [B, S, H, D]
            Tensor z = CausalSelfAttention.attend(l, q, k, v, null, config, ctx, names);                  // [B, S, H, D]
            Tensor attnOut = hooks.run(names.attnOut(), ov.linear(n.o(), z.reshape(b, s, d), w.o(), w.oBias())); // [B, S, d]
            x = hooks.run(names.residMid(), x.add(attnOut));

            Tensor m = layerNorm(x, n.ln2(), w.ln2Weight(), w.ln2Bias(), ov);                      // [B, S, d]
            Tensor act = torch.gelu(ov.linear(n.fc(), m, w.fc(), w.fcBias()), "tanh");                        // [B, S, I]
            Tensor mlpOut = hooks.run(names.mlpOut(), ov.linear(n.proj(), act, w.proj(), w.projBias()));        // [B, S, d]
            x = hooks.run(names.residPost(), x.add(mlpOut));
        }
        if (ctx.cache() != null) {
            ctx.cache().advance((int) s);
        }
        if (ctx.lastPositionOnly()) {
            x = x.narrow(1, s - 1, 1);                                                              // [B, 1, d]
        }
        Tensor normed = hooks.run(HookPoints.FINAL_NORMALIZED, layerNorm(x, ROOT + "ln_f", lnFWeight, lnFBias, ov));
        return torch.linear(normed, ov.parameter(unembedName, unembed));                            // [B, S, V]
    }

    /** HF stores GPT-2's linear layers as Conv1D, [in, out]: transpose those back. */
    @Override
    public Tensor toHfLayout(String name, Tensor inMemoryLayout) {
        return isConv1d(name) ? inMemoryLayout.t() : inMemoryLayout;
    }

    private static boolean isConv1d(String name) {
        return name.endsWith(".weight") && (name.contains(".attn.c_") || name.contains(".mlp.c_"));
    }

    /** LayerNorm {@code module} (its weight and bias as the overlay reads them). */
    private Tensor layerNorm(Tensor x, String module, Tensor weight, Tensor bias, LinearOverlay ov) {
        return torch.layer_norm(x, new long[] {config.hiddenSize()}, new TensorOptional(ov.parameter(module + ".weight", weight)),
                new TensorOptional(ov.parameter(module + ".bias", bias)), config.normEps(), false);
    }

    @Override
    public ModelConfig config() {
        return config;
    }

    @Override
    public ComputeDevice device() {
        return device;
    }

    @Override
    public Weights weights() {
        return weights;
    }

    @Override
    public void close() {
        weights.close();
    }
}
