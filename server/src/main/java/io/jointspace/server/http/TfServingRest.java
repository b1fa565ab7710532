package io.jointspace.server.http;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.protobuf.Int64Value;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import io.jointspace.api.v1.GetModelMetadataRequest;
import io.jointspace.api.v1.GetModelMetadataResponse;
import io.jointspace.api.v1.ModelServiceGrpc;
import io.jointspace.api.v1.SignatureMetadata;
import io.jointspace.api.v1.TensorSpec;
import io.jointspace.tensorflow.framework.DataType;
import io.jointspace.tensorflow.serving.ClassificationRequest;
import io.jointspace.tensorflow.serving.GetModelStatusRequest;
import io.jointspace.tensorflow.serving.ModelSpec;
import io.jointspace.tensorflow.serving.PredictRequest;
import io.jointspace.tensorflow.serving.PredictResponse;
import io.jointspace.tensorflow.serving.PredictionServiceGrpc;
import io.jointspace.tensorflow.serving.RegressionRequest;
import io.jointspace.tensorflow.serving.SignatureDefMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * TF Serving's REST API, each route one call of {@code tensorflow.serving.PredictionService}
 * or {@code ModelService}, with TF Serving's paths and bodies:
 *
 * <pre>
 * GET  /v1/models/{m}[/versions/{v}|/labels/{l}]             GetModelStatus
 * GET  /v1/models/{m}[/versions/{v}|/labels/{l}]/metadata    GetModelMetadata (signature_def)
 * POST /v1/models/{m}[/versions/{v}|/labels/{l}]:predict     Predict ("instances" or "inputs")
 * POST /v1/models/{m}[/versions/{v}|/labels/{l}]:classify    Classify ("examples", "context")
 * POST /v1/models/{m}[/versions/{v}|/labels/{l}]:regress     Regress
 * </pre>
 *
 * <p>A predict body's numbers are typed by the signature's inputs, so {@code :predict} first
 * reads the version's metadata ({@code jointspace.v1.ModelService/GetModelMetadata}, which
 * names the version and default signature a label or an empty version resolve to) and then
 * runs that version and signature: with API keys required, {@code :predict} needs
 * {@code models:read} as well as {@code infer} on the model.
 */
final class TfServingRest implements HttpApi {
  static final String PREFIX = "/v1/models/{model}";
  private static final JsonFormat.Printer PRINTER = JsonFormat.printer().preservingProtoFieldNames()
      .alwaysPrintFieldsWithNoPresence();
  private static final String SIGNATURE_DEF = "signature_def";

  private final Gateway gateway;

  TfServingRest(Gateway gateway) {
    this.gateway = gateway;
  }

  @Override
  public void register(Routes routes) {
    for (String at : new String[] {PREFIX, PREFIX + "/versions/{version}", PREFIX + "/labels/{label}"}) {
      routes.add("GET", at, this::status)
          .add("GET", at + "/metadata", this::metadata)
          .add("POST", at, this::verb); // the last segment ends in ":predict", ":classify" or ":regress"
    }
  }

  /** Where the path points: the model, and its version or label when given. */
  private record Target(String model, String version, String label) {
    ModelSpec spec(String signature) {
      ModelSpec.Builder spec = ModelSpec.newBuilder().setName(model).setSignatureName(signature);
      if (!version.isEmpty()) {
        try {
          spec.setVersion(Int64Value.of(Long.parseLong(version)));
        } catch (NumberFormatException e) {
          throw new HttpError(404, "NOT_FOUND", "version '" + version + "' of model '" + model
              + "' is not a version number");
        }
      } else if (!label.isEmpty()) {
        spec.setVersionLabel(label);
      }
      return spec.build();
    }
  }

  private static Target target(Exchange x) {
    return new Target(x.param("model"), x.paramOrEmpty("version"), x.paramOrEmpty("label"));
  }

  private void status(Exchange x) throws InvalidProtocolBufferException {
    Target t = target(x);
    GetModelStatusRequest request = GetModelStatusRequest.newBuilder().setModelSpec(t.spec("")).build();
    x.json(200, json(gateway.unary(x, io.jointspace.tensorflow.serving.ModelServiceGrpc.getGetModelStatusMethod(),
        request)));
  }

  private void metadata(Exchange x) throws InvalidProtocolBufferException {
    Target t = target(x);
    io.jointspace.tensorflow.serving.GetModelMetadataResponse m = gateway.unary(x,
        PredictionServiceGrpc.getGetModelMetadataMethod(), io.jointspace.tensorflow.serving.GetModelMetadataRequest
            .newBuilder().setModelSpec(t.spec("")).addMetadataField(SIGNATURE_DEF).build());
    // as TF Serving: the SignatureDefMap's JSON under metadata.signature_def, not an Any
    JsonObject metadata = new JsonObject();
    metadata.add(SIGNATURE_DEF, json(m.getMetadataOrThrow(SIGNATURE_DEF).unpack(SignatureDefMap.class)));
    JsonObject out = new JsonObject();
    out.add("model_spec", json(m.getModelSpec()));
    out.add("metadata", metadata);
    x.json(200, out);
  }

