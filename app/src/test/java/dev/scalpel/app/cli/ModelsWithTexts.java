package dev.scalpel.app.cli;

import dev.scalpel.engine.testing.Fixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** A copy of the llama-gqa fixture with the eval/ and train-sample/ texts (de, en) that demo and decompose read. */
final class ModelsWithTexts {
    private ModelsWithTexts() {}

    static Path llamaGqa(Path model, int repeats) throws IOException {
        Fixtures.copyOf("llama-gqa", model);
        for (String folder : new String[] {"eval", "train-sample"}) {
            Files.createDirectories(model.resolve(folder));
            Files.writeString(model.resolve(folder).resolve("de.txt"), "Der schnelle braune Fuchs springt über den faulen Hund. ".repeat(repeats));
            Files.writeString(model.resolve(folder).resolve("en.txt"), "The quick brown fox jumps over the lazy dog. ".repeat(repeats));
        }
        return model;
    }
}
