package dev.scalpel.app.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.scalpel.app.SpecFields;
import dev.scalpel.engine.spec.ExportSpec;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * Issue 13, the CLI side: every field of the export spec is a flag of {@code scalpel export} (the training spec's
 * fields are its JSON, bound by the engine and checked there).
 */
class SpecFlagsTest {
    @Test
    void everyExportSpecFieldIsAFlag() {
        CommandLine.Model.CommandSpec export = new CommandLine(new ExportCommand()).getCommandSpec();
        List<String> missing = SpecFields.of(ExportSpec.class).stream().map(SpecFields::flag)
                .filter(flag -> export.findOption(flag) == null).toList();
        assertEquals(List.of(), missing, "ExportSpec fields without a flag on scalpel export");
    }
}
