package io.jointspace.server;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Keeps the dependency directions of DESIGN.md true. */
class ArchitectureTest {
  static JavaClasses classes;

  @BeforeAll
  static void importClasses() {
    classes = new ClassFileImporter()
        .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
        .importPackages("io.jointspace");
  }

  @Test
  void registry_importsNoGrpcTensorFlowOrSql() {
    noClasses().that().resideInAPackage("io.jointspace.registry..")
        .should().dependOnClassesThat().resideInAnyPackage("io.grpc..", "org.tensorflow..", "java.sql..", "io.jointspace.server..")
        .check(classes);
  }

  @Test
  void runtime_importsNoGrpcNoSqlAndNoApiClasses() {
    noClasses().that().resideInAPackage("io.jointspace.server.runtime..")
        .should().dependOnClassesThat().resideInAnyPackage("io.grpc..", "java.sql..", "io.jointspace.api..",
            "io.jointspace.server.api..")
        .check(classes);
  }

  @Test
  void store_importsNoTensorFlowGrpcRuntimeOrApi() {
    noClasses().that().resideInAPackage("io.jointspace.server.store..")
        .should().dependOnClassesThat().resideInAnyPackage("org.tensorflow..", "io.grpc..", "io.jointspace.api..",
            "io.jointspace.server.api..", "io.jointspace.server.runtime..", "io.jointspace.server.batching..")
        .check(classes);
  }

  @Test
  void rollout_usesStoreAndRuntime_notGrpcSqlOrTensorFlow() {
    // (the batching library's exceptions reach it through the runtime: a full queue, a deadline)
    noClasses().that().resideInAPackage("io.jointspace.server.rollout..")
        .should().dependOnClassesThat().resideInAnyPackage("org.tensorflow..", "io.grpc..", "java.sql..",
            "io.jointspace.api..", "io.jointspace.server.api..")
        .check(classes);
    noClasses().that().resideInAnyPackage("io.jointspace.server.store..", "io.jointspace.server.runtime..")
        .should().dependOnClassesThat().resideInAPackage("io.jointspace.server.rollout..")
        .check(classes);
  }

  @Test
  void onlyTheApiLayerAndItsHttpGateway_touchGeneratedApiClasses() {
    noClasses().that().resideInAPackage("io.jointspace.server..")
        .and().resideOutsideOfPackages("io.jointspace.server.api..", "io.jointspace.server.http..")
        .should().dependOnClassesThat().resideInAnyPackage("io.jointspace.api..")
        .check(classes);
  }

  /**
   * The HTTP port is a gateway: it reaches the server only through gRPC calls, so it cannot
   * skip the checks the services and their interceptors make.
   */
  @Test
  void http_callsTheGrpcServices_andUsesNothingBehindThem() {
    noClasses().that().resideInAPackage("io.jointspace.server.http..")
        .should().dependOnClassesThat().resideInAnyPackage("io.jointspace.server.api..",
            "io.jointspace.server.runtime..", "io.jointspace.server.store..", "io.jointspace.server.batching..",
            "io.jointspace.server.rollout..", "io.jointspace.server.auth..", "io.jointspace.registry..",
            "org.tensorflow..", "java.sql..")
        .check(classes);
    noClasses().that().resideOutsideOfPackage("io.jointspace.server.http..")
        .and().resideOutsideOfPackage("io.jointspace.server")
        .should().dependOnClassesThat().resideInAPackage("io.jointspace.server.http..")
        .check(classes);
  }

  /**
   * The encode ladder reads top down: {@code ModelVersion -> EncodeCall -> Signatures ->
   * SignatureQueue -> SavedModel}, with the {@code Encoder} beside it preparing inputs and
   * finishing vectors; no class on it calls a class above it.
   */
  @Test
  void runtime_ladderHasNoCallsBackUp() {
    String pkg = "io.jointspace.server.runtime.";
    String[][] below = {
        {"SavedModel", "ModelVersion", "EncodeCall", "Signatures", "SignatureQueue", "Encoder"},
        {"SignatureQueue", "ModelVersion", "EncodeCall", "Signatures", "Encoder"},
        {"Signatures", "ModelVersion", "EncodeCall"},
        {"EncodeCall", "ModelVersion"},
        {"Encoder", "ModelVersion", "EncodeCall", "Signatures", "SignatureQueue"},
    };
    for (String[] rule : below) {
      List<String> above = Arrays.stream(rule, 1, rule.length).map(name -> pkg + name).toList();
      noClasses().that().haveFullyQualifiedName(pkg + rule[0])
          .should().dependOnClassesThat(DescribedPredicate.describe("above " + rule[0] + " " + above,
              (JavaClass c) -> above.contains(c.getName())))
          .check(classes);
    }
  }

  @Test
  void errors_dependOnNothingOfTheServer() {
    noClasses().that().resideInAPackage("io.jointspace.server.errors..")
        .should().dependOnClassesThat().resideInAnyPackage("io.jointspace..", "io.grpc..", "org.tensorflow..", "java.sql..")
        .check(classes);
  }
}
