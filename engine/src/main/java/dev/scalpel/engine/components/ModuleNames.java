package dev.scalpel.engine.components;

import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.model.Weights;
import java.util.List;
import java.util.OptionalInt;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Module names are Hugging Face weight names without {@code .weight} ({@code model.layers.3.self_attn.v_proj}).
 * Users select them with a glob where {@code *} matches any characters, matched against the end of the name, so
 * {@code layers.3.self_attn.v_proj} and {@code layers.*.mlp.down_proj} work without the {@code model.} prefix.
 */
public final class ModuleNames {
    private static final Pattern LAYER = Pattern.compile("(?:^|\\.)(?:layers|h)\\.(\\d+)\\.");

    private ModuleNames() {}

    /** Every matrix module whose name matches {@code glob}, in weight order. */
    public static List<String> matching(Weights weights, String glob) {
        Pattern p = Pattern.compile("(?:^|.*\\.)" + glob.replace(".", "\\.").replace("*", ".*") + "$");
        List<String> found = weights.asMap().entrySet().stream()
                .filter(e -> e.getKey().endsWith(".weight") && e.getValue().dim() == 2)
                .map(e -> e.getKey().substring(0, e.getKey().length() - ".weight".length()))
                .filter(name -> p.matcher(name).matches())
                .toList();
        if (found.isEmpty()) {
            throw new ScalpelException("No matrix module matches '" + glob + "'; modules are named like "
                    + "layers.3.self_attn.v_proj or layers.*.mlp.down_proj (see scalpel info).");
        }
        return found;
    }

    /** The block a module belongs to, or empty for embeddings and the unembedding. */
    public static OptionalInt layerOf(String module) {
        Matcher m = LAYER.matcher(module);
        return m.find() ? OptionalInt.of(Integer.parseInt(m.group(1))) : OptionalInt.empty();
    }
}
