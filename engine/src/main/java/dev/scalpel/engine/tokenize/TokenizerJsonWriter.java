package dev.scalpel.engine.tokenize;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.OutputStream;
import java.util.List;

/**
 * Writes a {@link BpeVocabulary} as a Hugging Face {@code tokenizer.json} (the format of the
 * {@code tokenizers} library, read by transformers and by DJL's {@code HuggingFaceTokenizer}):
 * <ul>
 *   <li>{@code added_tokens}: the special tokens, {@code special: true}, {@code normalized: false};</li>
 *   <li>no normalizer; pre-tokenizer {@code ByteLevel} (GPT-2 regex, no prefix space);</li>
 *   <li>no post-processor: nothing is added around the text (the model code adds BOS itself);</li>
 *   <li>decoder {@code ByteLevel}; model {@code BPE} with no unk token and no byte fallback;</li>
 *   <li>{@code merges} as {@code "left right"} strings, the form every tokenizers version reads
 *       (0.20+ also reads {@code ["left","right"]} pairs); byte-level tokens never contain U+0020, so
 *       the space separator is unambiguous.</li>
 * </ul>
 * The output is deterministic (fixed key order, LF line ends, two-space indent).
 */
public final class TokenizerJsonWriter {

    private TokenizerJsonWriter() {
    }

    /** {@code vocabulary} as the bytes of a tokenizer.json. */
    public static byte[] toBytes(BpeVocabulary vocabulary) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            write(vocabulary, out);
        } catch (IOException e) {
            throw new UncheckedIOException("writing to memory cannot fail", e);
        }
        return out.toByteArray();
    }

    /** Writes {@code vocabulary} as tokenizer.json to {@code out} (not closed). */
    public static void write(BpeVocabulary vocabulary, OutputStream out) throws IOException {
        DefaultIndenter indent = new DefaultIndenter("  ", "\n");
        DefaultPrettyPrinter pp = new DefaultPrettyPrinter()
                .withSeparators(Separators.createDefaultInstance()
                        .withObjectFieldValueSpacing(Separators.Spacing.AFTER))
                .withObjectIndenter(indent)
                .withArrayIndenter(indent);
        JsonFactory factory = JsonFactory.builder().build();
        try (JsonGenerator g = factory.createGenerator(out, JsonEncoding.UTF8)) {
            g.disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
            g.setPrettyPrinter(pp);
            g.writeStartObject();
            g.writeStringField("version", "1.0");
            g.writeNullField("truncation");
            g.writeNullField("padding");
            g.writeArrayFieldStart("added_tokens");
            List<String> specials = vocabulary.specialTokens();
            for (int id = 0; id < specials.size(); id++) {
                g.writeStartObject();
                g.writeNumberField("id", id);
                g.writeStringField("content", specials.get(id));
                g.writeBooleanField("single_word", false);
                g.writeBooleanField("lstrip", false);
                g.writeBooleanField("rstrip", false);
                g.writeBooleanField("normalized", false);
                g.writeBooleanField("special", true);
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeNullField("normalizer");
            g.writeObjectFieldStart("pre_tokenizer");
            byteLevelFields(g, false);
            g.writeEndObject();
            g.writeNullField("post_processor");
            g.writeObjectFieldStart("decoder");
            byteLevelFields(g, true);
            g.writeEndObject();
            g.writeObjectFieldStart("model");
            g.writeStringField("type", "BPE");
            g.writeNullField("dropout");
            g.writeNullField("unk_token");
            g.writeNullField("continuing_subword_prefix");
            g.writeNullField("end_of_word_suffix");
            g.writeBooleanField("fuse_unk", false);
            g.writeBooleanField("byte_fallback", false);
            g.writeBooleanField("ignore_merges", false);
            g.writeObjectFieldStart("vocab");
            List<String> tokens = vocabulary.tokens();
            for (int id = 0; id < tokens.size(); id++) {
                g.writeNumberField(tokens.get(id), id);
            }
            g.writeEndObject();
            g.writeArrayFieldStart("merges");
            for (BpeVocabulary.Merge m : vocabulary.merges()) {
                g.writeString(m.left() + " " + m.right());
            }
            g.writeEndArray();
            g.writeEndObject(); // model
            g.writeEndObject();
            g.flush();
        }
        out.write('\n');
        out.flush();
    }

    private static void byteLevelFields(JsonGenerator g, boolean addPrefixSpace) throws IOException {
        g.writeStringField("type", "ByteLevel");
        g.writeBooleanField("add_prefix_space", addPrefixSpace);
        g.writeBooleanField("trim_offsets", true);
        g.writeBooleanField("use_regex", true);
    }
}
