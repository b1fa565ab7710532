package io.jointspace.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

class FileSystemVersionSourceTest {

  /** One call of {@link VersionSource.Target#setAspiredVersions}. */
  record Report(String model, List<AspiredVersion> versions) {
    List<Long> versionNumbers() {
      return versions.stream().map(a -> a.id().version()).toList();
    }
  }

  @TempDir Path repo;

  private final List<Report> reports = new CopyOnWriteArrayList<>();
  private final List<FileSystemVersionSource.ModelSource> models = new CopyOnWriteArrayList<>();
  private FileSystemVersionSource source;

  private ListAppender<ILoggingEvent> capture;

  @AfterEach
  void closeSource() {
    if (source != null) {
      source.close();
    }
    if (capture != null) {
      sourceLogger().detachAppender(capture);
    }
  }

  private void watch(String model, VersionPolicy policy) {
    models.add(new FileSystemVersionSource.ModelSource(model, repo.resolve(model), policy));
  }

  private void start() {
    source = new FileSystemVersionSource(repo, () -> List.copyOf(models), 0);
    source.start((model, versions) -> reports.add(new Report(model, List.copyOf(versions))));
  }

  private Path version(String model, String folder, String savedModelFile) throws IOException {
    Path dir = Files.createDirectories(repo.resolve(model).resolve(folder));
    if (savedModelFile != null) {
      Files.writeString(dir.resolve(savedModelFile), "graph of " + model + "/" + folder);
    }
    return dir;
  }

  private Path version(String model, long v) throws IOException {
    return version(model, Long.toString(v), "saved_model.pb");
  }

  private Report lastReport() {
    assertThat(reports).isNotEmpty();
    return reports.get(reports.size() - 1);
  }

