package io.jointspace.server.http;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import io.grpc.MethodDescriptor;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The jointspace.v1 services as JSON: {@code POST /v1/jointspace/{Service}/{Method}} (such as
 * {@code /v1/jointspace/EmbeddingService/Embed}) takes the request message in the proto3 JSON
 * mapping (field names as in the .proto or in lowerCamelCase, bytes as base64, 64-bit
 * integers as strings or numbers) and answers the response message the same way
 * (lowerCamelCase names, fields at their default left out). An empty body is the empty
 * request.
 *
 * <p>The methods are read from the server's registered service definitions, whose method
 * descriptors carry the request and response types: a method added to a service is served
 * here without code. Streaming methods answer 501 naming the gRPC method to call instead.
 */
final class JointspaceJson implements HttpApi {
  static final String PREFIX = "/v1/jointspace";
  private static final String PACKAGE = "jointspace.v1.";
  private static final JsonFormat.Parser PARSER = JsonFormat.parser();
  private static final JsonFormat.Printer PRINTER = JsonFormat.printer();

  private final Gateway gateway;
  /** "EmbeddingService/Embed" to its descriptor. */
  private final Map<String, MethodDescriptor<?, ?>> methods = new LinkedHashMap<>();

  JointspaceJson(Gateway gateway, List<ServerServiceDefinition> services) {
    this.gateway = gateway;
    for (ServerServiceDefinition service : services) {
      String name = service.getServiceDescriptor().getName();
      if (!name.startsWith(PACKAGE)) {
        continue;
      }
      for (ServerMethodDefinition<?, ?> m : service.getMethods()) {
        MethodDescriptor<?, ?> d = m.getMethodDescriptor();
        methods.put(name.substring(PACKAGE.length()) + "/" + d.getBareMethodName(), d);
      }
    }
  }

  @Override
  public void register(Routes routes) {
    routes.add("POST", PREFIX + "/{service}/{method}", this::call);
  }

  /** The methods served, as "Service/Method" (for the index page and tests). */
  java.util.Set<String> methods() {
    return methods.keySet();
  }

  private void call(Exchange x) throws InvalidProtocolBufferException {
    String name = x.param("service") + "/" + x.param("method");
    MethodDescriptor<?, ?> method = methods.get(name);
    if (method == null) {
      throw new HttpError(404, "NOT_FOUND", "no method " + name + " in the jointspace.v1 services; the methods are "
          + String.join(", ", methods.keySet()));
    }
    if (method.getType() != MethodDescriptor.MethodType.UNARY) {
      throw new HttpError(501, Status.Code.UNIMPLEMENTED.name(), name + " is a " + method.getType().name()
          .toLowerCase(java.util.Locale.ROOT).replace('_', ' ') + " method: call " + method.getFullMethodName()
          + " over gRPC");
    }
    x.requireContentType(Exchange.JSON);
    x.jsonText(200, PRINTER.print(invoke(x, method, x.body())));
  }

  @SuppressWarnings("unchecked")
  private <Q, R> Message invoke(Exchange x, MethodDescriptor<Q, R> method, byte[] body) {
    Message prototype = prototype(method.getRequestMarshaller());
    Message.Builder request = prototype.newBuilderForType();
    String text = new String(body, StandardCharsets.UTF_8);
    if (!text.isBlank()) {
      try {
        PARSER.merge(text, request);
      } catch (InvalidProtocolBufferException | RuntimeException e) {
        // JsonFormat wraps Gson's complaints; a deep nesting fails inside Gson
        throw HttpError.badRequest("the request is not a JSON " + prototype.getDescriptorForType().getFullName()
            + ": " + e.getMessage());
      } catch (StackOverflowError e) {
        throw HttpError.badRequest("the request is nested too deeply");
      }
    }
    return (Message) gateway.unary(x, method, (Q) request.build());
  }

  private static Message prototype(MethodDescriptor.Marshaller<?> marshaller) {
    if (marshaller instanceof MethodDescriptor.PrototypeMarshaller<?> p && p.getMessagePrototype() instanceof Message m) {
      return m;
    }
    throw new IllegalStateException("a jointspace.v1 method without a protobuf marshaller: " + marshaller);
  }
}
