package dev.scalpel.engine.model;

import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Collectors;

/** The model families the engine runs, keyed by the Hugging Face {@code model_type}. */
public enum Architecture {
    LLAMA("llama", "LlamaForCausalLM"),
    MISTRAL("mistral", "MistralForCausalLM"),
    QWEN2("qwen2", "Qwen2ForCausalLM"),
    QWEN3("qwen3", "Qwen3ForCausalLM"),
    QWEN3_MOE("qwen3_moe", "Qwen3MoeForCausalLM"),
    QWEN3_5_TEXT("qwen3_5_text", "Qwen3_5ForCausalLM"),
    QWEN3_NEXT("qwen3_next", "Qwen3NextForCausalLM"),
    OLMO2("olmo2", "Olmo2ForCausalLM"),
    GEMMA2("gemma2", "Gemma2ForCausalLM"),
    GEMMA3_TEXT("gemma3_text", "Gemma3ForCausalLM"),
    PHI3("phi3", "Phi3ForCausalLM"),
    GPT2("gpt2", "GPT2LMHeadModel");

    private final String modelType;
    private final String hfClass;

    Architecture(String modelType, String hfClass) {
        this.modelType = modelType;
        this.hfClass = hfClass;
    }

    /** What the engine knows about this family: config, loading, head weights, checkpoint layout. */
    public ArchitectureFamily family() {
        return switch (this) {
            case LLAMA, MISTRAL, QWEN2, QWEN3, QWEN3_MOE, QWEN3_5_TEXT, QWEN3_NEXT, OLMO2, GEMMA2, GEMMA3_TEXT, PHI3 ->
                    dev.scalpel.engine.model.arch.llama.LlamaFamily.INSTANCE;
            case GPT2 -> dev.scalpel.engine.model.arch.gpt2.Gpt2Family.INSTANCE;
        };
    }

    /** Qwen3.5 and Qwen3-Next: Gated DeltaNet (linear-attention) layers between output-gated full-attention layers. */
    public boolean isGatedDeltaNetHybrid() {
        return this == QWEN3_5_TEXT || this == QWEN3_NEXT;
    }

    /** The {@code model_type} value in config.json. */
    public String modelType() {
        return modelType;
    }

    /** The transformers class that defines the reference semantics. */
    public String hfClass() {
        return hfClass;
    }

    /** Finds the architecture by {@code model_type}, or, in a config without one, by the {@code architectures} class names. */
    public static Optional<Architecture> find(String modelType, Iterable<String> architectures) {
        if (modelType != null) {   // transformers picks the config class by model_type; the model class only without it
            for (Architecture a : values()) {
                if (a.modelType.equals(modelType.toLowerCase(Locale.ROOT))) {
                    return Optional.of(a);
                }
            }
            return Optional.empty();
        }
        for (String cls : architectures) {
            for (Architecture a : values()) {
                if (a.hfClass.equals(cls)) {
                    return Optional.of(a);
                }
            }
        }
        return Optional.empty();
    }

    /** "llama, mistral, qwen2, qwen3, gpt2" for error messages. */
    public static String supportedList() {
        return Arrays.stream(values()).map(Architecture::modelType).collect(Collectors.joining(", "));
    }
}
