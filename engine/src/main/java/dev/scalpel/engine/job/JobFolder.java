package dev.scalpel.engine.job;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.scalpel.engine.files.Output;
import dev.scalpel.engine.model.LoadedModel;
import dev.scalpel.engine.model.safetensors.DType;
import dev.scalpel.engine.model.safetensors.TensorSource;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What every job folder has, whatever it computes: the scripts ({@code run.py}, launch lines, README), the
 * {@code job.json} header naming the model, and token ids stored as I32 tensors.
 */
final class JobFolder {
    static final String FORMAT = "scalpel-job/1";
    /** Files copied from the classpath into every job folder. */
    static final List<String> SCRIPTS = List.of("run.py", "requirements.txt", "launch.sh", "slurm.sbatch", "README.md");
    /** The scripts a user starts directly (./launch.sh). */
    private static final List<String> EXECUTABLES = List.of("run.py", "launch.sh", "slurm.sbatch");
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private JobFolder() {}

    /** Copies the scripts into {@code out}, the ones a user starts made executable. */
    static void writeScripts(Output folder, Path out) {
        for (String script : SCRIPTS) {
            folder.writeBytes(out.resolve(script), resource(script));
            if (EXECUTABLES.contains(script)) {
                makeExecutable(out.resolve(script));
            }
        }
    }

    /** The start of job.json: format, kind ("train" or "importance") and the model (path, content hash, type). */
    static Map<String, Object> header(String kind, LoadedModel m, String modelHash) {
        Map<String, Object> job = new LinkedHashMap<>();
        job.put("format", FORMAT);
        job.put("kind", kind);
        job.put("model", Map.of("path", m.dir().toAbsolutePath().normalize().toString(), "hash", modelHash,
                "architecture", m.config().architecture().modelType()));
        return job;
    }

    /** Writes job.json, the file whose presence says the folder is complete (so it is written last). */
    static void writeJob(Output folder, Path out, Map<String, Object> job) {
        try {
            folder.writeBytes(out.resolve("job.json"), JSON.writeValueAsBytes(job));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Token ids as an I32 tensor of shape [n]. */
    static TensorSource ints(long[] ids) {
        return ints(new long[][] {ids}, new long[] {ids.length});
    }

    /** Rows of token ids (all of one length) as an I32 tensor [rows, length]. */
    static TensorSource ints(long[][] rows) {
        return ints(rows, new long[] {rows.length, rows[0].length});
    }

    private static TensorSource ints(long[][] rows, long[] shape) {
        int count = 0;
        for (long[] row : rows) {
            count += row.length;
        }
        ByteBuffer bytes = ByteBuffer.allocate(count * Integer.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        for (long[] row : rows) {
            for (long id : row) {
                bytes.putInt(Math.toIntExact(id));
            }
        }
        return TensorSource.ofBytes(DType.I32, shape, bytes.flip());
    }

    private static byte[] resource(String name) {
        try (InputStream in = JobFolder.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("job script " + name + " is missing from the Scalpel jar");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new IllegalStateException("cannot read job script " + name, e);
        }
    }

    private static void makeExecutable(Path file) {
        try {
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
        } catch (UnsupportedOperationException | IOException e) {
            // a file system without POSIX permissions (Windows): "bash launch.sh" works there too
        }
    }
}
