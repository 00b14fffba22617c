package dev.scalpel.app.ui.workspace;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.scalpel.app.ui.Session;
import dev.scalpel.app.ui.workspace.WorkspaceJson.ComponentJson;
import dev.scalpel.app.ui.workspace.WorkspaceJson.MapJson;
import dev.scalpel.engine.api.HeadId;
import dev.scalpel.engine.api.ImportanceMap;
import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.edit.Edit;
import dev.scalpel.engine.edit.EditsFile;
import dev.scalpel.engine.files.Output;
import dev.scalpel.engine.files.OutputGuard;
import dev.scalpel.engine.files.OutputKind;
import dev.scalpel.engine.model.TensorPairFile;
import dev.scalpel.engine.groups.HeadGroupRegistry;
import dev.scalpel.engine.model.ModelHash;
import dev.scalpel.engine.api.HeadMark;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A saved workbench session: which model (folder and content hash), the head marks, the importance maps and which one
 * is shown, the edit stack, the head-group library with the groups swapped in (in load order) and the chosen
 * component. Saved as {@code NAME.json} ({@link WorkspaceJson}); the edits go to an edits file of their own beside it,
 * {@code NAME.edits-ID.json} + its tensors file, written first so the workspace JSON, written last, never names edits
 * that are not on disk, and an earlier save's edits are deleted only after that (see {@link #write}). Every file is
 * written atomically and never into the model's folder.
 *
 * <p>To open one: {@link #read}, open the model at {@link #modelToOpen()} in a fresh {@link Session}, then
 * {@link #restoreInto}.
 *
 * @param modelPath    the model's folder, absolute
 * @param modelHash    its content hash ({@link ModelHash})
 * @param marks        head → train or freeze (unmarked heads are absent), in head order
 * @param maps         every importance map by its key in {@link Session#maps()}, in insertion order
 * @param shownMap     the key of the map the heatmap shows, or null
 * @param edits        the edit stack as captured (the session's own edit objects, which {@link #write} saves); empty
 *                     in a workspace read from a file
 * @param editsFile    in a workspace read from a file, its edits file (null: it had no edits); null when captured
 * @param groupFiles   the head-group library's files, absolute
 * @param loadedGroups the names of the groups swapped in, in the order they were applied
 * @param component    the component chosen for a prefactor run, or null
 */
public record Workspace(Path modelPath, String modelHash, Map<HeadId, HeadMark> marks, Map<String, ImportanceMap> maps,
                        String shownMap, List<Edit> edits, Path editsFile, List<Path> groupFiles, List<String> loadedGroups,
                        Session.ComponentChoice component) {
    private static final Logger LOG = LoggerFactory.getLogger(Workspace.class);

    public Workspace {
        marks = Collections.unmodifiableMap(new TreeMap<>(marks));
        maps = Collections.unmodifiableMap(new LinkedHashMap<>(maps));
        edits = List.copyOf(edits);
        groupFiles = List.copyOf(groupFiles);
        loadedGroups = List.copyOf(loadedGroups);
    }

    /** What {@code session} holds now. Call on the UI thread; the edits are the session's own objects, not copies. */
    public static Workspace capture(Session session) {
        Map<HeadId, HeadMark> marks = new TreeMap<>();
        session.marks().forEach((head, mark) -> {
            if (mark != HeadMark.NONE) {
                marks.put(head, mark);
            }
        });
        Map<String, ImportanceMap> maps = new LinkedHashMap<>(session.maps());
        ImportanceMap shown = session.mapProperty().get();
        String shownKey = null;
        if (shown != null) {
            shownKey = maps.entrySet().stream().filter(e -> e.getValue().equals(shown)).map(Map.Entry::getKey).findFirst()
                    .orElse(shown.domain() + " · " + shown.method());
            maps.putIfAbsent(shownKey, shown);   // a map shown without being kept among the session's maps
        }
        return new Workspace(session.modelDir().toAbsolutePath().normalize(), session.modelHash(), marks, maps, shownKey,
                List.copyOf(session.edits()), null,
                session.library().stream().map(g -> g.file().toAbsolutePath().normalize()).toList(),
                List.copyOf(session.loadedGroups().keySet()), session.componentProperty().get());
    }

    /**
     * The edits files saves of workspace {@code json} wrote beside it ({@code NAME.edits-ID.json} and the tensors file
     * each names, or a part a crashed save left); after a completed save only the pair the workspace names is left.
     */
    public static List<Path> editsFilesOf(Path json) {
        Path dir = json.toAbsolutePath().getParent();
        List<Path> out = new java.util.ArrayList<>();
        try (var files = Files.newDirectoryStream(dir, editsPrefix(json) + "*")) {
            files.forEach(out::add);
            out.sort(null);
        } catch (NoSuchFileException e) {
            return List.of();
        } catch (IOException e) {
            throw new ScalpelException("Cannot list " + dir + " (" + e.getMessage() + "); check its permissions.", e);
        }
        return out;
    }

    private static String editsPrefix(Path json) {
        String name = json.getFileName().toString();
        return (name.endsWith(".json") ? name.substring(0, name.length() - 5) : name) + ".edits-";
    }

    /**
     * Saves a captured workspace as {@code json} so that a crash at any moment leaves the previous save or this one:
     * the edits go to a new file of their own ({@code NAME.edits-ID.json}, only when there are edits), then the JSON
     * naming it replaces the old one atomically (the commit), and only then are the earlier saves' edits files deleted.
     *
     * @throws ScalpelException when {@code json} is inside the model's folder or a file cannot be written
     */
    public void write(Path json) {
        if (editsFile != null) {
            throw new IllegalStateException("A workspace read from a file is restored into a session, not written again; "
                    + "capture the session to save it.");
        }
        Output out = OutputGuard.files(OutputKind.WORKSPACE, List.of(modelPath), json);
        Path editsJson = edits.isEmpty() ? null
                : json.toAbsolutePath().resolveSibling(editsPrefix(json) + UUID.randomUUID().toString().substring(0, 8) + ".json");
        if (editsJson != null) {
            EditsFile.write(editsJson, modelHash, edits, List.of(modelPath));
        }
        byte[] bytes;
        try {
            bytes = WorkspaceJson.MAPPER.writeValueAsBytes(toJson(editsJson == null ? null : editsJson.getFileName().toString()));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("A workspace always maps to JSON", e);
        }
        out.writeBytes(json, bytes);
        // keep ours and the one the file on disk names now (another process may have saved since: last writer wins)
        List<Path> keep = new java.util.ArrayList<>();
        if (editsJson != null) {
            keep.addAll(TensorPairFile.files(editsJson));
        }
        Path named = editsNamedBy(json);
        if (named != null) {
            keep.addAll(TensorPairFile.files(named));
        }
        editsFilesOf(json).stream().filter(f -> !keep.contains(f)).forEach(Workspace::deleteStale);
    }

    /** The edits file the workspace now at {@code json} names, or null (none, or unreadable). */
    private static Path editsNamedBy(Path json) {
        try {
            String name = WorkspaceJson.MAPPER.readTree(json.toFile()).path("edits").asText("");
            return name.isEmpty() ? null : json.toAbsolutePath().resolveSibling(name);
        } catch (IOException e) {
            return null;
        }
    }

    /**
     * Reads the workspace saved as {@code json} (not yet restored: see {@link #restoreInto}).
     *
     * @throws ScalpelException naming the file and the problem: missing, not JSON, not a workspace, saved by a newer
     *                          Scalpel, or a field that is missing or wrong
     */
    public static Workspace read(Path json) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(json);
        } catch (NoSuchFileException e) {
            throw new ScalpelException("No workspace file " + json + "; check the path.", e);
        } catch (IOException e) {
            throw new ScalpelException("Could not read the workspace " + json + " (" + e + ").", e);
        }
        JsonNode root;
        try {
            root = WorkspaceJson.MAPPER.readTree(bytes);
        } catch (JsonProcessingException e) {
            throw new ScalpelException("The workspace " + json + " is not valid JSON (" + e.getOriginalMessage() + " at line "
                    + e.getLocation().getLineNr() + "); it may have been cut off. Open another workspace or the autosave.", e);
        } catch (IOException e) {
            throw new ScalpelException("Could not read the workspace " + json + " (" + e + ").", e);
        }
        if (root == null || root.isMissingNode()) {
            throw new ScalpelException("The workspace " + json + " is empty; open another workspace or the autosave.");
        }
        String format = root.path("format").asText("");
        if (format.startsWith("scalpel-workspace/") && !format.equals(WorkspaceJson.FORMAT)) {
            throw new ScalpelException("The workspace " + json + " was saved by a newer Scalpel (format " + format
                    + "; this one reads " + WorkspaceJson.FORMAT + "); update Scalpel to open it.");
        }
        if (!format.equals(WorkspaceJson.FORMAT)) {
            throw new ScalpelException(json + " is not a Scalpel workspace (format '" + format + "', expected "
                    + WorkspaceJson.FORMAT + "); open a file that Scalpel saved as a workspace.");
        }
        try {
            return fromJson(WorkspaceJson.MAPPER.treeToValue(root, WorkspaceJson.class), json);
        } catch (JsonProcessingException e) {
            throw invalid(json, e.getOriginalMessage());
        }
    }

    /**
     * The model folder to open before {@link #restoreInto}.
     *
     * @throws ScalpelException when the folder is gone
     */
    public Path modelToOpen() {
        if (!Files.isDirectory(modelPath)) {
            throw new ScalpelException("The workspace was saved for the model in " + modelPath + ", which is missing; "
                    + "put the model back in that folder to open the workspace.");
        }
        return modelPath;
    }

    /**
     * Puts this workspace into {@code session}, a session freshly opened on the model it was saved for: marks, maps and
     * the map shown, the library groups (read from their files), the loaded groups applied in their order (with
     * {@link HeadGroupRegistry.OnConflict#CANCEL}), the edits rebuilt from the edits file, and the component. Everything
     * that can fail (model hash, missing files, reading the edits and the groups) is done before the edits, marks and
     * maps are put in.
     *
     * <p>The restored state is the starting point: the session's undo stack is cleared afterwards.
     *
     * @throws ScalpelException when the session's model has another hash, a file is missing or unreadable, or a loaded
     *                          group cannot be applied again
     */
    public void restoreInto(Session session) {
        if (!edits.isEmpty()) {
            throw new IllegalStateException("Restore a workspace read from a file; this one was captured from a session.");
        }
        if (!session.edits().isEmpty() || !session.loadedGroups().isEmpty()) {
            throw new IllegalStateException("Restore a workspace into a freshly opened session; this one has edits or head groups.");
        }
        if (!modelHash.equals(session.modelHash())) {
            throw new ScalpelException("The workspace was saved for model " + ModelHash.shortHash(modelHash) + " but "
                    + session.modelDir() + " has " + ModelHash.shortHash(session.modelHash()) + "; open the model it was saved with.");
        }
        for (Path file : groupFiles) {
            if (!Files.isRegularFile(file)) {
                throw new ScalpelException("The head group file " + file + " in the workspace's library is missing; "
                        + "put it back there to open the workspace.");
            }
        }
        if (editsFile != null && !Files.isRegularFile(editsFile)) {
            throw new ScalpelException("The workspace's edits file " + editsFile + " is missing; keep it beside the workspace.");
        }
        List<Edit> restored = editsFile == null ? List.of() : EditsFile.read(editsFile, session.model().model(), session.modelHash());
        try {
            groupFiles.forEach(session::addToLibrary);
            loadedGroups.forEach(name -> applyAgain(session, name));
        } catch (RuntimeException e) {
            restored.forEach(Edit::close);
            throw e;
        }
        restored.forEach(session::addEdit);
        session.marks().clear();
        session.marks().putAll(marks);
        session.maps().clear();
        session.maps().putAll(maps);
        session.mapProperty().set(shownMap == null ? null : maps.get(shownMap));
        session.componentProperty().set(component);
        session.undo().clear();
    }

    private static void applyAgain(Session session, String name) {
        Session.LibraryGroup group = session.library().stream().filter(g -> g.name().equals(name)).findFirst()
                .orElseThrow(() -> new ScalpelException("The workspace has head group '" + name + "' loaded, but none of its "
                        + "library files holds a group of that name; the file was changed since the workspace was saved."));
        try {
            session.applyGroup(group, HeadGroupRegistry.OnConflict.CANCEL);
        } catch (HeadGroupRegistry.ConflictException e) {
            throw new ScalpelException("Head group '" + name + "' shares heads with a group loaded before it ("
                    + e.contested() + "); it was applied keeping the other group's heads, which opening a workspace does "
                    + "not repeat. Swap it out, save the workspace again, then apply it by hand.", e);
        }
    }

    private WorkspaceJson toJson(String editsName) {
        Map<String, String> marksJson = new LinkedHashMap<>();
        marks.forEach((head, mark) -> marksJson.put(head.toString(), mark.name().toLowerCase(Locale.ROOT)));
        Map<String, MapJson> mapsJson = new LinkedHashMap<>();
        maps.forEach((key, map) -> mapsJson.put(key, MapJson.of(map)));
        return new WorkspaceJson(WorkspaceJson.FORMAT, modelPath.toString(), modelHash, marksJson, mapsJson, shownMap,
                editsName, groupFiles.stream().map(Path::toString).toList(), loadedGroups,
                component == null ? null : new ComponentJson(component.module(), null, component.indices(), component.rank(),
                        component.decomposition() == null ? null : component.decomposition().toString()));
    }

    private static Workspace fromJson(WorkspaceJson w, Path json) {
        if (w.modelPath() == null || w.modelHash() == null) {
            throw invalid(json, "\"model_path\" and \"model_hash\" are required");
        }
        Map<HeadId, HeadMark> marks = new TreeMap<>();
        if (w.marks() != null) {
            w.marks().forEach((head, mark) -> marks.put(head(head, json), mark(head, mark, json)));
        }
        Map<String, ImportanceMap> maps = new LinkedHashMap<>();
        if (w.maps() != null) {
            w.maps().forEach((key, map) -> maps.put(key, importanceMap(key, map, json)));
        }
        if (w.shownMap() != null && !maps.containsKey(w.shownMap())) {
            throw invalid(json, "\"shown_map\" is '" + w.shownMap() + "', which is not among its maps");
        }
        ComponentJson c = w.component();
        if (c != null && c.module() == null) {
            throw invalid(json, "\"component\" lacks its \"module\"");
        }
        if (c != null && (c.indices().isEmpty() || c.indices().stream().anyMatch(i -> i == null || i < 0))) {
            throw invalid(json, "\"component\" has \"indices\" " + c.indices() + "; it needs at least one component number ≥ 0");
        }
        return new Workspace(Path.of(w.modelPath()), w.modelHash(), marks, maps, w.shownMap(), List.of(),
                w.edits() == null ? null : json.toAbsolutePath().resolveSibling(w.edits()),
                w.headGroupFiles() == null ? List.of() : w.headGroupFiles().stream().map(Path::of).toList(),
                w.loadedGroups() == null ? List.of() : w.loadedGroups(),
                c == null ? null : new Session.ComponentChoice(c.module(), c.indices(), c.rank(),
                        c.decomposition() == null ? null : Path.of(c.decomposition())));
    }

    private static HeadId head(String text, Path json) {
        try {
            return HeadId.parse(text);
        } catch (IllegalArgumentException e) {
            throw invalid(json, "the mark key " + e.getMessage());
        }
    }

    private static HeadMark mark(String head, String text, Path json) {
        for (HeadMark m : List.of(HeadMark.TRAIN, HeadMark.FREEZE)) {
            if (m.name().equalsIgnoreCase(text)) {
                return m;
            }
        }
        throw invalid(json, "the mark of " + head + " is '" + text + "'; marks are train or freeze");
    }

    private static ImportanceMap importanceMap(String key, MapJson m, Path json) {
        if (m == null || m.modelHash() == null || m.dataHash() == null || m.domain() == null || m.method() == null
                || m.scores() == null) {
            throw invalid(json, "the map '" + key + "' lacks one of model_hash, data_hash, domain, method, scores");
        }
        if (m.scores().length != m.layers() || java.util.Arrays.stream(m.scores()).anyMatch(row -> row == null || row.length > m.heads())
                || java.util.Arrays.stream(m.scores()).noneMatch(row -> row.length == m.heads())) {
            throw invalid(json, "the map '" + key + "' says " + m.layers() + " layers × " + m.heads()
                    + " heads but its scores have another shape");
        }
        try {
            return new ImportanceMap(m.modelHash(), m.dataHash(), m.domain(), m.method(), m.tokens(), m.scores());
        } catch (IllegalArgumentException e) {
            throw invalid(json, "the map '" + key + "': " + e.getMessage());
        }
    }

    private static ScalpelException invalid(Path json, String problem) {
        return new ScalpelException("The workspace " + json + " is invalid: " + problem + ". Save the workspace again or fix the file.");
    }

    private static void deleteStale(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            LOG.warn("Could not delete the stale edits file {} ({}); the workspace no longer uses it.", file, e.toString());
        }
    }
}
