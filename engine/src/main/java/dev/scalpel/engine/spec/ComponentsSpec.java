package dev.scalpel.engine.spec;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.components.Decompositions;
import dev.scalpel.engine.model.CausalLM;
import java.nio.file.Path;

/**
 * Which rank-1 components to score and inspect: the one description {@code scalpel importance --components} (its
 * flags are these fields) and the workbench's Components tab both build. Checked on construction.
 *
 * @param components the matrices, a module glob such as {@code layers.*.self_attn.v_proj}
 * @param rank       SVD components per matrix (default 16); ignored for a decomposition file, which has its own
 * @param spd        a decomposition file (safetensors with {@code _components.<module>.V/.U}, from {@code scalpel
 *                   decompose} or SPD) to take the components from instead of an SVD, or null
 * @param inspect    {@code MODULE#C}: list where component C of MODULE fires, or null
 */
public record ComponentsSpec(@JsonProperty("components") String components, @JsonProperty("rank") Integer rank,
                             @JsonProperty("spd") String spd, @JsonProperty("inspect") String inspect) {
    public ComponentsSpec {
        rank = rank != null ? rank : 16;
        if (components == null || components.isBlank()) {
            throw new ScalpelException("Name the matrices whose components to score (--components, e.g. layers.5.self_attn.v_proj).");
        }
        if (rank < 1) {
            throw new ScalpelException("rank (--rank) is " + rank + "; score at least 1 component per matrix.");
        }
        if (spd != null && spd.isBlank()) {
            spd = null;
        }
        if (inspect != null) {
            inspected(inspect);
        }
    }

    /** The components this spec names in {@code model}: the SVDs of its matrices, or the decomposition file's. */
    public Decompositions decompositions(CausalLM model) {
        return Decompositions.of(model, components, rank, spd == null ? null : Path.of(spd));
    }

    /** MODULE and C of {@code inspect}, or null without it. */
    public Inspected inspected() {
        return inspect == null ? null : inspected(inspect);
    }

    /** One component to inspect: {@code index} of {@code module} (a module glob). */
    public record Inspected(String module, int index) {}

    private static Inspected inspected(String inspect) {
        String[] parts = inspect.split("#");
        if (parts.length != 2 || parts[0].isBlank() || !parts[1].matches("\\d{1,6}")) {
            throw new ScalpelException("inspect (--inspect) takes MODULE#C, e.g. layers.0.self_attn.v_proj#6; got '" + inspect + "'.");
        }
        return new Inspected(parts[0], Integer.parseInt(parts[1]));
    }
}
