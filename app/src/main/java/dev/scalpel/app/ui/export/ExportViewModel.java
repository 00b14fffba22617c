package dev.scalpel.app.ui.export;

import dev.scalpel.app.ui.jobs.LeasedJob;
import dev.scalpel.app.ui.Session;
import dev.scalpel.app.ui.jobs.JobRunner;
import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.spec.ExportSpec;
import dev.scalpel.engine.api.HeadSet;
import dev.scalpel.engine.edit.Edit;
import dev.scalpel.engine.edit.LoraEdit;
import dev.scalpel.engine.files.OutputGuard;
import dev.scalpel.engine.model.safetensors.DType;
import dev.scalpel.engine.api.HeadMark;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CancellationException;
import javafx.beans.property.SimpleBooleanProperty;
import javafx.beans.property.BooleanProperty;
import javafx.beans.InvalidationListener;
import javafx.beans.WeakInvalidationListener;
import javafx.beans.binding.Bindings;
import javafx.beans.binding.BooleanBinding;
import javafx.beans.property.ObjectProperty;
import javafx.beans.property.ReadOnlyBooleanProperty;
import javafx.beans.property.ReadOnlyBooleanWrapper;
import javafx.beans.property.ReadOnlyStringProperty;
import javafx.beans.property.ReadOnlyStringWrapper;
import javafx.beans.property.SimpleObjectProperty;
import javafx.beans.property.SimpleStringProperty;
import javafx.beans.property.StringProperty;
import javafx.collections.ObservableList;
import javafx.collections.ObservableMap;

/**
 * The Export dialog's state and action, without UI: the format, the destination, the dtype of an HF export and the
 * name of a head group; a one-line {@link #problemProperty() problem} (empty when the export can run) and a
 * {@link #summaryProperty() summary} of what will be written, both kept up to date as the session's edits, marks and
 * head groups change; {@link #export()} runs the export as a job and reports in {@link #statusProperty() status}.
 */
public final class ExportViewModel {
    /** The dtypes an HF export can be written in. */
    public static final List<DType> DTYPES = ExportSpec.DTYPES;

    private final Session session;
    private final JobRunner jobs;
    // the session hands out a new read-only view per call; these are kept so the listeners on them stay registered
    private final ObservableList<Edit> edits;
    private final ObservableMap<String, HeadSet> loadedGroups;
    private final ObjectProperty<ExportFormat> format = new SimpleObjectProperty<>(this, "format", ExportFormat.HF_CHECKPOINT);
    private final StringProperty destination = new SimpleStringProperty(this, "destination", "");
    private final ObjectProperty<DType> dtype = new SimpleObjectProperty<>(this, "dtype");
    private final StringProperty groupName = new SimpleStringProperty(this, "groupName", "");
    private final BooleanProperty allowNonFinite = new SimpleBooleanProperty(this, "allowNonFinite");
    private final ReadOnlyStringWrapper heads = new ReadOnlyStringWrapper(this, "heads", "");
    private final ReadOnlyStringWrapper problem = new ReadOnlyStringWrapper(this, "problem", "");
    private final ReadOnlyStringWrapper summary = new ReadOnlyStringWrapper(this, "summary", "");
    private final ReadOnlyStringWrapper status = new ReadOnlyStringWrapper(this, "status", "");
    private final ReadOnlyBooleanWrapper busy = new ReadOnlyBooleanWrapper(this, "busy");
    private final BooleanBinding canExport = Bindings.createBooleanBinding(() -> problem.get().isEmpty() && !busy.get(), problem, busy);
    /** Held here: the session's collections only keep weak references to it, so a closed dialog does not stay alive. */
    private final InvalidationListener refresher = o -> refresh();

