package dev.scalpel.app.cli;

import dev.scalpel.engine.edit.Edit;
import dev.scalpel.engine.infer.Generator;
import dev.scalpel.engine.infer.SamplingOptions;
import dev.scalpel.engine.model.LoadedModel;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code scalpel generate}: continue a prompt, greedy or sampled, with a KV cache. */
@Command(name = "generate", mixinStandardHelpOptions = true, description = "Continue a prompt with the model.")
final class GenerateCommand implements Callable<Integer> {
    @Mixin
    ModelOptions modelOptions;

    @Mixin
    RuntimeOptions runtimeOptions;

    @Mixin
    EditsOptions editsOptions;

    @Option(names = "--prompt", required = true, paramLabel = "TEXT", description = "The text to continue.")
    String prompt;

    @Option(names = "--max-new-tokens", defaultValue = "64", paramLabel = "N", description = "At most N new tokens (default: ${DEFAULT-VALUE}).")
    int maxNewTokens;

    @Option(names = "--temperature", defaultValue = "0", paramLabel = "T", description = "0 = greedy (default); > 0 samples.")
    double temperature;

    @Option(names = "--top-p", defaultValue = "1.0", paramLabel = "P", description = "Nucleus sampling mass (default: ${DEFAULT-VALUE}).")
    double topP;

    @Option(names = "--seed", defaultValue = "0", paramLabel = "S", description = "Sampling seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--steer", paramLabel = "VECTOR.gguf", description = "Add a control vector (from vectors steer) to the residual stream.")
    Path steer;

    @Option(names = "--steer-coef", defaultValue = "1.0", description = "Coefficient of --steer (default: ${DEFAULT-VALUE}; negative steers away).")
    double steerCoef;

    @Option(names = "--ignore-eos", description = "Generate exactly --max-new-tokens, past EOS (as benchmarks do).")
    boolean ignoreEos;

    @Option(names = "--json", description = "Print {prompt_ids, output_ids, text, seconds}; output_ids are only the generated ids, "
            + "seconds the generation alone (no model loading).")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        SamplingOptions options = new SamplingOptions(maxNewTokens, temperature, topP, seed, !ignoreEos);
        var out = spec.commandLine().getOut();
        try (LoadedModel m = LoadedModel.open(modelOptions.modelDir(), runtimeOptions.computeDevice())) {
            long[] promptIds = m.tokenizer().encodePrompt(prompt);
            List<Edit> edits = editsOptions.load(m);
            long[] outputIds;
            double seconds;
            try {
                var hooks = steer == null ? null : dev.scalpel.engine.steer.GgufControlVector.read(steer).hooks(steerCoef, m.model());
                long start = System.nanoTime();
                outputIds = new Generator(m.model(), null, hooks, EditsOptions.overlay(edits)).generate(promptIds, options, null);
                seconds = (System.nanoTime() - start) / 1e9;
            } finally {
                edits.forEach(Edit::close);
            }
            String text = m.tokenizer().decode(outputIds);
            if (json) {
                Map<String, Object> result = new LinkedHashMap<>();
                result.put("prompt_ids", promptIds);
                result.put("output_ids", outputIds);
                result.put("text", text);
                result.put("seconds", seconds);
                out.println(Json.write(result));
            } else {
                out.println(prompt + text);
            }
        }
        return 0;
    }
}
