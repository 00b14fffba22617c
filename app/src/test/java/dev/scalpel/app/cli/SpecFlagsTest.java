package dev.scalpel.app.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.scalpel.app.SpecFields;
import dev.scalpel.engine.importance.HeadImportance;
import dev.scalpel.engine.importance.Normalization;
import dev.scalpel.engine.spec.ComponentsSpec;
import dev.scalpel.engine.spec.DecomposeSpec;
import dev.scalpel.engine.spec.ExportSpec;
import dev.scalpel.engine.spec.ImportanceSpec;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * Issue 13, the CLI side: every field of the export spec is a flag of {@code scalpel export}, and every field of the
 * importance and components specs a flag of {@code scalpel importance} (the training spec's fields are its JSON, bound
 * by the engine and checked there).
 */
class SpecFlagsTest {
    @Test
    void everyExportSpecFieldIsAFlag() {
        assertEquals(List.of(), missingFlags(ExportSpec.class, new ExportCommand()), "ExportSpec fields without a flag on scalpel export");
    }

    @Test
    void everyImportanceAndComponentsSpecFieldIsAFlagOfImportance() {
        assertEquals(List.of(), missingFlags(ImportanceSpec.class, new ImportanceCommand()),
                "ImportanceSpec fields without a flag on scalpel importance");
        assertEquals(List.of(), missingFlags(ComponentsSpec.class, new ImportanceCommand()),
                "ComponentsSpec fields without a flag on scalpel importance");
    }

    @Test
    void everyDecomposeSpecFieldIsAFlagOfDecompose() {
        assertEquals(List.of(), missingFlags(DecomposeSpec.class, new DecomposeCommand()), "DecomposeSpec fields without a flag");
        DecomposeCommand command = new DecomposeCommand();
        new CommandLine(command).parseArgs("--modules", "layers.5.self_attn.v_proj", "--components", "384", "--steps", "10",
                "--p-final", "0.4", "--out", "d.safetensors");
        assertEquals(new DecomposeSpec("layers.5.self_attn.v_proj", 384, 10, null, null, null, null, null, null, 0.4, null, null, null,
                "d.safetensors"), command.decomposeSpec());
    }

    /** The flags the command lacks for the record's fields ({@code cache} is found as the negatable --[no-]cache). */
    private static List<String> missingFlags(Class<?> record, Object command) {
        CommandLine.Model.CommandSpec spec = new CommandLine(command).getCommandSpec();
        return SpecFields.of(record).stream().map(SpecFields::flag).filter(flag -> spec.findOption(flag) == null).toList();
    }

    @Test
    void theImportanceFlagsBuildTheSpecTheyName() {
        ImportanceCommand command = new ImportanceCommand();
        new CommandLine(command).parseArgs("--method", "ablation-zero", "--agree-with", "gradient", "--contrast", "de-en",
                "--normalize", "rank", "--contrast-normalize", "raw", "--max-tokens", "300", "--context", "64",
                "--batch-size", "2", "--out", "m.json", "--no-cache", "--components", "layers.1.*", "--rank", "3",
                "--spd", "d.safetensors", "--inspect", "layers.1.self_attn.v_proj#2");
        assertEquals(new ImportanceSpec(HeadImportance.Method.ABLATION_ZERO, HeadImportance.Method.GRADIENT, "de-en",
                Normalization.GLOBAL_RANK, Normalization.RAW, 300, 64, 2, "m.json", false), command.importanceSpec());
        assertEquals(new ComponentsSpec("layers.1.*", 3, "d.safetensors", "layers.1.self_attn.v_proj#2"), command.componentsSpec());

        ImportanceCommand defaults = new ImportanceCommand();
        new CommandLine(defaults).parseArgs();
        assertEquals(ImportanceSpec.defaults(), defaults.importanceSpec());
        assertEquals(null, defaults.componentsSpec());
    }
}
