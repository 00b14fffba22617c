package dev.scalpel.app;

import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAPackage;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideOutsideOfPackage;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.lang.ArchRule;
import dev.scalpel.engine.archfixture.EngineClassUsingJavaFx;
import dev.scalpel.views.archfixture.ViewUsingEngineInternals;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The module rules of DESIGN.md: the engine never sees JavaFX; views see only the engine's api package. */
class ModuleBoundariesTest {
    static final ArchRule ENGINE_IS_UI_FREE = noClasses().that().resideInAPackage("dev.scalpel.engine..")
            .should().dependOnClassesThat().resideInAnyPackage("javafx..", "org.controlsfx..", "org.jfree..")
            .because("the engine must run headless and stay UI-free");

    static final ArchRule VIEWS_SEE_ONLY_ENGINE_API = noClasses().that().resideInAPackage("dev.scalpel.views..")
            .should().dependOnClassesThat(resideInAPackage("dev.scalpel.engine..")
                    .and(resideOutsideOfPackage("dev.scalpel.engine.api..")))
            .because("views are reusable controls fed by plain api records")
            .allowEmptyShould(true);

    static final ArchRule ENGINE_DOES_NOT_SEE_UPPER_MODULES = noClasses().that().resideInAPackage("dev.scalpel.engine..")
            .should().dependOnClassesThat().resideInAnyPackage("dev.scalpel.app..", "dev.scalpel.views..");

    static final ArchRule NO_LIBTORCH_ABOVE_THE_ENGINE = noClasses().that().resideInAnyPackage("dev.scalpel.app..", "dev.scalpel.views..")
            .should().dependOnClassesThat().resideInAPackage("org.bytedeco..")
            .because("tensor math and native memory belong to the engine; the app and views use its plain-Java API");

    static final ArchRule ENGINE_API_IS_PLAIN_JAVA = noClasses().that().resideInAPackage("dev.scalpel.engine.api..")
            .should().dependOnClassesThat().resideOutsideOfPackages("java..", "dev.scalpel.engine.api..")
            .because("engine-api is the module views may depend on without libtorch, Jackson or JavaFX");

    static final ArchRule UI_AND_CLI_ARE_FREE_OF_CYCLES = slices().matching("dev.scalpel.app.(*)..").should().beFreeOfCycles()
            .because("the workbench (ui) and the command line (cli) are two front ends over the engine");

    private static JavaClasses production;

    @BeforeAll
    static void importProductionClasses() {
        production = ProductionClasses.all();
    }

    @Test
    void engineDoesNotUseJavaFx() {
        ENGINE_IS_UI_FREE.check(production);
    }

    @Test
    void viewsSeeOnlyTheEngineApi() {
        VIEWS_SEE_ONLY_ENGINE_API.check(production);
    }

    @Test
    void engineDoesNotDependOnUpperModules() {
        ENGINE_DOES_NOT_SEE_UPPER_MODULES.check(production);
    }

    @Test
    void appAndViewsDoNoTensorMath() {
        NO_LIBTORCH_ABOVE_THE_ENGINE.check(production);
    }

    @Test
    void engineApiIsPlainJava() {
        ENGINE_API_IS_PLAIN_JAVA.check(production);
    }

    @Test
    void uiAndCliDoNotDependOnEachOtherInACycle() {
        UI_AND_CLI_ARE_FREE_OF_CYCLES.check(production);
    }

    @Test
    void theRulesCatchViolations() {
        JavaClasses violators = new ClassFileImporter().importClasses(EngineClassUsingJavaFx.class, ViewUsingEngineInternals.class);
        assertThrows(AssertionError.class, () -> ENGINE_IS_UI_FREE.check(violators));
        assertThrows(AssertionError.class, () -> VIEWS_SEE_ONLY_ENGINE_API.check(violators));
    }
}
