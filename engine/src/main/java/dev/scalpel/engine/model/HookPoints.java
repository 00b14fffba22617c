package dev.scalpel.engine.model;

/**
 * Hook point names, as TransformerLens names them, so users find the activations they already know.
 * Shapes: B = batch, S = new positions, T = all key positions (cache included), H = query heads, D = head_dim,
 * d = hidden size.
 */
public final class HookPoints {
    /** Token embeddings, [B, S, d]. */
    public static final String EMBED = "hook_embed";
    /** Learned position embeddings (GPT-2), [B, S, d]. */
    public static final String POS_EMBED = "hook_pos_embed";
    /** The final norm's output, [B, S, d], just before the unembedding. */
    public static final String FINAL_NORMALIZED = "ln_final.hook_normalized";

    private HookPoints() {}

    /** Residual stream entering block l, [B, S, d]. */
    public static String residPre(int l) {
        return "blocks." + l + ".hook_resid_pre";
    }

    /** Queries after the projection (bias, q norm), before RoPE, [B, S, H, D]. */
    public static String q(int l) {
        return "blocks." + l + ".attn.hook_q";
    }

    /** Keys of the new positions before RoPE, [B, S, H_kv, D]. */
    public static String k(int l) {
        return "blocks." + l + ".attn.hook_k";
    }

    /** Queries after RoPE, [B, S, H, D] (rotary models only). */
    public static String rotQ(int l) {
        return "blocks." + l + ".attn.hook_rot_q";
    }

    /** Keys of the new positions after RoPE, [B, S, H_kv, D] (rotary models only). */
    public static String rotK(int l) {
        return "blocks." + l + ".attn.hook_rot_k";
    }

    /** Values of the new positions, [B, S, H_kv, D]. */
    public static String v(int l) {
        return "blocks." + l + ".attn.hook_v";
    }

    /** Attention probabilities, [B, H, S, T]; registering it switches the layer to explicit (non-fused) attention. */
    public static String pattern(int l) {
        return "blocks." + l + ".attn.hook_pattern";
    }

    /** Per-head attention output before the head gates and o_proj, [B, S, H, D]. */
    public static String z(int l) {
        return "blocks." + l + ".attn.hook_z";
    }

    /** Attention block output after o_proj, [B, S, d]. */
    public static String attnOut(int l) {
        return "blocks." + l + ".hook_attn_out";
    }

    /** Residual stream between attention and MLP, [B, S, d]. */
    public static String residMid(int l) {
        return "blocks." + l + ".hook_resid_mid";
    }

    /** MLP block output, [B, S, d]. */
    public static String mlpOut(int l) {
        return "blocks." + l + ".hook_mlp_out";
    }

    /** Residual stream leaving block l, [B, S, d]. */
    public static String residPost(int l) {
        return "blocks." + l + ".hook_resid_post";
    }

    /** The names of one layer, built once per model so the forward pass does not concatenate strings. */
    public record Layer(String residPre, String q, String k, String rotQ, String rotK, String v, String pattern, String z,
                        String attnOut, String residMid, String mlpOut, String residPost) {
        public static Layer of(int l) {
            return new Layer(HookPoints.residPre(l), HookPoints.q(l), HookPoints.k(l), HookPoints.rotQ(l), HookPoints.rotK(l),
                    HookPoints.v(l), HookPoints.pattern(l),
                    HookPoints.z(l), HookPoints.attnOut(l), HookPoints.residMid(l), HookPoints.mlpOut(l), HookPoints.residPost(l));
        }
    }
}
