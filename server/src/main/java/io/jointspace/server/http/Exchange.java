package io.jointspace.server.http;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;
import javax.annotation.Nullable;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/**
 * One HTTP request and its answer: the route's path parameters, the body read within the
 * limit, and exactly one response. Used by one handler thread.
 */
final class Exchange {
  static final String JSON = "application/json";
  /** Gson writes NaN and infinities (tensors hold them) instead of refusing the answer. */
  static final Gson GSON = new GsonBuilder().serializeSpecialFloatingPointValues().disableHtmlEscaping().create();

  private final Request request;
  private final Response response;
  private final Callback callback;
  private final long maxBodyBytes;
  private final Map<String, String> params;
  private boolean answered;
  /** Whether the request's body was read, or dropped. */
  private boolean bodyRead;

  Exchange(Request request, Response response, Callback callback, long maxBodyBytes, Map<String, String> params) {
    this.request = request;
    this.response = response;
    this.callback = callback;
    this.maxBodyBytes = maxBodyBytes;
    this.params = params;
  }

  String method() {
    return request.getMethod();
  }

  /** A path parameter of the route, such as {@code {model}}. */
  String param(String name) {
    String value = params.get(name);
    if (value == null) {
      throw new IllegalStateException("the route has no parameter " + name);
    }
    return value;
  }

  /** A path parameter the route may lack ({@code {version}}), or "". */
  String paramOrEmpty(String name) {
    return params.getOrDefault(name, "");
  }

  /** The HTTP client's address and port, as "ADDRESS:PORT" (an IPv6 address in brackets). */
  String peer() {
    String host = Request.getRemoteAddr(request);
    return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + Request.getRemotePort(request);
  }

  @Nullable
  String header(String name) {
    return request.getHeaders().get(name);
  }

  /**
   * The request body, at most the limit (the gRPC port's max_inbound_message_bytes).
   *
   * @throws HttpError 413 over the limit
   */
  byte[] body() {
    long declared = request.getLength();
    if (declared > maxBodyBytes) {
      throw tooLarge(declared); // left unread: the answer drops it (dropUnread)
    }
    bodyRead = true;
    try (InputStream in = Content.Source.asInputStream(request)) {
      byte[] bytes = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, maxBodyBytes + 1));
      if (bytes.length > maxBodyBytes) {
        drop(in, DROP_BYTES); // a body of unknown length, part read: the rest, from this stream
        throw tooLarge(-1);
      }
      return bytes;
    } catch (IOException e) {
      throw HttpError.badRequest("cannot read the request body: " + e.getMessage());
    }
  }

  /** How far over the limit a body may be and still be read, and dropped, before the answer. */
  static final long DROP_BYTES = 1 << 20;

  /**
   * Reads and drops a body no handler read (an unknown path, a 413 for its declared length, a
   * refusal before the body), when it is at most {@link #DROP_BYTES} over the limit: Jetty ends
   * a connection whose request body is left unread when the rest of it has not arrived yet, and
   * a client still sending it, or that sent its next request on that connection, saw the
   * connection end ("header parser received no bytes"), not the answer.
   */
  private void dropUnread() {
    if (bodyRead) {
      return;
    }
    bodyRead = true;
    long declared = request.getLength();
    if (declared == 0 || declared > maxBodyBytes + DROP_BYTES) {
      return;
    }
    try (InputStream in = Content.Source.asInputStream(request)) {
      drop(in, maxBodyBytes + DROP_BYTES);
    } catch (IOException e) {
      // the client's connection failed: the answer goes the same way
    }
  }

  private static void drop(InputStream in, long atMost) throws IOException {
    byte[] buffer = new byte[8192];
    for (long left = atMost; left > 0; ) {
      int n = in.read(buffer, 0, (int) Math.min(buffer.length, left));
      if (n < 0) {
        return;
      }
      left -= n;
    }
  }

  private HttpError tooLarge(long declared) {
    return new HttpError(413, "RESOURCE_EXHAUSTED", "the request body " + (declared >= 0 ? "of " + declared + " bytes " : "")
        + "is over the limit of " + maxBodyBytes + " bytes (max_inbound_message_bytes, --max-message-bytes)");
  }

  /**
   * Checks the content type is one of {@code accepted} (parameters such as charset aside); a
   * request without one is taken as the first.
   *
   * @throws HttpError 415 otherwise
   */
  void requireContentType(String... accepted) {
    String type = request.getHeaders().get(HttpHeader.CONTENT_TYPE);
    if (type == null || type.isBlank()) {
      return;
    }
    String bare = type.split(";", 2)[0].strip().toLowerCase(Locale.ROOT);
    for (String a : accepted) {
      if (bare.equals(a)) {
        return;
      }
    }
    throw new HttpError(415, "INVALID_ARGUMENT", "Content-Type " + type + " is not taken here; send "
        + String.join(" or ", accepted));
  }

  void json(int status, JsonElement body) {
    send(status, JSON, GSON.toJson(body).getBytes(StandardCharsets.UTF_8), Map.of());
  }

  void jsonText(int status, String body) {
    send(status, JSON, body.getBytes(StandardCharsets.UTF_8), Map.of());
  }

  void send(int status, String contentType, byte[] body, Map<String, String> headers) {
    if (answered) {
      throw new IllegalStateException("answered twice");
    }
    answered = true;
    dropUnread();
    response.setStatus(status);
    response.getHeaders().put(HttpHeader.CONTENT_TYPE, contentType);
    headers.forEach(response.getHeaders()::put);
    response.getHeaders().put(HttpHeader.CONTENT_LENGTH, body.length);
    response.write(true, request.getMethod().equals("HEAD") ? ByteBuffer.allocate(0) : ByteBuffer.wrap(body),
        callback);
  }

  boolean answered() {
    return answered;
  }
}
