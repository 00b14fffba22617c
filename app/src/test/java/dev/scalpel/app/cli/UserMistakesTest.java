package dev.scalpel.app.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.scalpel.engine.testing.Fixtures;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's table of user mistakes (issue 19), each made through the CLI as a user makes it, on a scratch copy of
 * the GQA fixture: every one must exit 1 with one line that says what is wrong — never exit 0, never an internal
 * error, never a second line. The test prints the table it checked (mistake | message) to its output.
 */
class UserMistakesTest {
    @TempDir
    static Path tmp;
    private static Path model;
    private static Path text;

    @BeforeAll
    static void scratch() throws IOException {
        model = Fixtures.copyTree(Fixtures.model("llama-gqa"), tmp.resolve("model"));
        text = tmp.resolve("de.txt");
        Files.writeString(text, "Der schnelle braune Fuchs springt über den faulen Hund. ".repeat(40));
        Files.writeString(tmp.resolve("empty.txt"), "");
        Files.writeString(tmp.resolve("pos.txt"), "Ich bin hier\nDas ist gut\n");
        Files.writeString(tmp.resolve("neg.txt"), "I am here\nThis is good\n");
    }

    /** A head-LoRA spec on de.txt with {@code fields} added (or replacing the defaults). */
    private static String spec(String name, String fields) throws IOException {
        Path file = tmp.resolve(name + ".json");
        Files.writeString(file, "{\"method\": \"head-lora\", \"heads\": \"L0H0\", \"target\": \"de.txt\", \"steps\": 2, \"context\": 16"
                + fields + "}");
        return file.toString();
    }

    private static String[] train(String spec) {
        return new String[] {"train", "--model", model.toString(), "--spec", spec, "--out", tmp.resolve("out-edits.json").toString()};
    }

    /** A copy of the model with {@code file} replaced by {@code bytes}. */
    private static String modelWith(String name, String file, byte[] bytes) throws IOException {
        Path copy = Fixtures.copyTree(model, tmp.resolve(name));
        Files.write(copy.resolve(file), bytes);
        return copy.toString();
    }

    private static String modelWithConfig(String name, String from, String to) throws IOException {
        return modelWith(name, "config.json", Files.readString(model.resolve("config.json")).replace(from, to).getBytes(StandardCharsets.UTF_8));
    }

    private static String file(String name, byte[] bytes) throws IOException {
        Files.write(tmp.resolve(name), bytes);
        return tmp.resolve(name).toString();
    }

