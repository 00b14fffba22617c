package dev.scalpel.engine.model;

import com.fasterxml.jackson.databind.JsonNode;
import dev.scalpel.engine.api.ScalpelException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * What Scalpel does with every config.json key that transformers defines for an architecture, so that no key that
 * changes the computation is ignored:
 * <ul>
 *   <li><b>read</b>: it changes the computation and Scalpel implements it (parity fixtures cover it);</li>
 *   <li><b>inert</b>: bookkeeping, generation defaults, training-time dropout or a layout that gives the same numbers
 *       (Scalpel reproduces transformers' eval-mode forward pass, which does not depend on these);</li>
 *   <li><b>refused</b> unless it has its neutral value: Scalpel does not implement what it turns on.</li>
 * </ul>
 * A key transformers does not define is not read by transformers either, so it is ignored here too.
 * {@code ConfigKeysTest} fails when transformers' config classes (captured in fixtures/models/config-keys.json) have a
 * key that is in none of the three sets.
 */
public final class ConfigKeys {
    /** Keys every architecture carries that do not change the eval-mode forward pass. */
    private static final Set<String> INERT = Set.of(
            "_name_or_path", "transformers_version", "dtype", "torch_dtype", "id2label", "label2id", "problem_type",
            "return_dict", "output_attentions", "output_hidden_states", "use_cache", "initializer_range", "pad_token_id",
            "chunk_size_feed_forward",   // chunking the MLP over positions gives the same numbers
            "attention_dropout");        // dropout acts only in training mode; Scalpel trains without it

    /** Keys read by every Llama-family config. */
    private static final Set<String> DECODER_READ = Set.of(
            "model_type", "architectures", "vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads",
            "num_key_value_heads", "head_dim", "intermediate_size", "rms_norm_eps", "rope_parameters", "rope_theta",
            "rope_scaling", "tie_word_embeddings", "hidden_act", "max_position_embeddings", "bos_token_id", "eos_token_id");

    private static final Set<String> QWEN_WINDOW = Set.of("sliding_window", "use_sliding_window", "max_window_layers",
            "layer_types");
    private static final Set<String> GATED_DELTANET = Set.of("attention_bias", "layer_types", "partial_rotary_factor",
            "linear_num_key_heads", "linear_num_value_heads", "linear_key_head_dim", "linear_value_head_dim",
            "linear_conv_kernel_dim");
    private static final Set<String> GEMMA = Set.of("attention_bias", "attn_logit_softcapping", "final_logit_softcapping",
            "hidden_activation", "layer_types", "query_pre_attn_scalar", "sliding_window");

    /** Keys refused unless neutral, each with the test for its neutral value and what it would turn on. */
    private static final Map<String, Refusal> REFUSED = Map.of(
            "is_encoder_decoder", new Refusal(ConfigKeys::falseOrNull, "an encoder-decoder model"),
            "add_cross_attention", new Refusal(ConfigKeys::falseOrNull, "cross-attention layers"),
            "use_bidirectional_attention", new Refusal(ConfigKeys::falseOrNull, "bidirectional (non-causal) attention"),
            "quantization_config", new Refusal(JsonNode::isNull, "quantized weights (load the unquantized checkpoint)"),
            "pruned_heads", new Refusal(n -> n.isNull() || n.isEmpty(), "pruned attention heads"));

    private ConfigKeys() {}

    private record Refusal(Predicate<JsonNode> neutral, String what) {}

    /** The keys of {@code arch}'s config that Scalpel reads and implements. */
    public static Set<String> read(Architecture arch) {
        Set<String> keys = new HashSet<>(arch == Architecture.GPT2 ? Set.of() : DECODER_READ);
        keys.addAll(switch (arch) {
            case LLAMA -> Set.of("attention_bias", "mlp_bias");
            case MISTRAL -> Set.of("sliding_window");
            case QWEN2 -> QWEN_WINDOW;
            case QWEN3 -> union(QWEN_WINDOW, Set.of("attention_bias"));
            case QWEN3_MOE -> Set.of("attention_bias", "sliding_window", "use_sliding_window", "decoder_sparse_step",
                    "mlp_only_layers", "moe_intermediate_size", "norm_topk_prob", "num_experts_per_tok", "num_local_experts",
                    "num_experts");
            case QWEN3_5_TEXT -> GATED_DELTANET;
            case QWEN3_NEXT -> union(GATED_DELTANET, Set.of("decoder_sparse_step", "mlp_only_layers", "moe_intermediate_size",
                    "norm_topk_prob", "num_experts_per_tok", "num_experts", "shared_expert_intermediate_size"));
            case OLMO2 -> Set.of("attention_bias");
            case GEMMA2 -> GEMMA;
            case GEMMA3_TEXT -> union(GEMMA, Set.of("_sliding_window_pattern", "sliding_window_pattern", "rope_local_base_freq"));
            case PHI3 -> Set.of("sliding_window", "partial_rotary_factor");
            case GPT2 -> Set.of("model_type", "architectures", "vocab_size", "n_embd", "n_layer", "n_head", "n_inner",
                    "n_positions", "hidden_size", "num_hidden_layers", "num_attention_heads", "max_position_embeddings",
                    "layer_norm_epsilon", "activation_function", "scale_attn_weights",
                    "scale_attn_by_inverse_layer_idx", "tie_word_embeddings", "bos_token_id", "eos_token_id");
        });
        return keys;
    }

    /** The keys of {@code arch}'s config that do not change the eval-mode forward pass. */
    public static Set<String> inert(Architecture arch) {
        return union(INERT, switch (arch) {
            // pretraining_tp > 1 made transformers 4 split each matmul into slices: the same numbers, slower
            case LLAMA -> Set.of("pretraining_tp");
            // the router's auxiliary load-balancing loss exists only in training with output_router_logits
            case QWEN3_MOE, QWEN3_NEXT -> Set.of("output_router_logits", "router_aux_loss_coef");
            // dropout; original_max_position_embeddings only matters to longrope scaling, which is refused
            case PHI3 -> Set.of("embd_pdrop", "resid_pdrop", "original_max_position_embeddings");
            // dropout; the sequence-classification head; attention upcast to fp32 (Scalpel computes in fp32)
            case GPT2 -> Set.of("attn_pdrop", "embd_pdrop", "resid_pdrop", "n_ctx", "reorder_and_upcast_attn",
                    "summary_activation", "summary_first_dropout", "summary_proj_to_labels", "summary_type", "summary_use_proj");
            default -> Set.of();
        });
    }

    /** Keys refused unless they have their neutral value. */
    public static Set<String> refused() {
        return REFUSED.keySet();
    }

    /** Refuses {@code root} when it turns on something Scalpel does not implement. */
    public static void refuseUnsupported(Architecture arch, JsonNode root, Path file) {
        REFUSED.forEach((key, refusal) -> {
            JsonNode value = root.get(key);
            if (value != null && !refusal.neutral().test(value)) {
                throw new ScalpelException(file + " sets " + key + " = " + value + ": " + refusal.what() + ", which Scalpel's "
                        + arch.modelType() + " does not implement; its numbers would differ from transformers', so the "
                        + "model is refused.");
            }
        });
    }

    private static boolean falseOrNull(JsonNode n) {
        return n.isNull() || n.isBoolean() && !n.booleanValue();
    }

    private static Set<String> union(Set<String> a, Set<String> b) {
        Set<String> all = new HashSet<>(a);
        all.addAll(b);
        return Set.copyOf(all);
    }
}
