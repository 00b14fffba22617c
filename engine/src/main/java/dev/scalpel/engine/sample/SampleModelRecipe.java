package dev.scalpel.engine.sample;

import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.api.TrainingProgress;
import dev.scalpel.engine.model.CausalLM;
import dev.scalpel.engine.model.ComputeDevice;
import dev.scalpel.engine.model.ConfigReader;
import dev.scalpel.engine.model.ModelConfig;
import dev.scalpel.engine.model.ModelLoader;
import dev.scalpel.engine.model.RandomLlamaCheckpoint;
import dev.scalpel.engine.model.TextTokenizer;
import dev.scalpel.engine.files.Output;
import dev.scalpel.engine.files.OutputGuard;
import dev.scalpel.engine.files.OutputKind;
import dev.scalpel.engine.tokenize.BpeTrainer;
import dev.scalpel.engine.train.AdamW;
import dev.scalpel.engine.train.Apollo;
import dev.scalpel.engine.train.Pretrainer;
import dev.scalpel.engine.train.TokenCorpus;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * How the bundled sample model is made, end to end and rerunnable: a byte-level BPE tokenizer learned on the
 * corpora, a small Llama initialised at random, pre-training on an equal mix of the five corpora, then the eval and
 * train-sample texts copied beside the model. A second run in the same folder resumes where the first stopped.
 */
public final class SampleModelRecipe {
    /** The languages/domains, in the order they appear everywhere (mix, eval, card). */
    public static final List<String> SOURCES = List.of("en", "de", "fr", "es", "code");
    /** Size of the model: 6 layers × 8 heads, d 256, SwiGLU 768, vocab 8192, context 256, tied embeddings. */
    public static final RandomLlamaCheckpoint ARCHITECTURE = new RandomLlamaCheckpoint(6, 256, 8, 8, 768, 8192, 256, true);
    static final int EVAL_BYTES = 64 * 1024;
    static final int TRAIN_SAMPLE_BYTES = 128 * 1024;

    /**
     * @param corpora   folder with {@code <source>/train.txt} and {@code valid.txt} for every source
     * @param budget    wall-time budget for pre-training (the schedule is fitted to it), or null to use {@code tokens}
     * @param tokens    token budget when {@code budget} is null
     * @param mix       source → share of the training rows (they need not sum to 1; 0 leaves a source out), or null
     *                  for an equal mix; e.g. an English-majority model for the language-removal study
     * @param apollo    null to pre-train with AdamW; else APOLLO (or APOLLO-Mini) with these settings on the attention
     *                  and MLP matrices, as {@link Pretrainer.Options#apollo()} describes
     */
    public record Options(Path corpora, Duration budget, long tokens, long seed, int batchSize, double lr, Map<String, Double> mix,
                          Apollo.Options apollo) {
        public Options {
            if (mix != null) {
                for (var e : mix.entrySet()) {
                    if (!SOURCES.contains(e.getKey())) {
                        throw new ScalpelException("--mix names '" + e.getKey() + "'; the sources are " + SOURCES + ".");
                    }
                    if (!(e.getValue() >= 0) || Double.isInfinite(e.getValue())) {
                        throw new ScalpelException("--mix gives " + e.getKey() + " the share " + e.getValue() + "; use a number ≥ 0.");
                    }
                }
                if (mix.values().stream().mapToDouble(Double::doubleValue).sum() <= 0) {
                    throw new ScalpelException("--mix gives every source a share of 0; give at least one a positive share.");
                }
                mix = Map.copyOf(mix);
            }
        }

        public static Options defaults(Path corpora, Duration budget) {
            return new Options(corpora, budget, 4_000_000, 1234, 8, 2e-3, null, null);
        }

        /** The share of each source's rows, summing to 1, in {@link #SOURCES} order. */
        public Map<String, Double> shares() {
            Map<String, Double> out = new LinkedHashMap<>();
            double total = mix == null ? SOURCES.size() : mix.values().stream().mapToDouble(Double::doubleValue).sum();
            for (String s : SOURCES) {
                out.put(s, (mix == null ? 1.0 : mix.getOrDefault(s, 0.0)) / total);
            }
            return out;
        }
    }

    private SampleModelRecipe() {}

