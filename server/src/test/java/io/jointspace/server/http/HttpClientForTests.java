package io.jointspace.server.http;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;

/** java.net.http against one server's HTTP port, with a timeout on every request. */
public final class HttpClientForTests {
  private final HttpClient client;
  private final String base;

  public HttpClientForTests(String base) {
    this(HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build(), base);
  }

  public HttpClientForTests(HttpClient client, String base) {
    this.client = client;
    this.base = base;
  }

  public HttpResponse<String> get(String path, String... headers) throws Exception {
    return send(request(path, headers).GET().build());
  }

  public HttpResponse<String> post(String path, String json, String... headers) throws Exception {
    return send(request(path, headers).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(json)).build());
  }

  public HttpResponse<byte[]> postBytes(String path, byte[] body, Map<String, String> headers) throws Exception {
    HttpRequest.Builder b = request(path);
    headers.forEach(b::header);
    return client.send(b.POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
        HttpResponse.BodyHandlers.ofByteArray());
  }

  public HttpResponse<String> send(HttpRequest request) throws Exception {
    return client.send(request, HttpResponse.BodyHandlers.ofString());
  }

  public HttpRequest.Builder request(String path, String... headers) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(60));
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return b;
  }

  public static JsonObject json(HttpResponse<String> r) {
    return JsonParser.parseString(r.body()).getAsJsonObject();
  }
}
