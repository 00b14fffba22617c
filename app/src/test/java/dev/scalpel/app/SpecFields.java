package dev.scalpel.app;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.List;

/**
 * The fields of the engine's spec records, found by reflection (not a hand list), for the tests that check the CLI and
 * the workbench both expose every one: a nested record's fields are listed under the field's name
 * ({@code per_head_lr} → {@code per_head_lr_freeze_above}).
 */
public final class SpecFields {
    private SpecFields() {}

    /** The JSON paths of {@code record}'s fields, snake case; fields without a JSON name (TrainSpec.edit) are left out. */
    public static List<String> of(Class<?> record) {
        return of(record, "");
    }

    private static List<String> of(Class<?> record, String prefix) {
        List<String> paths = new ArrayList<>();
        for (RecordComponent c : record.getRecordComponents()) {
            JsonProperty json = c.getAccessor().getAnnotation(JsonProperty.class);
            if (json == null) {
                continue;
            }
            String path = prefix.isEmpty() ? json.value() : prefix + "_" + json.value();
            if (c.getType().isRecord()) {
                paths.addAll(of(c.getType(), path));
            } else {
                paths.add(path);
            }
        }
        return paths;
    }

    /** A control's id for a field: {@code freeze_above} → {@code freezeAbove}. */
    public static String controlId(String path) {
        StringBuilder b = new StringBuilder();
        boolean up = false;
        for (char ch : path.toCharArray()) {
            if (ch == '_') {
                up = true;
            } else {
                b.append(up ? Character.toUpperCase(ch) : ch);
                up = false;
            }
        }
        return b.toString();
    }

    /** A CLI flag for a field: {@code allow_non_finite} → {@code --allow-non-finite}. */
    public static String flag(String path) {
        return "--" + path.replace('_', '-');
    }
}
