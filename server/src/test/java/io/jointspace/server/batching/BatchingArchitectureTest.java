package io.jointspace.server.batching;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/** The batching library knows nothing of the server: the JDK and jsr305 annotations only. */
class BatchingArchitectureTest {
  @Test
  void batching_dependsOnlyOnTheJdk() {
    JavaClasses batching = new ClassFileImporter()
        .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
        .importPackages("io.jointspace.server.batching");

    classes().should().onlyDependOnClassesThat().resideInAnyPackage(
            "io.jointspace.server.batching..", "java..", "javax.annotation..")
        .check(batching);
  }
}
