package dev.scalpel.engine.spec;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.scalpel.engine.api.ScalpelException;

/**
 * How to decompose weights into rank-1 subcomponents with causal-importance functions (SPD, arXiv 2506.20790): the
 * one description {@code scalpel decompose} (its flags are these fields) and the workbench's Decompose job both build.
 * Defaults are filled in and values checked on construction; the README explains each loss and what its coefficient
 * trades.
 *
 * @param modules             the matrices, a module glob (e.g. {@code layers.5.self_attn.v_proj})
 * @param components          subcomponents C per matrix (may exceed the matrix's rank)
 * @param steps               main training steps (after the warm-up)
 * @param warmupSteps         faithfulness-only steps first, fitting Σ U_c V_cᵀ to W (default 200)
 * @param batchSize           windows per step (default 8)
 * @param context             tokens per window, BOS included (default 128)
 * @param lr                  AdamW peak learning rate, cosine to 10 % (default 1e-3; weight decay 0)
 * @param seed                seed of the initialisation, the batches and the masks (default 0)
 * @param ciHidden            hidden width of each matrix's causal-importance MLP d_in → H → C (default 64)
 * @param pFinal              the importance-minimality exponent p, annealed from 2 to this (default 0.5)
 * @param importanceCoeff     weight of the importance-minimality loss Σ_c (g_c + ε)^p per token (default 1e-3)
 * @param faithfulnessCoeff   weight of the faithfulness loss ‖W − Σ U_c V_cᵀ‖² / numel (default 1e5)
 * @param checkpointEvery     steps between checkpoints of {@code out}, which a rerun resumes from (default 100)
 * @param out                 the decomposition file, NAME.safetensors
 */
public record DecomposeSpec(@JsonProperty("modules") String modules, @JsonProperty("components") Integer components,
                            @JsonProperty("steps") Integer steps, @JsonProperty("warmup_steps") Integer warmupSteps,
                            @JsonProperty("batch_size") Integer batchSize, @JsonProperty("context") Integer context,
                            @JsonProperty("lr") Double lr, @JsonProperty("seed") Long seed,
                            @JsonProperty("ci_hidden") Integer ciHidden, @JsonProperty("p_final") Double pFinal,
                            @JsonProperty("importance_coeff") Double importanceCoeff,
                            @JsonProperty("faithfulness_coeff") Double faithfulnessCoeff,
                            @JsonProperty("checkpoint_every") Integer checkpointEvery, @JsonProperty("out") String out) {
    public DecomposeSpec {
        steps = steps != null ? steps : 2000;
        warmupSteps = warmupSteps != null ? warmupSteps : 200;
        batchSize = batchSize != null ? batchSize : 8;
        context = context != null ? context : 128;
        lr = lr != null ? lr : 1e-3;
        seed = seed != null ? seed : 0L;
        ciHidden = ciHidden != null ? ciHidden : 64;
        pFinal = pFinal != null ? pFinal : 0.5;
        importanceCoeff = importanceCoeff != null ? importanceCoeff : 1e-3;
        faithfulnessCoeff = faithfulnessCoeff != null ? faithfulnessCoeff : 1e5;
        checkpointEvery = checkpointEvery != null ? checkpointEvery : 100;
        if (modules == null || modules.isBlank()) {
            throw new ScalpelException("Name the matrices to decompose (--modules, e.g. layers.5.self_attn.v_proj).");
        }
        if (components == null || components < 1) {
            throw new ScalpelException("components (--components) is " + components + "; give the number of subcomponents per "
                    + "matrix, e.g. 256 (it may exceed the matrix's rank).");
        }
        atLeast(steps, 1, "steps (--steps)");
        atLeast(warmupSteps, 0, "warmup_steps (--warmup-steps)");
        atLeast(batchSize, 1, "batch_size (--batch-size)");
        atLeast(context, 2, "context (--context)");
        atLeast(ciHidden, 1, "ci_hidden (--ci-hidden)");
        atLeast(checkpointEvery, 1, "checkpoint_every (--checkpoint-every)");
        positiveFinite(lr, "lr (--lr)");
        positiveFinite(importanceCoeff, "importance_coeff (--importance-coeff)");
        positiveFinite(faithfulnessCoeff, "faithfulness_coeff (--faithfulness-coeff)");
        if (!(pFinal > 0 && pFinal <= 2)) {
            throw new ScalpelException("p_final (--p-final) is " + pFinal + "; the exponent anneals from 2 down to a value in (0, 2], "
                    + "e.g. 0.5.");
        }
        if (out == null || !out.endsWith(".safetensors")) {
            throw new ScalpelException("A decomposition is written as NAME.safetensors (--out); got " + out + ".");
        }
    }

    /** The exponent p at main step {@code step} (0-based) of {@code steps}: linear from 2 to p_final. */
    public double pAt(long step) {
        return 2 + (pFinal - 2) * Math.min(1.0, step / (double) Math.max(1, steps - 1));
    }

    private static void atLeast(int value, int min, String field) {
        if (value < min) {
            throw new ScalpelException(field + " is " + value + "; it must be at least " + min + ".");
        }
    }

    private static void positiveFinite(double value, String field) {
        if (!(value > 0) || Double.isInfinite(value)) {
            throw new ScalpelException(field + " is " + value + "; it must be a positive number.");
        }
    }
}
