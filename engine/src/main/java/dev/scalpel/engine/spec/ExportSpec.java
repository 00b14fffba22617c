package dev.scalpel.engine.spec;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonValue;
import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.files.OutputKind;
import dev.scalpel.engine.model.safetensors.DType;
import java.util.List;
import java.util.Locale;

/**
 * What to export and where: the one description {@code scalpel export} (its flags are these fields, {@code --allow-
 * non-finite} for {@code allow_non_finite}) and the workbench's Export dialog both build. Checked on construction.
 *
 * @param format         hf (merged checkpoint folder), peft (adapter folder), group (a head group, NAME.json) or edits
 *                       (an edits file, NAME.json)
 * @param out            the folder (hf, peft) or NAME.json (group, edits)
 * @param dtype          hf only: F32, F16 or BF16; null for the input's
 * @param heads          group only: the heads, e.g. "L1H1,L2H*"
 * @param name           group only: the group's name (default: the file's name)
 * @param allowNonFinite write NaN/±Inf values instead of refusing them
 */
public record ExportSpec(@JsonProperty("format") Format format, @JsonProperty("out") String out,
                         @JsonProperty("dtype") String dtype, @JsonProperty("heads") String heads,
                         @JsonProperty("name") String name, @JsonProperty("allow_non_finite") Boolean allowNonFinite) {

    /** The four things Scalpel exports. */
    public enum Format {
        HF(OutputKind.HF_CHECKPOINT), PEFT(OutputKind.PEFT_ADAPTER), GROUP(OutputKind.HEAD_GROUP), EDITS(OutputKind.EDITS);

        private final OutputKind output;

        Format(OutputKind output) {
            this.output = output;
        }

        /** What the output guard checks the destination as. */
        public OutputKind output() {
            return output;
        }

        /** "hf", "peft", "group" or "edits". */
        @JsonValue
        public String jsonName() {
            return name().toLowerCase(Locale.ROOT);
        }

        @JsonCreator
        public static Format parse(String name) {
            for (Format f : values()) {
                if (f.jsonName().equals(name)) {
                    return f;
                }
            }
            throw new ScalpelException("Unknown export format '" + name + "'; use hf, peft, group or edits.");
        }
    }

    /** The dtypes an HF export is written in. */
    public static final List<DType> DTYPES = List.of(DType.F32, DType.F16, DType.BF16);

    public ExportSpec {
        format = format != null ? format : Format.HF;
        allowNonFinite = allowNonFinite != null && allowNonFinite;
        if (out == null || out.isBlank()) {
            throw new ScalpelException("An export needs its destination (out / --out): a folder, or NAME.json.");
        }
        if (dtype != null) {
            DType d = DType.fromSafetensorsName(dtype.toUpperCase(Locale.ROOT)).orElse(null);
            if (d == null || !DTYPES.contains(d)) {
                throw new ScalpelException("Unknown dtype '" + dtype + "'; an HF export is written as F32, F16 or BF16.");
            }
            if (format != Format.HF) {
                throw new ScalpelException("A dtype applies to an hf export only, not to " + format.jsonName() + ".");
            }
            dtype = d.safetensorsName();
        }
        if (format == Format.GROUP) {
            if (heads == null || heads.isBlank()) {
                throw new ScalpelException("A group export needs the heads to save (--heads, e.g. L1H1,L2H*).");
            }
        }
        if ((format == Format.GROUP || format == Format.EDITS) && !out.endsWith(".json")) {
            throw new ScalpelException("A " + format.jsonName() + " export is written as NAME.json (its tensors go beside it); "
                    + "give an out ending in .json, not " + out + ".");
        }
    }

    /** The dtype as the writer takes it, or null for the input's. */
    public DType dtypeOrInput() {
        return dtype == null ? null : DType.fromSafetensorsName(dtype).orElseThrow();
    }

    /** The group's name: {@code name}, else the file name without .json. */
    public String groupName() {
        if (name != null && !name.isBlank()) {
            return name;
        }
        String file = java.nio.file.Path.of(out).getFileName().toString();
        return file.substring(0, file.length() - ".json".length());
    }
}
