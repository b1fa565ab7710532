package io.jointspace.server.http;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.annotation.Nullable;

/**
 * The HTTP port's route table: a method and a path pattern ({@code /v2/models/{model}/infer},
 * a segment in braces matching any one segment) to a handler. A path no route matches is 404;
 * one that matches only with another method is 405 with {@code Allow}. Routes are tried in
 * the order they were added, so a fixed path added first wins over a pattern.
 */
final class Routes {
  /** Answers one request; throws {@link HttpError} or a gRPC status exception to fail it. */
  @FunctionalInterface
  interface Handler {
    void handle(Exchange exchange) throws Exception;
  }

  private record Route(String method, String[] segments, Handler handler) {}

  /** What a path and method found. */
  record Match(@Nullable Handler handler, Map<String, String> params, Set<String> allowed) {}

  private final List<Route> routes = new ArrayList<>();

  Routes add(String method, String pattern, Handler handler) {
    routes.add(new Route(method, split(pattern), handler));
    if (method.equals("GET")) {
      routes.add(new Route("HEAD", split(pattern), handler));
    }
    return this;
  }

  Match find(String method, String path) {
    String[] segments = split(path);
    Set<String> allowed = new LinkedHashSet<>();
    for (Route route : routes) {
      Map<String, String> params = match(route.segments(), segments);
      if (params == null) {
        continue;
      }
      if (route.method().equals(method)) {
        return new Match(route.handler(), params, allowed);
      }
      allowed.add(route.method());
    }
    return new Match(null, Map.of(), allowed);
  }

  @Nullable
  private static Map<String, String> match(String[] pattern, String[] path) {
    if (pattern.length != path.length) {
      return null;
    }
    Map<String, String> params = new LinkedHashMap<>();
    for (int i = 0; i < pattern.length; i++) {
      String p = pattern[i];
      if (p.startsWith("{") && p.endsWith("}")) {
        if (path[i].isEmpty()) {
          return null;
        }
        params.put(p.substring(1, p.length() - 1), path[i]);
      } else if (!p.equals(path[i])) {
        return null;
      }
    }
    return params;
  }

  private static String[] split(String path) {
    String p = path.startsWith("/") ? path.substring(1) : path;
    if (p.endsWith("/")) {
      p = p.substring(0, p.length() - 1);
    }
    return p.isEmpty() ? new String[0] : p.split("/", -1);
  }
}
