package io.jointspace.server.http;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.jointspace.api.inference.GRPCInferenceServiceGrpc;
import io.jointspace.api.inference.ModelInferResponse;
import io.jointspace.api.inference.ModelMetadataRequest;
import io.jointspace.api.inference.ModelMetadataResponse;
import io.jointspace.api.inference.ModelReadyRequest;
import io.jointspace.api.inference.ServerLiveRequest;
import io.jointspace.api.inference.ServerMetadataRequest;
import io.jointspace.api.inference.ServerMetadataResponse;
import io.jointspace.api.inference.ServerReadyRequest;
import java.util.Map;

/**
 * KServe v2 REST (the Open Inference Protocol over HTTP), each route one call of
 * {@code inference.GRPCInferenceService}:
 *
 * <pre>
 * GET  /v2/health/live                                    ServerLive     200 / 503
 * GET  /v2/health/ready                                   ServerReady    200 / 503
 * GET  /v2                                                ServerMetadata
 * GET  /v2/models/{model}[/versions/{version}]            ModelMetadata
 * GET  /v2/models/{model}[/versions/{version}]/ready      ModelReady     200 / 503
 * POST /v2/models/{model}[/versions/{version}]/infer      ModelInfer     (JSON, binary data extension)
 * </pre>
 */
final class KServeRest implements HttpApi {
  /** What the HTTP port adds to the gRPC service's answer in GET /v2. */
  static final String BINARY_EXTENSION = "binary_tensor_data";

  private final Gateway gateway;

  KServeRest(Gateway gateway) {
    this.gateway = gateway;
  }

  @Override
  public void register(Routes routes) {
    routes.add("GET", "/v2/health/live", this::live)
        .add("GET", "/v2/health/ready", this::ready)
        .add("GET", "/v2", this::serverMetadata);
    for (String model : new String[] {"/v2/models/{model}", "/v2/models/{model}/versions/{version}"}) {
      routes.add("GET", model, this::modelMetadata)
          .add("GET", model + "/ready", this::modelReady)
          .add("POST", model + "/infer", this::infer);
    }
  }

  private void live(Exchange x) {
    boolean live = gateway.unary(x, GRPCInferenceServiceGrpc.getServerLiveMethod(),
        ServerLiveRequest.getDefaultInstance()).getLive();
    x.json(live ? 200 : 503, flag("live", live));
  }

  private void ready(Exchange x) {
    boolean ready = gateway.unary(x, GRPCInferenceServiceGrpc.getServerReadyMethod(),
        ServerReadyRequest.getDefaultInstance()).getReady();
    x.json(ready ? 200 : 503, flag("ready", ready));
  }

  private void serverMetadata(Exchange x) {
    ServerMetadataResponse m = gateway.unary(x, GRPCInferenceServiceGrpc.getServerMetadataMethod(),
        ServerMetadataRequest.getDefaultInstance());
    JsonObject out = new JsonObject();
    out.addProperty("name", m.getName());
    out.addProperty("version", m.getVersion());
    JsonArray extensions = new JsonArray();
    m.getExtensionsList().forEach(extensions::add);
    extensions.add(BINARY_EXTENSION);
    out.add("extensions", extensions);
    x.json(200, out);
  }

  private void modelMetadata(Exchange x) {
    ModelMetadataResponse m = gateway.unary(x, GRPCInferenceServiceGrpc.getModelMetadataMethod(),
        ModelMetadataRequest.newBuilder().setName(x.param("model")).setVersion(version(x)).build());
    JsonObject out = new JsonObject();
    out.addProperty("name", m.getName());
    JsonArray versions = new JsonArray();
    m.getVersionsList().forEach(versions::add);
    out.add("versions", versions);
    out.addProperty("platform", m.getPlatform());
    out.add("inputs", tensors(m.getInputsList()));
    out.add("outputs", tensors(m.getOutputsList()));
    x.json(200, out);
  }

  private static JsonArray tensors(java.util.List<ModelMetadataResponse.TensorMetadata> list) {
    JsonArray out = new JsonArray();
    for (ModelMetadataResponse.TensorMetadata t : list) {
      out.add(KServeTensors.tensor(t.getName(), t.getDatatype(), t.getShapeList()));
    }
    return out;
  }

  private void modelReady(Exchange x) {
    boolean ready = gateway.unary(x, GRPCInferenceServiceGrpc.getModelReadyMethod(),
        ModelReadyRequest.newBuilder().setName(x.param("model")).setVersion(version(x)).build()).getReady();
    JsonObject out = flag("ready", ready);
    out.addProperty("name", x.param("model"));
    x.json(ready ? 200 : 503, out);
  }

  private void infer(Exchange x) {
    String headerLength = x.header(KServeTensors.HEADER_LENGTH);
    if (headerLength == null) {
      x.requireContentType(Exchange.JSON);
    } else {
      x.requireContentType("application/octet-stream", Exchange.JSON);
    }
    KServeTensors.Request request = KServeTensors.request(x.param("model"), version(x), x.body(), headerLength);
    ModelInferResponse response = gateway.unary(x, GRPCInferenceServiceGrpc.getModelInferMethod(), request.grpc());
    KServeTensors.Answer answer = KServeTensors.answer(response, request);
    if (answer.jsonLength() < 0) {
      x.send(200, Exchange.JSON, answer.body(), Map.of());
    } else {
      x.send(200, "application/octet-stream", answer.body(),
          Map.of(KServeTensors.HEADER_LENGTH, Integer.toString(answer.jsonLength())));
    }
  }

  private static String version(Exchange x) {
    return x.paramOrEmpty("version");
  }

  private static JsonObject flag(String name, boolean value) {
    JsonObject o = new JsonObject();
    o.addProperty(name, value);
    return o;
  }
}
