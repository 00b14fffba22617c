package dev.scalpel.engine.sample;

import dev.scalpel.engine.api.LanguageLoss;
import dev.scalpel.engine.model.ModelConfig;
import dev.scalpel.engine.train.Apollo;
import dev.scalpel.engine.train.Pretrainer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Renders the sample model's MODEL_CARD.md from its measurements and training state. */
public final class ModelCardMarkdown {
    private ModelCardMarkdown() {}

    /** @param name the model folder's name, e.g. polyglot-tiny (the bundled one) */
    public static String render(String name, SampleModelCard.Measurements m, Pretrainer.TrainerState state, SampleModelRecipe.Options recipe) {
        ModelConfig c = m.config();
        StringBuilder md = new StringBuilder();
        double lnV = Math.log(c.vocabSize());
        md.append("# ").append(name).append(name.equals("polyglot-tiny") ? " — Scalpel's bundled sample model\n\n"
                : " — a sample model Scalpel trained itself\n\n")
          .append("A small multilingual Llama trained by Scalpel itself (`scalpel build-sample`) on ").append(sourcesText(recipe))
          .append(", so that every demo, test and the workbench have a real model whose heads can ")
          .append("specialise by language. It is a research toy: it has seen a few million tokens of man pages, GNOME ")
          .append("help, Debian docs, fortunes and JDK sources, and it writes accordingly.\n\n");

        md.append("## Architecture\n\n| | |\n|---|---|\n")
          .append(row("architecture", "Llama (`LlamaForCausalLM`): RMSNorm, RoPE (θ " + (long) c.ropeTheta() + "), SwiGLU MLP"))
          .append(row("layers × heads", c.numLayers() + " × " + c.numHeads() + " (kv heads " + c.numKvHeads() + ", no GQA; head_dim " + c.headDim() + ")"))
          .append(row("d_model / MLP", c.hiddenSize() + " / " + c.intermediateSize()))
          .append(row("vocabulary", c.vocabSize() + " (byte-level BPE trained by Scalpel on the same corpora; `<|bos|>` 0, `<|eos|>` 1, `<|pad|>` 2)"))
          .append(row("context", c.maxPositions() + " tokens"))
          .append(row("embeddings", c.tieWordEmbeddings() ? "tied" : "separate"))
          .append(row("parameters", String.format(Locale.ROOT, "%,d", m.parameters())))
          .append(row("weights", "float32 safetensors"))
          .append('\n');

        md.append("## Training\n\n| | |\n|---|---|\n")
          .append(row("data", "`../shared/corpora` train splits of en, de, fr, es, code (see `DATA.md` for sources and licenses)"))
          .append(row("mix", mixText(recipe)))
          .append(row("tokens seen", String.format(Locale.ROOT, "%,d (%d steps × %d rows × %d tokens)",
                  state.tokens(), state.step(), state.batchSize(), state.context())))
          .append(row("optimizer", String.format(Locale.ROOT, "%s (β 0.9/0.95, weight decay 0.1 on matrices), peak lr %.0e, "
                  + "100 warm-up steps, cosine to 10 %%, gradient clipping at 1.0; state %s", optimizerText(recipe), recipe.lr(),
                  stateText(state))))
          .append(row("seed", Long.toString(state.seed())))
          .append(row("training time", String.format(Locale.ROOT, "%.1f minutes on 2 CPU cores (MKL)", state.seconds() / 60)))
          .append(row("recipe", "`./scalpel build-sample --out DIR --tokens " + recipe.tokens() + mixFlag(recipe) + optimizerFlags(recipe)
                  + " --threads 2` (rerun resumes)"))
          .append('\n');

        md.append("## Validation cross-entropy (nats per token)\n\n")
          .append("On `eval/<lang>.txt` (the first ≈64 KB of each corpus's valid split, never trained on), in windows of ")
          .append(c.maxPositions()).append(" tokens with BOS. The unigram baseline is the cross-entropy of the add-one-smoothed ")
          .append("token frequencies of that language's training text; ln V is a uniform guess.\n\n")
          .append("| text | tokens | model CE | unigram CE | ln V | model / ln V |\n|---|---|---|---|---|---|\n");
        for (var e : m.validation().entrySet()) {
            LanguageLoss l = e.getValue();
            md.append(String.format(Locale.ROOT, "| %s | %,d | **%.3f** | %.3f | %.3f | %.2f |%n",
                    e.getKey(), l.tokens(), l.ce(), m.unigram().get(e.getKey()), lnV, l.ce() / lnV));
        }

        md.append("\n## Greedy continuations\n\n40 new tokens, temperature 0, from a prompt in each language:\n\n");
        m.samples().forEach((lang, text) -> md.append("- **").append(lang).append("**: `")
                .append(text.replace("`", "'").replace("\n", "⏎")).append("`\n"));

        md.append("\n## Do heads specialise? Ablating one head at a time\n\n")
          .append(String.format(Locale.ROOT, "ΔCE (nats) on the first %d tokens of German and of English validation text when one ",
                  SampleModelCard.ABLATION_TOKENS))
          .append(String.format(Locale.ROOT, "head's gate is set to 0 (base CE: de %.3f, en %.3f). Each cell: `ΔCE de / ΔCE en`; ", m.baseDe(), m.baseEn()))
          .append("**bold** where the German damage is at least twice the English one and above 0.01.\n\n| layer |");
        for (int h = 0; h < c.numHeads(); h++) {
            md.append(" H").append(h).append(" |");
        }
        md.append("\n|---|");
        md.append("---|".repeat(c.numHeads()));
        md.append('\n');
        for (int l = 0; l < c.numLayers(); l++) {
            md.append("| L").append(l).append(" |");
            for (int h = 0; h < c.numHeads(); h++) {
                double de = m.ablationDe()[l][h], en = m.ablationEn()[l][h];
                String cell = String.format(Locale.ROOT, "%+.3f / %+.3f", de, en);
                boolean germanHead = de > 0.01 && de >= 2 * Math.max(en, 0);
                md.append(' ').append(germanHead ? "**" + cell + "**" : cell).append(" |");
            }
            md.append('\n');
        }
        md.append("\nRerun these measurements with `./scalpel build-sample --out DIR --card-only`.\n");
        return md.toString();
    }

