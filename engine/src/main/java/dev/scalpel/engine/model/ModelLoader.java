package dev.scalpel.engine.model;

import dev.scalpel.engine.model.arch.gpt2.Gpt2Model;
import dev.scalpel.engine.model.arch.llama.LlamaModel;
import java.nio.file.Path;

/** Opens a Hugging Face model folder: config, weights and tokenizer. */
public final class ModelLoader {
    private ModelLoader() {}

    /** Loads the model's weights onto {@code device}, dispatching on the architecture in config.json. */
    public static CausalLM load(Path dir, ComputeDevice device) {
        ModelConfig config = ConfigReader.read(dir);
        return switch (config.architecture()) {
            case GPT2 -> Gpt2Model.load(dir, config, device);
            case LLAMA, MISTRAL, QWEN2, QWEN3 -> LlamaModel.load(dir, config, device);
        };
    }
}
