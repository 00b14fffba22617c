package dev.scalpel.engine.tokenize;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The text corpora in {@code shared/corpora/<lang>/{train,valid}.txt}, found by walking up from the working
 * folder (Surefire runs in {@code engine/}, the repository sits beside {@code shared/}), and one small
 * tokenizer trained on them, shared by the test classes of this package.
 */
final class TestCorpora {

    static final List<String> LANGS = List.of("en", "de", "fr", "es", "code");
    /** Vocabulary of the shared test tokenizer. */
    static final int VOCAB = 2048;
    /** Byte cap per train file for the shared test tokenizer: 5 × 48 KiB ≈ 240 KB of training text. */
    static final long CAP = 48 * 1024;

    private static BpeTrainer.Result sample;
    private static Path sampleJson;

    private TestCorpora() {
    }

    /** The corpora folder; skips the calling test (assumption) where no {@code shared/corpora} is found. */
    static Path dir() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            Path candidate = p.resolve("shared").resolve("corpora");
            if (Files.isDirectory(candidate.resolve("en"))) {
                return candidate;
            }
        }
        Assumptions.abort("no shared/corpora above " + Path.of("").toAbsolutePath() + "; corpus tests skipped");
        throw new AssertionError("unreachable");
    }

    static Path train(String lang) {
        return dir().resolve(lang).resolve("train.txt");
    }

    static Path valid(String lang) {
        return dir().resolve(lang).resolve("valid.txt");
    }

    static List<Path> trainFiles() {
        List<Path> out = new ArrayList<>();
        for (String l : LANGS) {
            out.add(train(l));
        }
        return out;
    }

    /** {@code count} non-empty lines spread evenly over the file, each cut to at most 600 chars. */
    static List<String> sampleLines(Path file, int count) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        lines.removeIf(String::isEmpty);
        List<String> out = new ArrayList<>();
        for (int i = 0; i < count && !lines.isEmpty(); i++) {
            String s = lines.get((int) ((long) i * lines.size() / count));
            out.add(s.length() > 600 ? s.substring(0, s.offsetByCodePoints(0, 600)) : s);
        }
        return out;
    }

    /** A multi-line chunk of about {@code chars} chars from the middle of the file, cut at line ends. */
    static String chunk(Path file, int chars) {
        try {
            String all = Files.readString(file, StandardCharsets.UTF_8);
            int start = all.indexOf('\n', all.length() / 2) + 1;
            int end = all.lastIndexOf('\n', Math.min(all.length() - 1, start + chars));
            return all.substring(start, Math.max(start, end + 1));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The shared test tokenizer: {@value #VOCAB} tokens trained on ≤ 48 KiB of each train file. */
    static synchronized BpeTrainer.Result sample() {
        if (sample == null) {
            BpeTrainer.Options o = new BpeTrainer.Options(VOCAB, 2, CAP, BpeTrainer.DEFAULT_SPECIAL_TOKENS);
            try {
                sample = BpeTrainer.train(trainFiles(), o, BpeTrainer.Progress.NONE);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return sample;
    }

    /** The shared test tokenizer written as tokenizer.json in a temp folder. */
    static synchronized Path sampleJson() {
        if (sampleJson == null) {
            try {
                Path dir = Files.createTempDirectory("scalpel-bpe-test");
                dir.toFile().deleteOnExit();
                Path json = dir.resolve("tokenizer.json");
                Files.write(json, TokenizerJsonWriter.toBytes(sample().vocabulary()));
                json.toFile().deleteOnExit();
                sampleJson = json;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return sampleJson;
    }

    /** DJL's HF tokenizer on a tokenizer.json, without DJL's default truncation to 512 tokens. */
    static HuggingFaceTokenizer djl(Path tokenizerJson) throws IOException {
        return HuggingFaceTokenizer.newInstance(tokenizerJson,
                Map.of("truncation", "false", "padding", "false", "maxLength", "100000000"));
    }
}
