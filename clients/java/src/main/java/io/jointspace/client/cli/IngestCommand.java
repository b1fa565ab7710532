package io.jointspace.client.cli;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.protobuf.Struct;
import com.google.protobuf.util.JsonFormat;
import io.jointspace.api.v1.Item;
import io.jointspace.client.Ingest;
import io.jointspace.client.JointspaceClient;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code ingest COLLECTION PATH...}: folders of images (id: the path below the folder,
 * without its extension) and JSON Lines files of {@code {"id", "text" | "image_path",
 * "metadata"}} (an image_path relative to the file's folder). Items the collection holds
 * already are skipped, so an interrupted run continues where it stopped.
 */
@Command(name = "ingest", mixinStandardHelpOptions = true,
    description = "Bulk-load folders of images and JSON Lines files into a collection.")
final class IngestCommand extends Base implements java.util.concurrent.Callable<Integer> {
  private static final Set<String> IMAGES = Set.of("png", "jpg", "jpeg", "gif", "bmp");

  @Parameters(index = "0", paramLabel = "COLLECTION")
  String collection;

  @Parameters(index = "1..*", arity = "1..*", paramLabel = "PATH", description = "Folders of images, .jsonl files.")
  List<Path> paths;

  @Option(names = "--batch", defaultValue = "256", description = "Items per message. Default: ${DEFAULT-VALUE}.")
  int batch;

  @Option(names = "--streams", defaultValue = "2", description = "Streams at once. Default: ${DEFAULT-VALUE}.")
  int streams;

  @Option(names = "--no-resume", negatable = true, defaultValue = "true",
      description = "Write every item again, also those the collection holds already.")
  boolean resume;

  @Override
  public Integer call() {
    Progress progress = new Progress(spec.commandLine().getErr(), System.console() != null);
    Ingest.Options options = Ingest.Options.DEFAULT.withBatchItems(batch).withStreams(streams)
        .withSkipStored(resume).withProgress(progress::show);
    Ingest.Result r;
    try (JointspaceClient c = connect()) {
      r = c.ingest(collection, items(), options);
    }
    progress.done();
    if (out().json()) {
      JsonObject o = new JsonObject();
      o.addProperty("committed", r.committed());
      o.addProperty("skipped", r.skipped());
      o.addProperty("failed", r.failed());
      o.addProperty("seconds", r.elapsed().toMillis() / 1000.0);
      com.google.gson.JsonArray failures = new com.google.gson.JsonArray();
      r.failures().forEach(f -> {
        JsonObject fo = new JsonObject();
        fo.addProperty("items", f.items());
        fo.addProperty("first_id", f.firstId());
        fo.addProperty("reason", f.reason());
        failures.add(fo);
      });
      o.add("failures", failures);
      out().line(o.toString());
    } else {
      out().line(String.format(Locale.ROOT, "committed %d, skipped %d (stored already), failed %d in %.1f s",
          r.committed(), r.skipped(), r.failed(), r.elapsed().toMillis() / 1000.0));
      r.failures().forEach(f -> out().line("  failed: " + f.items() + " items from '" + f.firstId() + "': "
          + f.reason()));
    }
    return r.failed() > 0 ? 1 : 0;
  }

  /** Every item of every path, read lazily. */
  private Iterator<Item> items() {
    List<Iterator<Item>> parts = new ArrayList<>();
    for (Path p : paths) {
      if (Files.isDirectory(p)) {
        parts.add(folder(p));
      } else if (p.toString().endsWith(".jsonl") || p.toString().endsWith(".json")) {
        parts.add(jsonLines(p));
      } else {
        throw new IllegalArgumentException("ingest: " + p + " is neither a folder nor a .jsonl file");
      }
    }
    Iterator<Iterator<Item>> each = parts.iterator();
    return new Iterator<>() {
      private Iterator<Item> current = java.util.Collections.emptyIterator();

      @Override
      public boolean hasNext() {
        while (!current.hasNext() && each.hasNext()) {
          current = each.next();
        }
        return current.hasNext();
      }

      @Override
      public Item next() {
        if (!hasNext()) {
          throw new NoSuchElementException();
        }
        return current.next();
      }
    };
  }

  private static Iterator<Item> folder(Path dir) {
    List<Path> files;
    try (Stream<Path> s = Files.walk(dir)) {
      files = s.filter(Files::isRegularFile).filter(f -> IMAGES.contains(extension(f))).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read folder " + dir + ": " + e.getMessage(), e);
    }
    return files.stream().map(f -> {
      String rel = dir.relativize(f).toString();
      return Item.newBuilder().setId(rel.substring(0, rel.lastIndexOf('.')))
          .setInput(JointspaceClient.image(f)).build();
    }).iterator();
  }

  private static Iterator<Item> jsonLines(Path file) {
    BufferedReader reader;
    try {
      reader = Files.newBufferedReader(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
    }
    return new Iterator<>() {
      private Item next = read();
      private int line;

      private Item read() {
        try {
          String s;
          while ((s = reader.readLine()) != null) {
            line++;
            if (!s.isBlank()) {
              return item(file, line, JsonParser.parseString(s));
            }
          }
          reader.close();
          return null;
        } catch (IOException e) {
          throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
      }

      @Override
      public boolean hasNext() {
        return next != null;
      }

      @Override
      public Item next() {
        if (next == null) {
          throw new NoSuchElementException();
        }
        Item out = next;
        next = read();
        return out;
      }
    };
  }

  private static Item item(Path file, int line, JsonElement json) {
    String where = file + ":" + line;
    if (!json.isJsonObject() || !json.getAsJsonObject().has("id")) {
      throw new IllegalArgumentException(where + ": each line is an object with \"id\"");
    }
    JsonObject o = json.getAsJsonObject();
    Item.Builder b = Item.newBuilder().setId(o.get("id").getAsString());
    if (o.has("text")) {
      b.setInput(JointspaceClient.text(o.get("text").getAsString()));
    } else if (o.has("image_path")) {
      Path image = file.toAbsolutePath().getParent().resolve(o.get("image_path").getAsString());
      b.setInput(JointspaceClient.image(image));
    } else {
      throw new IllegalArgumentException(where + ": give \"text\" or \"image_path\"");
    }
    if (o.has("metadata")) {
      Struct.Builder m = Struct.newBuilder();
      try {
        JsonFormat.parser().merge(o.get("metadata").toString(), m);
      } catch (com.google.protobuf.InvalidProtocolBufferException e) {
        throw new IllegalArgumentException(where + ": metadata: " + e.getMessage());
      }
      b.setMetadata(m);
    }
    return b.build();
  }

  private static String extension(Path f) {
    String n = f.getFileName().toString();
    int dot = n.lastIndexOf('.');
    return dot < 0 ? "" : n.substring(dot + 1).toLowerCase(Locale.ROOT);
  }

  /** A progress bar on a terminal (one line, redrawn), else a line every 5 s. */
  static final class Progress {
    private final java.io.PrintWriter err;
    private final boolean terminal;
    private long lastLine;

    Progress(java.io.PrintWriter err, boolean terminal) {
      this.err = err;
      this.terminal = terminal;
    }

    synchronized void show(Ingest.Progress p) {
      String text = String.format(Locale.ROOT, "%d committed, %d skipped, %d failed, %.0f items/s, %s",
          p.committed(), p.skipped(), p.failed(), p.itemsPerSecond(), format(p.elapsed()));
      if (terminal) {
        err.print("\r" + text + "   ");
        err.flush();
      } else if (System.nanoTime() - lastLine > 5_000_000_000L) {
        lastLine = System.nanoTime();
        err.println(text);
      }
    }

    synchronized void done() {
      if (terminal) {
        err.println();
      }
    }

    private static String format(Duration d) {
      return String.format(Locale.ROOT, "%d:%02d elapsed", d.toMinutes(), d.toSecondsPart());
    }
  }
}