    @Test
    void everyMistakeIsRefusedWithOneLine() throws IOException {
        String m = model.toString();
        CliRun good = CliRun.of(train(spec("good", "")));
        assertEquals(0, good.status(), good.err());
        Path edits = tmp.resolve("good-edits.json");
        Files.move(tmp.resolve("out-edits.json"), edits);
        String hash = dev.scalpel.engine.model.ModelHash.of(model);
        CliRun steer = CliRun.of("vectors", "steer", "--model", m, "--layer", "1", "--positive", tmp.resolve("pos.txt").toString(),
                "--negative", tmp.resolve("neg.txt").toString(), "--out", tmp.resolve("v.gguf").toString());
        assertEquals(0, steer.status(), steer.err());
        byte[] truncatedWeights = java.util.Arrays.copyOf(Files.readAllBytes(model.resolve("model.safetensors")), 5000);

        Map<String, String[]> mistakes = new LinkedHashMap<>();
        mistakes.put("learning rate 1e9", train(spec("lr-huge", ", \"lr\": 1e9")));
        mistakes.put("learning rate \"Infinity\"", train(spec("lr-inf", ", \"lr\": \"Infinity\"")));
        mistakes.put("steps 0", train(spec("steps0", ", \"steps\": 0")));
        mistakes.put("batch_size −2", train(spec("batch", ", \"batch_size\": -2")));
        mistakes.put("rank 2.5", train(spec("rank-frac", ", \"rank\": 2.5")));
        mistakes.put("steps \"many\"", train(spec("steps-text", ", \"steps\": \"many\"")));
        mistakes.put("a misspelled field (\"learning_rate\")", train(spec("misspelled", ", \"learning_rate\": 0.01")));
        mistakes.put("heads \"L0H9\" (the model has 4 per layer)", train(spec("head9", ", \"heads\": \"L0H9\"")));
        mistakes.put("general_ratio 1.5", train(spec("ratio", ", \"general\": \"de.txt\", \"general_ratio\": 1.5")));
        mistakes.put("an empty target text", train(spec("empty", ", \"target\": \"empty.txt\"")));
        mistakes.put("a folder as the target text", train(spec("folder", ", \"target\": \".\"")));
        mistakes.put("a target text that does not exist", train(spec("missing", ", \"target\": \"nope.txt\"")));
        mistakes.put("a spec cut off mid-file", train(file("truncated.json", "[1, 2".getBytes(StandardCharsets.UTF_8))));
        mistakes.put("a text file as the per-head-LR map", train(spec("map", ", \"method\": \"head-finetune\", \"heads\": \"all\", "
                + "\"per_head_lr\": {\"map\": \"de.txt\"}")));
        mistakes.put("a model folder that does not exist", new String[] {"info", "--model", tmp.resolve("nowhere").toString()});
        mistakes.put("a truncated model.safetensors", new String[] {"info", "--model", modelWith("m-trunc", "model.safetensors", truncatedWeights)});
        mistakes.put("model_type of an architecture Scalpel lacks (mamba)", new String[] {"info", "--model",
                modelWithConfig("m-arch", "\"model_type\": \"llama\"", "\"model_type\": \"mamba\"")});
        mistakes.put("hidden_size 0", new String[] {"info", "--model", modelWithConfig("m-hidden", "\"hidden_size\": 64", "\"hidden_size\": 0")});
        mistakes.put("a byte error inside tokenizer.json's \"decoder\"", new String[] {"eval", "--model", modelWith("m-tok", "tokenizer.json",
                "{\"model\": {\"type\": \"BPE\", \"vocab\": {}, \"merges\": []}, \"decoder\": {\"type\": \"ByteLevel\", \"x\": tr\u00ffue}}"
                        .getBytes(StandardCharsets.ISO_8859_1)), "--data", "de=" + text});
        mistakes.put("a context beyond the model's 128 positions", new String[] {"eval", "--model", m, "--data", "de=" + text,
                "--context", "4096"});
        mistakes.put("an edits file with an object for \"edits\"", new String[] {"eval", "--model", m, "--data", "de=" + text, "--edits",
                file("edits-object.json", ("{\"format\": \"scalpel-edits/2\", \"base_model_hash\": \"" + hash + "\", \"edits\": {}}")
                        .getBytes(StandardCharsets.UTF_8))});
        mistakes.put("a control vector cut off after its header", new String[] {"generate", "--model", m, "--prompt", "Der", "--steer",
                file("short.gguf", new byte[] {'G', 'G', 'U', 'F', 3, 0, 0, 0})});
        mistakes.put("a steering coefficient of NaN", new String[] {"generate", "--model", m, "--prompt", "Der", "--steer",
                tmp.resolve("v.gguf").toString(), "--steer-coef", "NaN"});
        mistakes.put("a head group with no heads and no shape", new String[] {"heads", "apply", "--model", m, "--group",
                file("group-empty.json", "{\"format\": \"scalpel-head-group/2\", \"name\": \"g\", \"heads\": \"\", \"shape\": {}}"
                        .getBytes(StandardCharsets.UTF_8)), "--no-eval"});
        mistakes.put("an export into the model's own folder", new String[] {"export", "--model", m, "--edits", edits.toString(),
                "--format", "hf", "--out", model.resolve("merged").toString()});
        mistakes.put("a text file opened as a workspace", new String[] {"open", text.toString()});
        mistakes.put("a misspelled option (--dataa)", new String[] {"eval", "--model", m, "--dataa", "de.txt"});

        List<String> wrong = new ArrayList<>();
        StringBuilder table = new StringBuilder("| mistake | what Scalpel says (exit 1) |\n|---|---|\n");
        mistakes.forEach((mistake, args) -> {
            CliRun r = CliRun.of(args);
            String said = r.err().strip().replace(tmp + "/", "");
            if (r.status() != 1 || r.err().strip().lines().count() != 1 || said.contains("internal error")) {
                wrong.add(mistake + " → exit " + r.status() + ": " + r.err());
            }
            table.append("| ").append(mistake).append(" | ").append(said.replace("|", "\\|")).append(" |\n");
        });
        System.out.print(table);
        assertEquals(List.of(), wrong);
    }
}
