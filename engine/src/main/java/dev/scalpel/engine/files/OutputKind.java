package dev.scalpel.engine.files;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.scalpel.engine.model.safetensors.SafetensorsFile;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * What Scalpel writes. A file output (edits, a head group, a map, a control vector, a workspace, app settings) may
 * replace an existing file only when that file is one Scalpel wrote for the same purpose, recognised by the format
 * tag it carries; a folder output (a checkpoint export, an adapter, a built model, demo results) claims its folder
 * with a {@value OutputGuard#MARKER} file naming the kind, and may only write into a new, empty or so-claimed folder.
 */
public enum OutputKind {
    EDITS("edits file", "scalpel-edits/", false),
    HEAD_GROUP("head group", "scalpel-head-group/", false),
    IMPORTANCE_MAP("importance map", null, false),
    CONTROL_VECTOR("control vector", "scalpel-control-vector/", false),
    DECOMPOSITION("parameter decomposition", "scalpel-decomposition/", false),
    WORKSPACE("workspace", "scalpel-workspace/", false),
    /** Scalpel's own settings and caches at paths the application chooses (recent models, autosave lock). */
    APP_STATE("Scalpel settings file", null, false),
    HF_CHECKPOINT("Hugging Face checkpoint export", null, true),
    PEFT_ADAPTER("PEFT adapter export", null, true),
    SAMPLE_MODEL("sample model build", null, true),
    RANDOM_MODEL("random test model", null, true),
    DEMO_RESULTS("demo results folder", null, true),
    JOB("Scalpel job folder", null, true);

    private static final ObjectMapper JSON = new ObjectMapper();
    /** Bytes of a GGUF file's start searched for the format tag (its metadata comes first). */
    private static final int GGUF_HEAD_BYTES = 64 * 1024;

    private final String description;
    private final String formatPrefix;
    private final boolean folder;

    OutputKind(String description, String formatPrefix, boolean folder) {
        this.description = description;
        this.formatPrefix = formatPrefix;
        this.folder = folder;
    }

    /** Words for messages: "edits file", "PEFT adapter export", … */
    public String description() {
        return description;
    }

    /** Whether this output is a whole folder (claimed by a marker) rather than named files. */
    public boolean isFolder() {
        return folder;
    }

    /** The name written into the folder marker. */
    String markerName() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /**
     * Whether the existing regular file {@code file} is one Scalpel wrote as this kind of output, so that replacing
     * it loses nothing the user did not ask to replace. Unreadable or unrecognised files are not.
     */
    boolean recognises(Path file) {
        String name = file.getFileName().toString();
        try {
            if (this == APP_STATE) {
                return true;
            }
            if (this == IMPORTANCE_MAP) {
                JsonNode root = JSON.readTree(file.toFile());
                return root != null && root.has("model_hash") && root.has("scores");
            }
            if (formatPrefix == null) {
                return false;
            }
            if (name.endsWith(".json")) {
                JsonNode root = JSON.readTree(file.toFile());
                return root != null && root.path("format").asText().startsWith(formatPrefix);
            }
            if (name.endsWith(".safetensors")) {
                try (SafetensorsFile f = SafetensorsFile.open(file)) {
                    return f.metadata().getOrDefault("format", "").startsWith(formatPrefix);
                }
            }
            if (name.endsWith(".gguf")) {
                try (InputStream in = Files.newInputStream(file)) {
                    String head = new String(in.readNBytes(GGUF_HEAD_BYTES), StandardCharsets.ISO_8859_1);
                    return head.startsWith("GGUF") && head.contains(formatPrefix);
                }
            }
            return false;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }
}
