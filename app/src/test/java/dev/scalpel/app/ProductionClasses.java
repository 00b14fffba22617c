package dev.scalpel.app;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;

/** Every production class of every module, for the ArchUnit rules (imported once per test run). */
final class ProductionClasses {
    private static JavaClasses classes;

    private ProductionClasses() {}

    static synchronized JavaClasses all() {
        if (classes == null) {
            classes = new ClassFileImporter()
                    .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                    .withImportOption(location -> !location.contains("-tests.jar"))   // the engine's test fixtures jar
                    .importPackages("dev.scalpel");
        }
        return classes;
    }
}
