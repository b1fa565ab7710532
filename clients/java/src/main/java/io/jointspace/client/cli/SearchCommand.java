package io.jointspace.client.cli;

import com.google.protobuf.util.JsonFormat;
import io.jointspace.api.v1.Hit;
import io.jointspace.api.v1.SearchResponse;
import io.jointspace.client.JointspaceClient;
import io.jointspace.client.Search;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code search COLLECTION --text|--image|--id ... [--filter EXPR] [--top-k N] [--ef-search N]}. */
@Command(name = "search", mixinStandardHelpOptions = true, description = "Nearest items to a text, an image or a stored item.")
final class SearchCommand extends Base implements Runnable {
  @Parameters(paramLabel = "COLLECTION")
  String collection;

  @ArgGroup(exclusive = true, multiplicity = "1")
  Query query;

  static final class Query {
    @Option(names = "--text", description = "Query text.")
    String text;

    @Option(names = "--image", description = "Query image file.")
    Path image;

    @Option(names = "--id", description = "A stored item's id (left out of the hits).")
    String id;
  }

  @Option(names = "--filter", description = "e.g. 'color = blue and n >= 10', 'shape in (star, circle)'.")
  String filter;

  @Option(names = "--top-k", defaultValue = "10", description = "Default: ${DEFAULT-VALUE}.")
  int topK;

  @Option(names = "--ef-search", defaultValue = "0",
      description = "HNSW candidate list size, 1 to 1000: higher is more exact and slower. Default: the server's choice.")
  int efSearch;

  @Option(names = "--model-version", defaultValue = "0",
      description = "During a rollout: search this version instead of the collection's.")
  long modelVersion;

  @Override
  public void run() {
    try (JointspaceClient c = connect()) {
      Search s = c.search(collection).topK(topK).efSearch(efSearch).modelVersion(modelVersion);
      if (query.text != null) {
        s.text(query.text);
      } else if (query.image != null) {
        s.image(query.image);
      } else {
        s.id(query.id);
      }
      if (filter != null) {
        s.filter(FilterExpression.parse(filter));
      }
      SearchResponse r = s.run();
      List<List<String>> rows = new ArrayList<>();
      for (Hit h : r.getHitsList()) {
        rows.add(List.of(h.getId(), String.format(Locale.ROOT, "%.4f", h.getScore()), metadata(h)));
      }
      out().print(r, List.of("ID", "SCORE", "METADATA"), rows);
    }
  }

  private static String metadata(Hit h) {
    try {
      return JsonFormat.printer().omittingInsignificantWhitespace().print(h.getMetadata());
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      return "";
    }
  }
}