    /** Builds (or resumes building) the sample model in {@code out}. */
    public static Pretrainer.Summary build(Path out, Options options, Consumer<String> log,
                                          Consumer<TrainingProgress> progress, BooleanSupplier stop) throws IOException {
        for (String s : SOURCES) {
            for (String split : List.of("train.txt", "valid.txt")) {
                if (!Files.isRegularFile(options.corpora().resolve(s).resolve(split))) {
                    throw new ScalpelException("Corpus file " + options.corpora().resolve(s).resolve(split)
                            + " is missing; pass --corpora with the folder that holds en/de/fr/es/code.");
                }
            }
        }
        Output folder = OutputGuard.folder(OutputKind.SAMPLE_MODEL, out, List.of());
        boolean resuming = Files.isRegularFile(out.resolve("training").resolve("trainer_state.json"));
        if (!resuming) {
            log.accept("Training the byte-level BPE tokenizer (vocab " + ARCHITECTURE.vocab() + ") on the five corpora ...");
            List<Path> trainFiles = SOURCES.stream().map(s -> options.corpora().resolve(s).resolve("train.txt")).toList();
            var result = BpeTrainer.trainToFile(trainFiles, folder, out.resolve("tokenizer.json"),
                    BpeTrainer.Options.defaults(ARCHITECTURE.vocab()), BpeTrainer.Progress.NONE);
            log.accept("  " + result.vocabulary().size() + " tokens in " + (result.countTime().plus(result.mergeTime()).toMillis()) + " ms");
            ARCHITECTURE.write(folder, options.seed());
            writeGenerationConfig(folder, out);
        }
        copyTexts(options.corpora(), folder, out);
        ModelConfig config = ConfigReader.read(out);
        Map<String, int[]> tokens = new LinkedHashMap<>();
        Map<String, Double> mix = new LinkedHashMap<>();
        try (TextTokenizer tokenizer = TextTokenizer.load(out, config)) {
            for (String s : SOURCES) {
                long[] ids = tokenizer.encode(Files.readString(options.corpora().resolve(s).resolve("train.txt")));
                int[] asInts = new int[ids.length];
                for (int i = 0; i < ids.length; i++) {
                    asInts[i] = (int) ids[i];
                }
                tokens.put(s, asInts);
                mix.put(s, options.shares().get(s));
                log.accept("  " + s + ": " + ids.length + " training tokens");
            }
        }
        TokenCorpus corpus = new TokenCorpus(tokens, mix, config.bosTokenId());
        var trainOptions = new Pretrainer.Options(ARCHITECTURE.maxPositions(), options.batchSize(), options.tokens(),
                options.budget(), AdamW.Options.defaults(options.lr()), options.apollo(), 100, 0.1, 1.0, options.seed(), 100);
        try (CausalLM model = ModelLoader.load(out, ComputeDevice.CPU)) {
            log.accept((resuming ? "Resuming" : "Starting") + " pre-training: " + model.weights().parameterCount()
                    + " parameters, batch " + options.batchSize() + " × " + ARCHITECTURE.maxPositions() + " tokens, mix "
                    + options.shares() + ", optimizer " + trainOptions.optimizerDescription());
            return new Pretrainer(model, corpus, trainOptions, folder).run(progress, stop);
        }
    }

    /** Refreshes the bundled texts, measures the model in {@code out} and writes its MODEL_CARD.md (atomically). */
    public static void writeCard(Path out, Options options, Consumer<String> log) throws IOException {
        Pretrainer.TrainerState state = Pretrainer.readState(out);
        if (state == null) {
            throw new ScalpelException("No training state in " + out + "; build the model first (scalpel build-sample --out " + out + ").");
        }
        Output folder = OutputGuard.folder(OutputKind.SAMPLE_MODEL, out, List.of());
        copyTexts(options.corpora(), folder, out);
        log.accept("Measuring the model for its card ...");
        var measurements = SampleModelCard.measure(out, options.corpora(), log);
        byte[] md = ModelCardMarkdown.render(out.toAbsolutePath().normalize().getFileName().toString(), measurements, state, options).getBytes(StandardCharsets.UTF_8);
        folder.writeBytes(out.resolve("MODEL_CARD.md"), md);
        log.accept("Wrote " + out.resolve("MODEL_CARD.md"));
    }

    private static void writeGenerationConfig(Output folder, Path out) {
        String json = """
                {
                  "bos_token_id": 0,
                  "eos_token_id": 1,
                  "pad_token_id": 2,
                  "do_sample": false,
                  "max_new_tokens": 64
                }
                """;
        folder.writeBytes(out.resolve("generation_config.json"), json.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Copies the first whole lines (≈64 KB) of each valid.txt to eval/, ≈128 KB of each train.txt to train-sample/,
     * and the corpora's provenance and license notes to DATA.md.
     */
    static void copyTexts(Path corpora, Output folder, Path out) throws IOException {
        byte[] provenance = ("# Data of the sample model\n\nThe texts in `eval/` and `train-sample/` are prefixes of the "
                + "corpora described below (copied from `shared/corpora/README.md`); their licenses apply.\n\n"
                + Files.readString(corpora.resolve("README.md"))).getBytes(StandardCharsets.UTF_8);
        folder.writeBytes(out.resolve("DATA.md"), provenance);
        for (String s : SOURCES) {
            writePrefix(corpora.resolve(s).resolve("valid.txt"), folder, out.resolve("eval").resolve(s + ".txt"), EVAL_BYTES);
            writePrefix(corpora.resolve(s).resolve("train.txt"), folder, out.resolve("train-sample").resolve(s + ".txt"), TRAIN_SAMPLE_BYTES);
        }
    }

    private static void writePrefix(Path from, Output folder, Path to, int maxBytes) throws IOException {
        List<String> kept = new ArrayList<>();
        int bytes = 0;
        for (String line : Files.readAllLines(from, StandardCharsets.UTF_8)) {
            int size = line.getBytes(StandardCharsets.UTF_8).length + 1;
            if (bytes + size > maxBytes) {
                break;
            }
            kept.add(line);
            bytes += size;
        }
        byte[] content = (String.join("\n", kept) + "\n").getBytes(StandardCharsets.UTF_8);
        folder.writeBytes(to, content);
    }
}
