package dev.scalpel.app.ui.components;

import dev.scalpel.app.ui.jobs.Job;
import dev.scalpel.app.ui.jobs.JobContext;
import dev.scalpel.engine.components.ComponentInspector;
import dev.scalpel.engine.components.Decompositions;
import dev.scalpel.engine.components.RankOneDecomposition;
import dev.scalpel.engine.spec.ComponentsSpec;
import dev.scalpel.engine.model.LoadedModel;
import dev.scalpel.engine.model.TextTokenizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CancellationException;

/**
 * What makes one component fire: for each given text, the tokens where component {@code index} of a module's
 * components (its SVD, or a decomposition file's) activates most, each with the few tokens before it, as lines for a details area
 * ({@code "  +3.214  'und' ← 'Der Hund '"}, grouped under the text's name).
 */
final class ComponentInspectionJob implements Job<List<String>> {
    /** Tokens shown before each top-activating token. */
    static final int CONTEXT_TOKENS = 6;
    /** Top activations listed per text. */
    static final int TOP = 8;

    private final LoadedModel model;
    private final ComponentsSpec spec;
    private final int index;
    private final List<ComponentContrastJob.Text> texts;
    private final int window;

    /** @param spec one module (its full name), the rank, and the decomposition file or null for an SVD */
    ComponentInspectionJob(LoadedModel model, ComponentsSpec spec, int index, List<ComponentContrastJob.Text> texts, int window) {
        this.model = model;
        this.spec = spec;
        this.index = index;
        this.texts = List.copyOf(texts);
        this.window = window;
    }

    @Override
    public String title() {
        return "Inspect component #" + index + " of " + spec.components();
    }

    @Override
    public List<String> run(JobContext context) {
        TextTokenizer tokenizer = model.tokenizer();
        List<String> lines = new ArrayList<>();
        try (Decompositions found = spec.decompositions(model.model())) {
            RankOneDecomposition d = found.single();
            for (int i = 0; i < texts.size(); i++) {
                if (context.cancelled()) {
                    throw new CancellationException("inspection cancelled");
                }
                ComponentContrastJob.Text text = texts.get(i);
                context.progress(i / (double) texts.size(), "top activations on " + text.name());
                lines.add(text.name() + ":");
                for (var a : ComponentInspector.top(model.model(), d, index, text.tokens(), tokenizer.bosForPrompts(),
                        window, CONTEXT_TOKENS, TOP)) {
                    lines.add(String.format(Locale.ROOT, "  %+8.3f  %s ← %s", a.value(),
                            quote(tokenizer.decode(new long[] {a.token()})), quote(tokenizer.decode(a.context()))));
                }
            }
        }
        context.progress(1, "done");
        return lines;
    }

    /** A token's text in quotes, line breaks shown as ⏎ so that one activation stays one line. */
    private static String quote(String s) {
        return "'" + s.replace("\n", "⏎") + "'";
    }
}