    public ExportViewModel(Session session, JobRunner jobs) {
        this.session = session;
        this.jobs = jobs;
        this.edits = session.edits();
        this.loadedGroups = session.loadedGroups();
        DType modelDtype = DType.fromSafetensorsName(session.summary().dtype()).orElse(DType.F32);
        dtype.set(DTYPES.contains(modelDtype) ? modelDtype : DType.F32);
        format.addListener((obs, old, now) -> refresh());
        destination.addListener((obs, old, now) -> refresh());
        dtype.addListener((obs, old, now) -> refresh());
        groupName.addListener((obs, old, now) -> refresh());
        busy.addListener((obs, old, now) -> refresh());   // an export that ends has filled its folder
        WeakInvalidationListener weak = new WeakInvalidationListener(refresher);
        edits.addListener(weak);
        loadedGroups.addListener(weak);
        session.marks().addListener(weak);
        refresh();
    }

    public ObjectProperty<ExportFormat> formatProperty() {
        return format;
    }

    /** The folder (HF, PEFT) or {@code NAME.json} file (head group, edits) to write, as typed or chosen. */
    public StringProperty destinationProperty() {
        return destination;
    }

    /** The weight dtype of an HF export; the model's own by default. */
    public ObjectProperty<DType> dtypeProperty() {
        return dtype;
    }

    /** The name of an exported head group, e.g. {@code code/rust}. */
    public StringProperty groupNameProperty() {
        return groupName;
    }

    /** Why the export cannot run now, with the fix, in one line; empty when it can. */
    public ReadOnlyStringProperty problemProperty() {
        return problem.getReadOnlyProperty();
    }

    /** What the export will write, in one or two sentences. */
    public ReadOnlyStringProperty summaryProperty() {
        return summary.getReadOnlyProperty();
    }

    /** The outcome of the last export, e.g. "exported HF merged checkpoint (29.1 MB) to /tmp/out". */
    public ReadOnlyStringProperty statusProperty() {
        return status.getReadOnlyProperty();
    }

    /** True while an export runs. */
    public ReadOnlyBooleanProperty busyProperty() {
        return busy.getReadOnlyProperty();
    }

    /** No problem and nothing running. */
    public BooleanBinding canExportProperty() {
        return canExport;
    }

    /** Starts the export as a job; does nothing while {@link #problemProperty()} names a problem or one runs. */
    public void export() {
        refresh();
        if (!canExport.get()) {
            return;
        }
        ExportFormat f = format.get();
        ExportJob job = new ExportJob(session.model(), session.modelHash(), f.label(), exportSpec(), edits);
        busy.set(true);
        status.set("exporting " + f.label() + " …");
        jobs.submit(new LeasedJob<>(session::snapshot, job), bytes -> {
            busy.set(false);
            status.set("exported " + f.label() + " (" + size(bytes) + ") to " + job.destination());
        }, error -> {
            busy.set(false);
            status.set(error instanceof CancellationException ? "export cancelled; nothing was written"
                    : "export failed: " + error.getMessage());
        });
    }

    /** Write NaN or ±Inf values instead of refusing them ({@code --allow-non-finite}). */
    public BooleanProperty allowNonFiniteProperty() {
        return allowNonFinite;
    }

    /**
     * The export as set up now, as the engine's {@link ExportSpec}: the same record {@code scalpel export} builds from
     * its flags (the heads of a group are the heads marked for training).
     *
     * @throws dev.scalpel.engine.api.ScalpelException naming what is wrong
     */
    public ExportSpec exportSpec() {
        ExportFormat f = format.get();
        HeadSet marked = session.marked(HeadMark.TRAIN);
        return new ExportSpec(f.spec(), destination.get().trim(), f == ExportFormat.HF_CHECKPOINT && dtype.get() != null
                ? dtype.get().safetensorsName() : null, f == ExportFormat.HEAD_GROUP && !marked.isEmpty() ? marked.toString() : null,
                f == ExportFormat.HEAD_GROUP ? groupName.get().trim() : null, allowNonFinite.get());
    }

    /** The heads a head group holds: those marked for training. */
    public ReadOnlyStringProperty headsProperty() {
        return heads.getReadOnlyProperty();
    }

    private void refresh() {
        HeadSet marked = session.marked(HeadMark.TRAIN);
        heads.set(marked.isEmpty() ? "none marked for training" : marked.toString());
        problem.set(problem());
        summary.set(summary());
    }

