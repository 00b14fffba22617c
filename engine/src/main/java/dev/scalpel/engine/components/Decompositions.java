package dev.scalpel.engine.components;

import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.model.CausalLM;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The rank-1 components of a set of matrices, from one of the two sources Scalpel knows: the top singular directions
 * of each weight (an SVD), or a parameter-decomposition file ({@link SpdImport}). The CLI and the workbench both take
 * their components from here. Close it to free the components.
 *
 * @param decompositions   one per matrix, in the model's weight order
 * @param relativeResidual per module of a decomposition file, ‖W − Σ components‖_F / ‖W‖_F; empty for an SVD
 */
public record Decompositions(List<RankOneDecomposition> decompositions, Map<String, Double> relativeResidual)
        implements AutoCloseable {

    /**
     * The components of every matrix matching {@code glob}: its top-{@code rank} SVD directions, or, with a file
     * {@code spd}, the file's components of those matrices.
     */
    public static Decompositions of(CausalLM model, String glob, int rank, Path spd) {
        List<String> modules = ModuleNames.matching(model.weights(), glob);
        if (spd == null) {
            List<RankOneDecomposition> out = new ArrayList<>();
            for (String module : modules) {
                out.add(RankOneDecomposition.svd(model, module, rank));
            }
            return new Decompositions(out, Map.of());
        }
        SpdImport.Result imported = SpdImport.read(spd, model);
        List<RankOneDecomposition> kept = new ArrayList<>();
        Map<String, Double> residuals = new LinkedHashMap<>();
        for (RankOneDecomposition d : imported.decompositions()) {
            if (modules.contains(d.module())) {
                kept.add(d);
                residuals.put(d.module(), imported.relativeResidual().get(d.module()));
            } else {
                d.close();
            }
        }
        if (kept.isEmpty()) {
            throw new ScalpelException(spd + " has no components for the modules matching '" + glob + "'; it decomposes "
                    + imported.relativeResidual().keySet() + ".");
        }
        return new Decompositions(kept, residuals);
    }

    /**
     * The one matrix holding component {@code index} of the first module matching {@code glob}: an SVD of at least
     * {@code index + 1} directions, or the file's decomposition.
     */
    public static Decompositions forComponent(CausalLM model, String glob, int index, int rank, Path spd) {
        String module = ModuleNames.matching(model.weights(), glob).get(0);
        Decompositions found = of(model, module, spd == null ? Math.max(rank, index + 1) : rank, spd);
        RankOneDecomposition d = found.decompositions.get(0);
        int size = d.size();
        if (index >= size) {
            found.close();
            throw new ScalpelException(d.module() + " has " + size + " components; component " + index + " does not exist.");
        }
        return found;
    }

    /** The only decomposition (of {@link #forComponent}). */
    public RankOneDecomposition single() {
        return decompositions.get(0);
    }

    @Override
    public void close() {
        decompositions.forEach(RankOneDecomposition::close);
    }
}