  private static void deleteRecursively(Path dir) throws IOException {
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  @Test
  void start_reportsEachModelsVersions_withTheirFolders() throws IOException {
    Path v1 = version("clip", 1);
    Path v2 = version("clip", 2);
    watch("clip", new VersionPolicy.All());

    start();

    assertThat(reports).hasSize(1);
    Report r = reports.get(0);
    assertThat(r.model()).isEqualTo("clip");
    assertThat(r.versions())
        .extracting(AspiredVersion::id, AspiredVersion::path)
        .containsExactly(
            tuple(new ServableId("clip", 1), v1),
            tuple(new ServableId("clip", 2), v2));
    assertThat(r.versions()).allSatisfy(a -> assertThat(a.fingerprint()).isNotBlank());
  }

  @Test
  void nonNumericFoldersAndPlainFiles_areIgnored() throws IOException {
    version("clip", 1);
    version("clip", "abc", "saved_model.pb");
    version("clip", "1.5", "saved_model.pb");
    version("clip", "-2", "saved_model.pb");
    version("clip", ".7", "saved_model.pb");
    Files.writeString(repo.resolve("clip").resolve("3"), "a file named like a version");
    watch("clip", new VersionPolicy.All());

    start();

    assertThat(lastReport().versionNumbers()).containsExactly(1L);
  }

  @Test
  void textSavedModel_isAVersionLikeABinaryOne() throws IOException {
    version("clip", "4", "saved_model.pbtxt");
    version("clip", "5", "saved_model.pb");
    watch("clip", new VersionPolicy.All());

    start();

    assertThat(lastReport().versionNumbers()).containsExactly(4L, 5L);
  }

  /**
   * By design (see the class Javadoc), a numeric folder without a SavedModel file is still a
   * version: its load fails and it shows ERROR with the reason, rather than silently not
   * existing. Its fingerprint changes once the files arrive, which makes the manager retry.
   */
  @Test
  void numericFolderWithoutSavedModel_isStillReported_andItsFingerprintChangesWhenFilesArrive()
      throws IOException {
    version("clip", 1);
    Path incomplete = version("clip", "2", null);
    watch("clip", new VersionPolicy.All());
    start();
    assertThat(lastReport().versionNumbers()).containsExactly(1L, 2L);
    String before = lastReport().versions().get(1).fingerprint();

    Files.writeString(incomplete.resolve("saved_model.pb"), "now complete");
    source.scanNow();

    assertThat(reports).hasSize(2);
    assertThat(lastReport().versions().get(1).fingerprint()).isNotEqualTo(before);
  }

  @Test
  void leadingZeros_nameTheSameNumber() {
    assertThat(FileSystemVersionSource.parseVersion("00000123")).contains(123L);
    assertThat(FileSystemVersionSource.parseVersion("0")).contains(0L);
    assertThat(FileSystemVersionSource.parseVersion("")).isEmpty();
    assertThat(FileSystemVersionSource.parseVersion("12a")).isEmpty();
    assertThat(FileSystemVersionSource.parseVersion("+12")).isEmpty();
    assertThat(FileSystemVersionSource.parseVersion("1234567890123456789")).isEqualTo(Optional.empty());
  }

  @Test
  void versionPolicy_choosesWhichVersionsAreReported() throws IOException {
    version("clip", 1);
    version("clip", 2);
    version("clip", 3);
    version("siglip", 1);
    version("siglip", 2);
    watch("clip", VersionPolicy.latest());
    watch("siglip", new VersionPolicy.Specific(Set.of(1L)));

    start();

    assertThat(reports)
        .extracting(Report::model, Report::versionNumbers)
        .containsExactlyInAnyOrder(
            tuple("clip", List.of(3L)),
            tuple("siglip", List.of(1L)));
  }

  @Test
  void removedVersion_isReportedByLeavingItOut() throws IOException {
    version("clip", 1);
    Path v2 = version("clip", 2);
    watch("clip", new VersionPolicy.All());
    start();

    deleteRecursively(v2);
    source.scanNow();

    assertThat(reports).hasSize(2);
    assertThat(lastReport().versionNumbers()).containsExactly(1L);
  }

  @Test
  void newVersion_isReportedOnTheNextScan() throws IOException {
    version("clip", 1);
    watch("clip", VersionPolicy.latest());
    start();

    version("clip", 2);
    source.scanNow();

    assertThat(reports).extracting(Report::versionNumbers).containsExactly(List.of(1L), List.of(2L));
  }

  @Test
  void modelFolderThatDisappears_isReportedWithAnEmptyList() throws IOException {
    version("clip", 1);
    watch("clip", new VersionPolicy.All());
    start();

    deleteRecursively(repo.resolve("clip"));
    source.scanNow();

    assertThat(lastReport()).isEqualTo(new Report("clip", List.of()));
  }

  @Test
  void modelThatLeavesTheConfiguration_isReportedWithAnEmptyList_once() throws IOException {
    version("clip", 1);
    version("siglip", 1);
    watch("clip", new VersionPolicy.All());
    watch("siglip", new VersionPolicy.All());
    start();
    reports.clear();

    models.removeIf(m -> m.name().equals("siglip"));
    source.scanNow();
    source.scanNow();

    assertThat(reports).containsExactly(new Report("siglip", List.of()));
  }

  @Test
  void modelThatJoinsTheConfiguration_isReportedOnTheNextScan() throws IOException {
    version("clip", 1);
    version("siglip", 7);
    watch("clip", new VersionPolicy.All());
    start();
    reports.clear();

    watch("siglip", new VersionPolicy.All());
    source.scanNow();

    assertThat(reports).extracting(Report::model, Report::versionNumbers)
        .containsExactly(tuple("siglip", List.of(7L)));
  }

  @Test
  void unchangedRepository_isNotReportedAgain() throws IOException {
    version("clip", 1);
    watch("clip", new VersionPolicy.All());
    start();

    source.scanNow();
    source.scanNow();

    assertThat(reports).hasSize(1);
  }

  @Test
  void changedFilesInAVersion_areReportedWithANewFingerprint() throws IOException {
    Path v1 = version("clip", 1);
    watch("clip", new VersionPolicy.All());
    start();
    String before = lastReport().versions().get(0).fingerprint();

    Files.writeString(v1.resolve("saved_model.pb"), " and more", StandardOpenOption.APPEND);
    source.scanNow();

    assertThat(reports).hasSize(2);
    assertThat(lastReport().versionNumbers()).containsExactly(1L);
    assertThat(lastReport().versions().get(0).fingerprint()).isNotEqualTo(before);
  }

  @Test
  void fingerprint_changesWithFileCountSizeAndModificationTime() throws IOException {
    Path dir = version("clip", 1);
    String initial = FileSystemVersionSource.fingerprint(dir);
    assertThat(FileSystemVersionSource.fingerprint(dir)).isEqualTo(initial);

    Files.createDirectories(dir.resolve("variables"));
    String withFolder = FileSystemVersionSource.fingerprint(dir);
    assertThat(withFolder).isNotEqualTo(initial);

    Files.writeString(dir.resolve("variables/variables.index"), "index");
    String withFile = FileSystemVersionSource.fingerprint(dir);
    assertThat(withFile).isNotEqualTo(withFolder);

    Files.writeString(dir.resolve("variables/variables.index"), "INDEX");
    Files.setLastModifiedTime(
        dir.resolve("variables/variables.index"), FileTime.fromMillis(4_102_444_800_000L));
    assertThat(FileSystemVersionSource.fingerprint(dir)).isNotEqualTo(withFile);
  }

  @Test
  void fingerprintOfAMissingFolder_isUnreadable() {
    assertThat(FileSystemVersionSource.fingerprint(repo.resolve("nope"))).isEqualTo("unreadable");
  }

  @Test
  void scanBeforeStart_andSecondStart_areRefused() throws IOException {
    version("clip", 1);
    watch("clip", new VersionPolicy.All());
    FileSystemVersionSource unstarted = new FileSystemVersionSource(repo, () -> List.copyOf(models), 0);
    assertThatThrownBy(unstarted::scanNow).isInstanceOf(IllegalStateException.class);

    start();

    assertThatThrownBy(() -> source.start((m, v) -> {}))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("already started");
  }

  @Test
  void emptyRepository_isWarnedAbout_repeatedlyWhileItStaysEmpty_andNotOnceAModelArrives() throws IOException {
    ListAppender<ILoggingEvent> logged = captureWarnings();
    // repeat at every scan, so each scan of an empty repository warns again
    source = new FileSystemVersionSource(repo, () -> List.copyOf(models), 0, java.time.Duration.ZERO);
    source.start((model, versions) -> reports.add(new Report(model, List.copyOf(versions))));
    source.scanNow();
    assertThat(warnings(logged)).hasSize(2)
        .allSatisfy(m -> assertThat(m).contains("No models in the model repository " + repo));

    version("clip", 1);
    watch("clip", new VersionPolicy.All());
    source.scanNow();
    source.scanNow();
    assertThat(warnings(logged)).hasSize(2);
    assertThat(lastReport().versionNumbers()).containsExactly(1L);
  }

  @Test
  void savedModelOutsideAVersionFolder_isWarnedAboutOnce_untilTheRepeatInterval() throws IOException {
    ListAppender<ILoggingEvent> logged = captureWarnings();
    Path model = Files.createDirectories(repo.resolve("clip"));
    Files.writeString(model.resolve("saved_model.pb"), "graph");
    Files.createDirectories(repo.resolve("tools").resolve("src")); // no SavedModel: not warned about
    watch("clip", new VersionPolicy.All());
    watch("tools", new VersionPolicy.All());
    start(); // the default repeats a lasting warning once a minute
    source.scanNow();
    source.scanNow();
    assertThat(warnings(logged)).singleElement().asString()
        .contains("Model clip has no version to serve: " + model + " holds a SavedModel directly")
        .contains(model.resolve("1").toString());

    Files.move(model.resolve("saved_model.pb"), Files.createDirectories(model.resolve("1")).resolve("saved_model.pb"));
    source.scanNow();
    assertThat(lastReport().versionNumbers()).containsExactly(1L);
    Files.move(model.resolve("1").resolve("saved_model.pb"), model.resolve("saved_model.pb"));
    deleteRecursively(model.resolve("1"));
    source.scanNow();
    assertThat(warnings(logged)).as("warned again once it has no version again").hasSize(2);
  }

  @Test
  void configuredModelWhoseFolderIsMissing_orWhosePolicyChoosesNothing_isWarnedAbout() throws IOException {
    ListAppender<ILoggingEvent> logged = captureWarnings();
    version("clip", 1);
    watch("clip", new VersionPolicy.Specific(Set.of(7L)));
    watch("gone", new VersionPolicy.All());
    start();
    assertThat(warnings(logged)).containsExactlyInAnyOrder(
        "Model clip has no version to serve: its version policy chooses none of the version folders [1] under "
            + repo.resolve("clip"),
        "Model gone has no version to serve: its folder " + repo.resolve("gone") + " does not exist");
  }

  private ListAppender<ILoggingEvent> captureWarnings() {
    ListAppender<ILoggingEvent> appender = new ListAppender<>();
    appender.start();
    sourceLogger().addAppender(appender);
    capture = appender;
    return appender;
  }

  private static Logger sourceLogger() {
    return (Logger) LoggerFactory.getLogger(FileSystemVersionSource.class);
  }

  private static List<String> warnings(ListAppender<ILoggingEvent> appender) {
    return appender.list.stream().filter(e -> e.getLevel() == Level.WARN).map(ILoggingEvent::getFormattedMessage)
        .toList();
  }
}
