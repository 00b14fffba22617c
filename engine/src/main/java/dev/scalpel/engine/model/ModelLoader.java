package dev.scalpel.engine.model;

import java.nio.file.Path;

/** Opens a Hugging Face model folder: config, weights and tokenizer. */
public final class ModelLoader {
    private ModelLoader() {}

    /** Loads the model's weights onto {@code device}, dispatching on the architecture in config.json. */
    public static CausalLM load(Path dir, ComputeDevice device) {
        ModelConfig config = ConfigReader.read(dir);
        MemoryCheck.requireFits(dir, device);
        return config.architecture().family().load(dir, config, device);
    }
}
