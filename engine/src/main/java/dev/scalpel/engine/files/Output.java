package dev.scalpel.engine.files;

import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.model.safetensors.DType;
import dev.scalpel.engine.model.safetensors.SafetensorsWriter;
import dev.scalpel.engine.model.safetensors.TensorSource;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;

/**
 * A checked place to write, handed out by {@link OutputGuard}: the named files of a file output, or everything under
 * the folder of a folder output. Every file is written atomically ({@link AtomicFiles}). Tensors converted through
 * {@link #floats} are refused when they hold NaN or ±Inf, unless the output was made with {@link #allowingNonFinite}.
 */
public final class Output implements AutoCloseable {
    private final OutputKind kind;
    private final Path folder;
    private final Set<Path> files;
    private final boolean allowNonFinite;
    /** For a staged folder output: where its files go until {@link #commit}; null otherwise. */
    private final FolderStaging staging;

    Output(OutputKind kind, Path folder, Set<Path> files) {
        this(kind, folder, files, false, null);
    }

    private Output(OutputKind kind, Path folder, Set<Path> files, boolean allowNonFinite, FolderStaging staging) {
        this.kind = kind;
        this.folder = folder;
        this.files = Set.copyOf(files);
        this.allowNonFinite = allowNonFinite;
        this.staging = staging;
    }

    /** The same folder output, its files staged until {@link #commit} (see {@link FolderStaging}). */
    Output staged() {
        return new Output(kind, folder, files, allowNonFinite, FolderStaging.beside(folder));
    }

    /** The same output, writing non-finite values when asked to (e.g. {@code export --allow-non-finite}). */
    public Output allowingNonFinite(boolean allow) {
        return new Output(kind, folder, files, allow, staging);
    }

    /** A staged folder output: puts all its files in place at once. Otherwise nothing (each file already is). */
    public void commit() {
        if (staging != null) {
            staging.commit();
        }
    }

    /** A staged folder output not committed (a failure, a refusal): removes what was staged; the destination is as it was. */
    @Override
    public void close() {
        if (staging != null) {
            staging.abandon();
        }
    }

    /** The resolved path this output writes for {@code file} (symbolic links followed). */
    public Path resolve(Path file) {
        return OutputGuard.realTarget(file);
    }

    /** A folder output's folder (resolved); the parent of a file output's first file otherwise. */
    public Path folder() {
        return folder != null ? folder : files.iterator().next().getParent();
    }

    /** Writes {@code file} atomically with the bytes {@code body} produces. */
    public void write(Path file, AtomicFiles.Body body) {
        AtomicFiles.write(permitted(file), body);
    }

    /** Writes {@code bytes} to {@code file} atomically. */
    public void writeBytes(Path file, byte[] bytes) {
        write(file, channel -> TensorSource.writeAll(channel, ByteBuffer.wrap(bytes)));
    }

    /** Writes a safetensors file (see {@link SafetensorsWriter}). */
    public void writeSafetensors(Path file, Map<String, TensorSource> tensors, Map<String, String> metadata) {
        SafetensorsWriter.write(permitted(file), tensors, metadata);
    }

    /** Deletes {@code file} if it exists; only files this output may write. */
    public void delete(Path file) {
        Path target = permitted(file);
        try {
            Files.deleteIfExists(target);
        } catch (IOException e) {
            throw new ScalpelException("Could not delete " + target + " (" + e.getMessage() + "); delete it by hand.", e);
        }
    }

    /**
     * {@code values} as a tensor source of {@code dtype}, after checking that every value is finite.
     *
     * @throws ScalpelException naming the tensor, how many values are not finite and the first of them
     */
    public TensorSource floats(String name, DType dtype, long[] shape, float[] values) {
        requireFinite(name, values);
        return TensorSource.ofFloats(dtype, shape, values);
    }

    /** Refuses values holding NaN or ±Inf, unless this output allows them. */
    public void requireFinite(String name, float[] values) {
        if (allowNonFinite) {
            return;
        }
        int bad = 0;
        int first = -1;
        for (int i = 0; i < values.length; i++) {
            if (!Float.isFinite(values[i])) {
                bad++;
                first = first < 0 ? i : first;
            }
        }
        if (bad > 0) {
            throw new ScalpelException("Refusing to write the " + kind.description() + " to " + folder() + ": tensor '" + name
                    + "' has " + bad + " non-finite value(s) of " + values.length + " (the first, at index " + first + ", is "
                    + values[first] + "). The model or edit diverged; retrain with a lower learning rate"
                    + (kind == OutputKind.HF_CHECKPOINT || kind == OutputKind.PEFT_ADAPTER
                            ? ", or pass --allow-non-finite to write it anyway." : "."));
        }
    }

    private Path permitted(Path file) {
        Path target = OutputGuard.realTarget(file);
        boolean allowed = folder != null ? target.startsWith(folder) && !target.equals(folder) : files.contains(target);
        if (!allowed) {
            throw new IllegalStateException(target + " is not part of this " + kind.description() + " output ("
                    + (folder != null ? folder : files) + "); ask OutputGuard for it first");
        }
        return staging != null ? staging.redirect(target) : target;
    }
}