    private static String row(String key, String value) {
        return "| " + key + " | " + value + " |\n";
    }

    /** "equal: …" or the shares, e.g. "70 % en, 10 % de, 10 % fr, 10 % es, 0 % code". */
    /** " --mix en=0.6,de=0.2,…" for a model built with one, else "". */
    private static String mixFlag(SampleModelRecipe.Options recipe) {
        if (recipe.mix() == null) {
            return "";
        }
        StringBuilder flag = new StringBuilder(" --mix ");
        recipe.mix().forEach((s, share) -> flag.append(flag.length() == 7 ? "" : ",").append(s).append('=').append(share));
        return flag.toString();
    }

    /** "English, German, French, Spanish and Java code" (equal mix), or with a --mix the sources it draws and their shares. */
    private static String sourcesText(SampleModelRecipe.Options recipe) {
        Map<String, String> names = Map.of("en", "English", "de", "German", "fr", "French", "es", "Spanish", "code", "Java code");
        List<String> parts = new ArrayList<>();
        recipe.shares().forEach((source, share) -> {
            if (share > 0) {
                String name = names.getOrDefault(source, source);
                parts.add(recipe.mix() == null ? name : String.format(Locale.ROOT, "%s (%.0f %%)", name, 100 * share));
            }
        });
        return parts.size() == 1 ? parts.get(0)
                : String.join(", ", parts.subList(0, parts.size() - 1)) + " and " + parts.get(parts.size() - 1);
    }

    private static String optimizerText(SampleModelRecipe.Options recipe) {
        Apollo.Options a = recipe.apollo();
        if (a == null) {
            return "AdamW";
        }
        return String.format(Locale.ROOT, "%s on the attention and MLP matrices (rank %d, %s scaling, α %s, projection redrawn "
                + "every %d steps, γ %.2f), AdamW on embeddings and norms", a.tensorWise() ? "APOLLO-Mini" : "APOLLO", a.rank(),
                a.tensorWise() ? "tensor-wise" : "channel-wise", a.scale().isPresent() ? Double.toString(a.scale().getAsDouble()) : "√(k/r)",
                a.refreshPeriod(), a.normGrowthLimit());
    }

    private static String stateText(Pretrainer.TrainerState state) {
        if (state.adamwStateBytes() == 0) {
            return "not recorded (a checkpoint from before Scalpel recorded it)";
        }
        return String.format(Locale.ROOT, "%.1f MB (AdamW's for the same weights: %.1f MB)", state.optimizerStateBytes() / 1e6,
                state.adamwStateBytes() / 1e6);
    }

    private static String optimizerFlags(SampleModelRecipe.Options recipe) {
        Apollo.Options a = recipe.apollo();
        if (a == null) {
            return "";
        }
        return " --optimizer " + (a.tensorWise() ? "apollo-mini" : "apollo") + " --apollo-rank " + a.rank()
                + (a.scale().isPresent() ? " --apollo-scale " + a.scale().getAsDouble() : "");
    }

    private static String mixText(SampleModelRecipe.Options recipe) {
        StringBuilder shares = new StringBuilder();
        recipe.shares().forEach((s, share) -> shares.append(shares.length() == 0 ? "" : ", ")
                .append(String.format(Locale.ROOT, "%.0f %% %s", 100 * share, s)));
        return (recipe.mix() == null ? "equal: " : "") + "each training row draws its source with these probabilities (" + shares + ")";
    }
}
