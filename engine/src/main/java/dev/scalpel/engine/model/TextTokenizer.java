package dev.scalpel.engine.model;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.scalpel.engine.api.ScalpelException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The model's {@code tokenizer.json} (through DJL's binding of Hugging Face tokenizers) plus the model's BOS rule.
 * {@link #encode} gives the raw ids of a text; {@link #encodePrompt} adds BOS where the model expects it.
 */
public final class TextTokenizer implements AutoCloseable {
    private static final ObjectMapper STRICT_JSON = com.fasterxml.jackson.databind.json.JsonMapper.builder()
            .enable(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_TRAILING_TOKENS).build();
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
        requireWellFormed(file);
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

    /**
     * Checks, before the native library sees the file, that it is strict JSON (valid UTF-8, one value) with a "model"
     * object and each pipeline stage null or an object naming its "type". The library aborts the whole process (a Rust
     * panic) on some malformed files, e.g. a syntax error inside "decoder", instead of returning an error.
     */
    private static void requireWellFormed(Path file) {
        JsonNode root;
        try {
            root = STRICT_JSON.readTree(Files.readAllBytes(file));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new ScalpelException(file + " is not valid JSON (" + e.getOriginalMessage() + " at line "
                    + e.getLocation().getLineNr() + "); restore it from the model's source.");
        } catch (IOException e) {
            throw new ScalpelException("Cannot read " + file + " (" + e.getMessage() + ").", e);
        }
        if (root == null || !root.isObject() || !root.path("model").isObject()) {
            throw new ScalpelException(file + " is not a Hugging Face tokenizer: it needs a JSON object with a \"model\" "
                    + "object; restore it from the model's source.");
        }
        for (String stage : List.of("normalizer", "pre_tokenizer", "post_processor", "decoder", "model")) {
            requireStage(file, stage, root.path(stage));
        }
    }

    /** A pipeline stage: absent, null, or an object with a string "type" whose nested stages (a Sequence) are the same. */
    private static void requireStage(Path file, String where, JsonNode stage) {
        if (stage.isMissingNode() || stage.isNull()) {
            return;
        }
        if (!stage.isObject() || (stage.has("type") && !stage.get("type").isTextual()) || (!where.equals("model") && !stage.has("type"))) {
            throw new ScalpelException(file + " has a malformed \"" + where + "\" (it must be null or an object with a "
                    + "string \"type\"); restore it from the model's source.");
        }
        for (String list : List.of("normalizers", "pretokenizers", "processors", "decoders")) {
            JsonNode children = stage.path(list);
            if (!children.isMissingNode()) {
                if (!children.isArray()) {
                    throw new ScalpelException(file + " has a malformed \"" + where + "." + list + "\" (it must be a list); "
                            + "restore it from the model's source.");
                }
                for (int i = 0; i < children.size(); i++) {
                    requireStage(file, where + "." + list + "[" + i + "]", children.get(i));
                }
            }
        }
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
