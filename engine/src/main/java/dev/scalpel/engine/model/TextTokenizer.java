package dev.scalpel.engine.model;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.scalpel.engine.api.ScalpelException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * The model's {@code tokenizer.json} (through DJL's binding of Hugging Face tokenizers) plus the model's BOS rule.
 * {@link #encode} gives the raw ids of a text; {@link #encodePrompt} adds BOS where the model expects it.
 */
public final class TextTokenizer implements AutoCloseable {
    private final HuggingFaceTokenizer tokenizer;
    private final Integer bos;
    private final boolean addBos;
    private final int vocabSize;

    private TextTokenizer(HuggingFaceTokenizer tokenizer, Integer bos, boolean addBos, int vocabSize) {
        this.tokenizer = tokenizer;
        this.bos = bos;
        this.addBos = addBos;
        this.vocabSize = vocabSize;
    }

    /**
     * Loads {@code dir/tokenizer.json}. BOS is prepended when {@code tokenizer_config.json} says
     * {@code add_bos_token: true}, or, without that file or field, for Llama, Mistral and Gemma (as their HF tokenizers do).
     */
    public static TextTokenizer load(Path dir, ModelConfig config) {
        Path file = dir.resolve("tokenizer.json");
        if (!Files.isRegularFile(file)) {
            throw new ScalpelException("No tokenizer.json in " + dir + "; Scalpel needs the Hugging Face fast-tokenizer "
                    + "file next to config.json (save it with tokenizer.save_pretrained).");
        }
        HuggingFaceTokenizer tok;
        try {
            tok = HuggingFaceTokenizer.newInstance(file, Map.of("addSpecialTokens", "false", "truncation", "false", "padding", "false"));
        } catch (IOException e) {
            throw new ScalpelException("Cannot read " + file + " (" + e.getMessage() + ").", e);
        } catch (RuntimeException parserVerdict) {
            // the tokenizers library reports what is wrong with the file (e.g. "unknown variant `XYZ`") as a plain
            // RuntimeException; its text is the message, and it is not a Scalpel fault to keep as a cause
            throw new ScalpelException(file + " could not be read as a Hugging Face tokenizer (" + parserVerdict.getMessage()
                    + "); restore it from the model's source.");
        }
        Integer bos = config.bosTokenId();
        boolean addBos = bos != null && addBosRule(dir, config.architecture());
        return new TextTokenizer(tok, bos, addBos, config.vocabSize());
    }

    private static boolean addBosRule(Path dir, Architecture arch) {
        Path cfg = dir.resolve("tokenizer_config.json");
        if (Files.isRegularFile(cfg)) {
            try {
                JsonNode node = new ObjectMapper().readTree(cfg.toFile()).path("add_bos_token");
                if (node.isBoolean()) {
                    return node.asBoolean();
                }
            } catch (IOException e) {
                throw new ScalpelException(cfg + " is not valid JSON; fix or remove it.", e);
            }
        }
        return arch == Architecture.LLAMA || arch == Architecture.MISTRAL || arch == Architecture.GEMMA2
                || arch == Architecture.GEMMA3_TEXT;
    }

    /** Ids of {@code text} with no special tokens added. */
    public long[] encode(String text) {
        long[] ids = tokenizer.encode(text, false, false).getIds();
        for (long id : ids) {
            if (id < 0 || id >= vocabSize) {
                throw new ScalpelException("The tokenizer produced id " + id + " but the model's vocab_size is " + vocabSize
                        + "; tokenizer.json and config.json belong to different models.");
            }
        }
        return ids;
    }

    /** Ids of a prompt: BOS (when the model uses one) followed by {@link #encode}. */
    public long[] encodePrompt(String text) {
        long[] ids = encode(text);
        if (!addBos) {
            return ids;
        }
        long[] withBos = new long[ids.length + 1];
        withBos[0] = bos;
        System.arraycopy(ids, 0, withBos, 1, ids.length);
        return withBos;
    }

    /** The BOS id that {@link #encodePrompt} prepends, or null when it prepends none. */
    public Integer bosForPrompts() {
        return addBos ? bos : null;
    }

    /** Text of {@code ids}, special tokens left out. */
    public String decode(long[] ids) {
        return tokenizer.decode(ids, true);
    }

    @Override
    public void close() {
        tokenizer.close();
    }
}
