package dev.scalpel.engine.job;

import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.eval.TokenWindows;
import dev.scalpel.engine.files.Output;
import dev.scalpel.engine.files.OutputGuard;
import dev.scalpel.engine.files.OutputKind;
import dev.scalpel.engine.model.LayerType;
import dev.scalpel.engine.model.LoadedModel;
import dev.scalpel.engine.model.ModelHash;
import dev.scalpel.engine.model.safetensors.TensorSource;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code scalpel export-job --importance NAME=FILE}: a job folder that computes the gradient head-importance map of a
 * text with torchrun (each process takes every world-th batch; the per-head sums are all-reduced), exactly as
 * {@code scalpel importance --method gradient}: mean over positions of |∂L/∂g| for a gate g = 1 on each head's output
 * before o_proj, the text cut into the same windows and batches ({@code data.safetensors}: {@code batch.<i>}
 * [rows, length]). {@code run.py} writes {@code result/map.json}, an importance map file Scalpel reads.
 */
public final class ImportanceJobExport {
    private ImportanceJobExport() {}

    /** What was written. */
    public record Written(Path folder, int batches, long positions) {}

    /**
     * @param domain    the text's name (the map's domain, e.g. "de")
     * @param maxTokens tokens of the text used (as {@code scalpel importance --max-tokens})
     * @param context   window length (BOS included)
     */
    public static Written write(LoadedModel m, String domain, String text, int maxTokens, int context, int batchSize, Path out) {
        if (m.config().architecture().family().storesTransposedMatrices()) {
            throw new ScalpelException("An importance job needs a model whose matrices are nn.Linear [out, in]; "
                    + m.config().architecture().modelType() + " stores Conv1D matrices. Compute the map locally with scalpel importance.");
        }
        if (m.config().layerTypes().contains(LayerType.LINEAR_ATTENTION)) {
            throw new ScalpelException("An importance job gates heads at self_attn.o_proj, which Gated DeltaNet layers do not have; "
                    + "compute this model's map locally with scalpel importance.");
        }
        String modelHash = ModelHash.of(m.dir());
        long[] ids = m.tokenizer().encode(text);
        ids = Arrays.copyOf(ids, Math.min(ids.length, maxTokens));
        List<long[][]> batches = TokenWindows.batches(domain, ids, m.tokenizer().bosForPrompts(), context, batchSize);
        Map<String, TensorSource> data = new LinkedHashMap<>();
        long positions = 0;
        for (int i = 0; i < batches.size(); i++) {
            data.put("batch." + i, JobFolder.ints(batches.get(i)));
            positions += (long) batches.get(i).length * (batches.get(i)[0].length - 1);
        }
        Output folder = OutputGuard.folder(OutputKind.JOB, out, List.of(m.dir()));
        folder.writeSafetensors(out.resolve("data.safetensors"), data, Map.of("format", JobFolder.FORMAT));
        JobFolder.writeScripts(folder, out);
        Map<String, Object> job = JobFolder.header("importance", m, modelHash);
        Map<String, Object> importance = new LinkedHashMap<>();
        importance.put("method", "gradient");
        importance.put("domain", domain);
        importance.put("data_hash", ModelHash.ofText(domain + "\n" + text));   // as scalpel importance names its data
        importance.put("batches", batches.size());
        importance.put("positions", positions);
        importance.put("layers", m.config().numLayers());
        importance.put("heads", m.config().numHeads());
        importance.put("head_dim", m.config().headDim());
        job.put("importance", importance);
        JobFolder.writeJob(folder, out, job);
        return new Written(out, batches.size(), positions);
    }
}
