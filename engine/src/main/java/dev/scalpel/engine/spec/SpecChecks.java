package dev.scalpel.engine.spec;

import dev.scalpel.engine.api.HeadId;
import dev.scalpel.engine.api.HeadGrid;
import dev.scalpel.engine.api.HeadSet;
import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.edit.HeadLayout;
import dev.scalpel.engine.edit.Slice;
import dev.scalpel.engine.model.CausalLM;
import java.util.ArrayList;
import java.util.List;

/** Checks and lookups the spec records share: required fields, heads and weight shapes of a model. */
final class SpecChecks {
    private SpecChecks() {}

    /** Refuses a missing field of a training spec (JSON name {@code field}). */
    /**
     * What is wrong with a spec file, from the JSON library's error, in a user's words: the field it concerns (when the
     * error has a path) and the library's own first sentence without its notes to programmers and source dumps, e.g.
     * {@code "rank": Cannot coerce Floating-point value (2.5) to `java.lang.Integer` value}.
     */
    static String readable(java.io.IOException e) {
        String message = e instanceof com.fasterxml.jackson.core.JsonProcessingException j ? j.getOriginalMessage() : e.getMessage();
        message = String.valueOf(message).lines().findFirst().orElse("")
                .replaceAll(" \\(but could if coercion was enabled using `CoercionConfig`\\)", "")
                .replaceAll(" \\(start marker at \\[Source: [^\\]]*\\]\\)", "")
                .replaceAll(" ?\\[Source: [^\\]]*\\]", "");
        if (e instanceof com.fasterxml.jackson.databind.JsonMappingException m && !m.getPath().isEmpty()) {
            String field = m.getPath().stream().map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
                    .collect(java.util.stream.Collectors.joining("."));
            return "\"" + field + "\": " + message;
        }
        if (e instanceof com.fasterxml.jackson.core.JsonProcessingException j && j.getLocation() != null) {
            return message + " at line " + j.getLocation().getLineNr();
        }
        return message;
    }

    static void require(String value, String field) {
        if (value == null || value.isBlank()) {
            throw new ScalpelException("The training spec needs \"" + field + "\"; see the README for the schema.");
        }
    }

    static HeadSet heads(String heads, CausalLM model) {
        HeadGrid grid = model.config().headGrid();
        return heads.equals("all") ? HeadSet.of(grid.all()) : HeadSet.parse(heads, grid);
    }

    static List<HeadLayout.Projection> projections(List<String> names) {
        return names.stream().map(HeadLayout.Projection::parse).toList();
    }

    static List<Slice> slices(CausalLM model, HeadSet heads, List<String> projections) {
        HeadLayout layout = new HeadLayout(model.config());
        List<Slice> slices = new ArrayList<>();
        for (HeadId h : heads.heads()) {
            for (HeadLayout.Projection p : projections(projections)) {
                slices.add(layout.slice(h, p));
            }
        }
        return slices;
    }

    static long[] shape(CausalLM model, String weight) {
        long[] shape = model.weights().shape(weight);
        if (shape == null) {
            throw new ScalpelException("This model has no weight " + weight + ".");
        }
        return shape;
    }
}