    private String problem() {
        ExportFormat f = format.get();
        String content = switch (f) {
            case HF_CHECKPOINT -> "";
            case PEFT_ADAPTER -> peftEdit() != null ? "" : "A PEFT adapter holds exactly one LoRA or head-LoRA edit; the stack has "
                    + (edits.isEmpty() ? "none" : edits.stream().map(Edit::kind).toList().toString())
                    + ". Export an HF merged checkpoint for other edits.";
            case HEAD_GROUP -> session.marked(HeadMark.TRAIN).isEmpty()
                    ? "A head group holds the heads marked for training; mark some (click them in the heatmap) first."
                    : groupName.get().isBlank() ? "Name the head group, e.g. code/rust." : "";
            case EDITS_FILE -> edits.isEmpty() ? "The edit stack is empty; there is nothing to save as an edits file." : "";
        };
        return content.isEmpty() ? destinationProblem(f) : content;
    }

    private String destinationProblem(ExportFormat f) {
        String text = destination.get().trim();
        if (text.isEmpty()) {
            return "Choose where to export to (Browse…).";
        }
        Path path;
        try {
            path = Path.of(text);
        } catch (InvalidPathException e) {
            return "'" + text + "' is not a valid path; choose the destination with Browse….";
        }
        if (!path.isAbsolute()) {
            return "Give the destination as a full path (or choose it with Browse…), not '" + text + "'.";
        }
        if (!f.toFolder() && !path.getFileName().toString().endsWith(".json")) {
            return "Name the file NAME.json (its tensors go beside it as a .safetensors file).";
        }
        String refused = OutputGuard.problem(f.output(), path, List.of(session.modelDir()));
        if (refused != null) {
            return refused;
        }
        try {
            exportSpec();
            return "";
        } catch (ScalpelException e) {
            return e.getMessage();
        }
    }

    /** The stack's only edit when it is a LoRA or head-LoRA, else null. */
    private LoraEdit peftEdit() {
        return edits.size() == 1 && edits.get(0) instanceof LoraEdit lora ? lora : null;
    }

    private String summary() {
        String groups = loadedGroups.isEmpty() ? "" : " (head groups swapped in: " + String.join(", ", loadedGroups.keySet()) + ")";
        String merged = edits.isEmpty() ? "no edits" : edits.size() == 1 ? "the edit on the stack merged" : "the " + edits.size()
                + " edits on the stack merged";
        return switch (format.get()) {
            case HF_CHECKPOINT -> "The model's weights as they are in memory" + groups + ", with " + merged + ", as "
                    + dtype.get() + " safetensors, with the model's config and tokenizer.";
            case PEFT_ADAPTER -> {
                LoraEdit lora = peftEdit();
                yield lora == null ? "One LoRA or head-LoRA edit as a PEFT adapter (adapter_config.json + adapter_model.safetensors)."
                        : lora.describe() + " as a PEFT adapter (adapter_config.json + adapter_model.safetensors)"
                        + (groups.isEmpty() ? "." : "; the head groups swapped in are not part of an adapter.");
            }
            case HEAD_GROUP -> {
                HeadSet heads = session.marked(HeadMark.TRAIN);
                yield "The weights of the heads marked for training (" + (heads.isEmpty() ? "none" : heads)
                        + ") as they are in memory" + groups + ", with " + merged + ", as a head group (NAME.json + NAME.<id>.safetensors).";
            }
            case EDITS_FILE -> "The " + edits.size() + " edit" + (edits.size() == 1 ? "" : "s") + " on the stack as an edits file "
                    + "(NAME.json + NAME.<id>.safetensors) for this model; head groups are not edits and stay in their own files.";
        };
    }

    /** e.g. "29.1 MB", "412.0 kB". */
    static String size(long bytes) {
        return bytes >= 1_000_000 ? String.format(Locale.ROOT, "%.1f MB", bytes / 1e6)
                : String.format(Locale.ROOT, "%.1f kB", bytes / 1e3);
    }
}
