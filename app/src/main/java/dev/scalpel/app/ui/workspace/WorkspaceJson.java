package dev.scalpel.app.ui.workspace;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.scalpel.engine.api.ImportanceMap;
import java.util.List;
import java.util.Map;

/**
 * The workspace file as Jackson reads and writes it (snake_case keys):
 * <pre>{@code
 * {
 *   "format" : "scalpel-workspace/1",
 *   "model_path" : "/models/polyglot-tiny", "model_hash" : "…",
 *   "marks" : { "L0H0" : "freeze", "L1H2" : "train" },
 *   "maps" : { "de · gradient" : { "model_hash" : "…", "data_hash" : "…", "domain" : "de", "method" : "gradient",
 *                                  "tokens" : 4096, "layers" : 6, "heads" : 8, "scores" : [[…], …] } },
 *   "shown_map" : "de · gradient",
 *   "edits" : "my.edits-3f2a91c0.json",
 *   "head_group_files" : [ "/groups/de-heads.json" ],
 *   "loaded_groups" : [ "de-heads" ],
 *   "component" : { "module" : "model.layers.1.mlp.down_proj", "indices" : [ 0 ], "rank" : 8, "decomposition" : null }
 * }
 * }</pre>
 * {@code edits} is the edits file's name, beside the workspace (null: no edits); {@code shown_map} and
 * {@code component} may be null. The maps have the fields {@code ImportanceMapFile} writes.
 */
record WorkspaceJson(String format, String modelPath, String modelHash, Map<String, String> marks,
                     Map<String, MapJson> maps, String shownMap, String edits, List<String> headGroupFiles,
                     List<String> loadedGroups, ComponentJson component) {

    static final String FORMAT = "scalpel-workspace/1";

    static final ObjectMapper MAPPER = JsonMapper.builder()
            .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .enable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .build();

    /**
     * One importance map, field for field as {@code ImportanceMapFile} writes it; scores [layers][heads of that layer]:
     * a hybrid's ragged rows are as long as their layer's heads (none longer than {@code heads}, the widest).
     */
    record MapJson(String modelHash, String dataHash, String domain, String method, long tokens, int layers, int heads,
                   double[][] scores) {

        static MapJson of(ImportanceMap m) {
            return new MapJson(m.modelHash(), m.dataHash(), m.domain(), m.method(), m.tokens(), m.layers(), m.heads(), m.scores());
        }
    }

    /**
     * The components chosen for a prefactor run. Workspaces written before several could be chosen have "index" (one
     * component) instead of "indices"; it is read as a list of one.
     */
    record ComponentJson(String module, @JsonInclude(JsonInclude.Include.NON_NULL) Integer index, List<Integer> indices, int rank,
                         String decomposition) {
        ComponentJson {
            if (indices == null) {
                indices = index == null ? List.of(0) : List.of(index);
            }
            index = null;
        }
    }
}
