package dev.scalpel.engine.tokenize;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
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
 * The output is deterministic (fixed key order, LF line ends, two-space indent) and written atomically:
 * a temp file in the target's folder, flushed and fsynced, then renamed over the target.
 */
public final class TokenizerJsonWriter {

    private TokenizerJsonWriter() {
    }

    /** Writes {@code vocabulary} to {@code target} atomically. */
    public static void write(BpeVocabulary vocabulary, Path target) throws IOException {
        writeAtomically(target, out -> write(vocabulary, out));
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

    /** Something that writes a file's content. */
    @FunctionalInterface
    interface Content {
        void writeTo(OutputStream out) throws IOException;
    }

    /**
     * Writes a file the crash-safe way: temp file in the same folder, flush + fsync, atomic rename over
     * {@code target}, then fsync of the folder (best effort). On failure the target is untouched and the
     * temp file removed.
     */
    static void writeAtomically(Path target, Content content) throws IOException {
        Path abs = target.toAbsolutePath();
        Path dir = abs.getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, "." + abs.getFileName() + ".", ".tmp");
        boolean done = false;
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                OutputStream os = new BufferedOutputStream(Channels.newOutputStream(ch), 1 << 16);
                content.writeTo(os);
                os.flush();
                ch.force(true);
            }
            PosixFileAttributeView posix = Files.getFileAttributeView(tmp, PosixFileAttributeView.class);
            if (posix != null) { // createTempFile makes it owner-only; a tokenizer is an ordinary file
                posix.setPermissions(PosixFilePermissions.fromString("rw-r--r--"));
            }
            Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            done = true;
        } finally {
            if (!done) {
                Files.deleteIfExists(tmp);
            }
        }
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException | UnsupportedOperationException e) {
            // some platforms cannot open or sync a directory; the rename itself is still atomic
        }
    }
}
