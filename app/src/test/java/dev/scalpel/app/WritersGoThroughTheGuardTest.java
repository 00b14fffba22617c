package dev.scalpel.app;

import static com.tngtech.archunit.core.domain.JavaCall.Predicates.target;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.equivalentTo;
import static com.tngtech.archunit.core.domain.properties.HasName.Predicates.nameMatching;
import static com.tngtech.archunit.core.domain.properties.HasOwner.Predicates.With.owner;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.lang.ArchRule;
import dev.scalpel.engine.files.AtomicFiles;
import dev.scalpel.engine.files.Output;
import dev.scalpel.engine.model.safetensors.SafetensorsWriter;
import java.io.FileOutputStream;
import java.io.FileWriter;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 21: every file Scalpel writes goes through the engine's output guard. The only code that opens a file for
 * writing is {@link AtomicFiles} (and FolderStaging renames a staged folder into place); it is called only by {@link Output} (handed out by the guard, whose constructor is
 * not public) and by {@link SafetensorsWriter}, which in turn only {@link Output} calls. Checked on the bytecode of
 * every production class, so a fully qualified call or a new writer cannot slip past.
 */
class WritersGoThroughTheGuardTest {
    static final ArchRule ONLY_ATOMIC_FILES_OPENS_FILES_FOR_WRITING = noClasses()
            .that().doNotHaveFullyQualifiedName(AtomicFiles.class.getName())
            .and().doNotHaveFullyQualifiedName("dev.scalpel.engine.files.FolderStaging")   // renames a staged folder into place
            .should().callMethodWhere(target(owner(equivalentTo(Files.class)))
                    .and(target(nameMatching("write|writeString|newOutputStream|newBufferedWriter|copy|move|createTempFile"))))
            .orShould().accessField(StandardOpenOption.class, "WRITE")
            .orShould().accessField(StandardOpenOption.class, "APPEND")
            .orShould().accessField(StandardOpenOption.class, "CREATE")
            .orShould().accessField(StandardOpenOption.class, "CREATE_NEW")
            .orShould().dependOnClassesThat().belongToAnyOf(FileOutputStream.class, FileWriter.class, RandomAccessFile.class)
            .orShould().callMethodWhere(target(owner(equivalentTo(ImageIO.class))).and(target(nameMatching("write"))))
            .orShould().callMethodWhere(target(nameMatching("save.*")).and(target(owner(nameMatching("org\\.jfree\\..*")))))
            .because("writes are atomic and checked by OutputGuard; ask it for an Output instead");

    static final ArchRule ATOMIC_FILES_IS_REACHED_ONLY_THROUGH_AN_OUTPUT = noClasses()
            .that().doNotHaveFullyQualifiedName(Output.class.getName())
            .and().doNotHaveFullyQualifiedName(SafetensorsWriter.class.getName())
            .should().callMethodWhere(target(owner(equivalentTo(AtomicFiles.class))).and(target(nameMatching("write"))))
            .because("an Output is the permit OutputGuard gives after checking the path");

    static final ArchRule SAFETENSORS_ARE_WRITTEN_ONLY_THROUGH_AN_OUTPUT = noClasses()
            .that().doNotHaveFullyQualifiedName(Output.class.getName())
            .and().doNotHaveFullyQualifiedName(SafetensorsWriter.class.getName())   // its overloads call each other
            .should().callMethodWhere(target(owner(equivalentTo(SafetensorsWriter.class))).and(target(nameMatching("write"))))
            .because("an Output is the permit OutputGuard gives after checking the path");

    private static JavaClasses production;

    @BeforeAll
    static void importProductionClasses() {
        production = ProductionClasses.all();
    }

    @Test
    void onlyAtomicFilesOpensFilesForWriting() {
        ONLY_ATOMIC_FILES_OPENS_FILES_FOR_WRITING.check(production);
    }

    @Test
    void atomicFilesIsReachedOnlyThroughAnOutput() {
        ATOMIC_FILES_IS_REACHED_ONLY_THROUGH_AN_OUTPUT.check(production);
    }

    @Test
    void safetensorsAreWrittenOnlyThroughAnOutput() {
        SAFETENSORS_ARE_WRITTEN_ONLY_THROUGH_AN_OUTPUT.check(production);
    }

    /** The rules catch what they are for: a class that writes a file directly. */
    @Test
    void theRulesCatchADirectWrite() {
        JavaClasses offender = new ClassFileImporter().importClasses(DirectWriter.class);
        assertThrows(AssertionError.class, () -> ONLY_ATOMIC_FILES_OPENS_FILES_FOR_WRITING.check(offender));
        JavaClasses bypass = new ClassFileImporter().importClasses(GuardBypass.class);
        assertThrows(AssertionError.class, () -> ATOMIC_FILES_IS_REACHED_ONLY_THROUGH_AN_OUTPUT.check(bypass));
    }

    static final class DirectWriter {
        void write(Path p) throws java.io.IOException {
            Files.writeString(p, "x");
        }
    }

    static final class GuardBypass {
        void write(Path p) {
            AtomicFiles.write(p, channel -> { });
        }
    }
}