  /** {@code POST .../{last}:verb}: the verb is the part of the last segment after its last ':'. */
  private void verb(Exchange x) {
    String[] keys = {"label", "version", "model"};
    String key = null;
    for (String k : keys) {
      if (!x.paramOrEmpty(k).isEmpty()) {
        key = k;
        break;
      }
    }
    String last = x.param(key);
    int colon = last.lastIndexOf(':');
    String verb = colon < 0 ? "" : last.substring(colon + 1);
    Map<String, String> params = new LinkedHashMap<>();
    for (String k : keys) {
      params.put(k, x.paramOrEmpty(k));
    }
    params.put(key, colon < 0 ? last : last.substring(0, colon));
    Target t = new Target(params.get("model"), params.get("version"), params.get("label"));
    if (!verb.equals("predict") && !verb.equals("classify") && !verb.equals("regress")) {
      throw new HttpError(404, "NOT_FOUND", "POST /v1/models/...: end the path with :predict, :classify or"
          + " :regress, not '" + last + "'");
    }
    // any Content-Type, as TF Serving: its documented calls are `curl -d`, a form's type
    JsonObject body = TfServingJson.parseObject(new String(x.body(), java.nio.charset.StandardCharsets.UTF_8));
    String signature = TfServingJson.signatureName(body);
    switch (verb) {
      case "predict" -> predict(x, t, body, signature);
      case "classify" -> x.json(200, TfServingExamples.reply(gateway.unary(x, PredictionServiceGrpc.getClassifyMethod(),
          ClassificationRequest.newBuilder().setModelSpec(t.spec(signature)).setInput(TfServingExamples.examples(body))
              .build()).getResult()));
      default -> x.json(200, TfServingExamples.reply(gateway.unary(x, PredictionServiceGrpc.getRegressMethod(),
          RegressionRequest.newBuilder().setModelSpec(t.spec(signature)).setInput(TfServingExamples.examples(body))
              .build()).getResult()));
    }
  }

  private void predict(Exchange x, Target t, JsonObject body, String signature) {
    io.jointspace.api.v1.ModelSpec.Builder wanted = io.jointspace.api.v1.ModelSpec.newBuilder().setName(t.model())
        .setSignatureName(signature);
    ModelSpec asked = t.spec(signature); // checks the version's form before any call
    if (asked.hasVersion()) {
      wanted.setVersion(asked.getVersion().getValue());
    } else if (!t.label().isEmpty()) {
      wanted.setLabel(t.label());
    }
    GetModelMetadataResponse meta = gateway.unary(x, ModelServiceGrpc.getGetModelMetadataMethod(),
        GetModelMetadataRequest.newBuilder().setModel(wanted).build());
    // the version and signature the metadata resolved, so the types and the run agree
    String name = signature.isEmpty() ? meta.getModel().getSignatureName() : signature;
    SignatureMetadata sig = meta.getSignaturesList().stream().filter(s -> s.getName().equals(name)).findFirst()
        .orElseThrow(() -> new HttpError(400, "FAILED_PRECONDITION", name.isEmpty()
            ? "signature_name is empty and model '" + t.model() + "' has no default signature; name one of "
                + meta.getSignaturesList().stream().map(SignatureMetadata::getName).toList()
            : "signature_name '" + name + "' is not a signature of model '" + t.model() + "'; its signatures: "
                + meta.getSignaturesList().stream().map(SignatureMetadata::getName).toList()));
    Map<String, DataType> types = new LinkedHashMap<>();
    for (TensorSpec input : sig.getInputsList()) {
      types.put(input.getName(), tfType(input.getDtype()));
    }
    TfServingJson.Predict inputs = TfServingJson.predict(body, types);
    PredictRequest request = PredictRequest.newBuilder()
        .setModelSpec(ModelSpec.newBuilder().setName(t.model()).setSignatureName(name)
            .setVersion(Int64Value.of(meta.getModel().getVersion())))
        .putAllInputs(inputs.inputs())
        .build();
    PredictResponse response = gateway.unary(x, PredictionServiceGrpc.getPredictMethod(), request);
    x.json(200, TfServingOutputs.reply(response.getOutputsMap(), inputs.format()));
  }

  private static DataType tfType(io.jointspace.api.v1.DataType dtype) {
    return switch (dtype) {
      case BOOL -> DataType.DT_BOOL;
      case UINT8 -> DataType.DT_UINT8;
      case INT8 -> DataType.DT_INT8;
      case INT16 -> DataType.DT_INT16;
      case INT32 -> DataType.DT_INT32;
      case INT64 -> DataType.DT_INT64;
      case FP16 -> DataType.DT_HALF;
      case FP32 -> DataType.DT_FLOAT;
      case FP64 -> DataType.DT_DOUBLE;
      case BYTES -> DataType.DT_STRING;
      case UINT16 -> DataType.DT_UINT16;
      case BF16 -> DataType.DT_BFLOAT16;
      default -> DataType.DT_INVALID;
    };
  }

  private static JsonElement json(Message message) throws InvalidProtocolBufferException {
    return JsonParser.parseString(PRINTER.print(message));
  }
}
