package dev.scalpel.engine.model;

import java.nio.file.Path;

/** A model folder opened for use: the weights on a device and the tokenizer. */
public record LoadedModel(Path dir, CausalLM model, TextTokenizer tokenizer) implements AutoCloseable {

    public static LoadedModel open(Path dir, ComputeDevice device) {
        CausalLM model = ModelLoader.load(dir, device);
        try {
            return new LoadedModel(dir, model, TextTokenizer.load(dir, model.config()));
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
    }

    public ModelConfig config() {
        return model.config();
    }

    @Override
    public void close() {
        tokenizer.close();
        model.close();
    }
}
