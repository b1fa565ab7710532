package io.jointspace.bench;

import com.google.protobuf.ByteString;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.jointspace.api.inference.GRPCInferenceServiceGrpc;
import io.jointspace.api.inference.ModelInferRequest;
import io.jointspace.api.inference.ModelInferResponse;
import io.jointspace.api.inference.ServerLiveRequest;
import io.jointspace.api.inference.ServerLiveResponse;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The floor under a trivial call: grpc-java alone, in a JVM of its own, serving KServe v2's
 * ServerLive and a ModelInfer that answers what the server answers for half_plus_two with one
 * row, without reading the request: the same transport, the same messages and a fixed handler
 * pool like the server's, but no interceptors, no model and no checks. What a trivial call
 * costs the server beyond this is the server's own. With 0 threads the handlers run on the
 * transport's event loop ({@code directExecutor}): what the hand-off to a handler thread costs.
 *
 * <p>{@code java -cp ... io.jointspace.bench.BareServer PORT THREADS}
 */
final class BareServer extends GRPCInferenceServiceGrpc.GRPCInferenceServiceImplBase {
  private final ModelInferResponse answer;

  private BareServer() {
    byte[] y = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(2.5f).array();
    answer = ModelInferResponse.newBuilder().setModelName(OverheadSuite.TENSOR_MODEL).setModelVersion("123")
        .addOutputs(ModelInferResponse.InferOutputTensor.newBuilder().setName("y").setDatatype("FP32")
            .addShape(1).addShape(1))
        .addRawOutputContents(ByteString.copyFrom(y))
        .build();
  }

  @Override
  public void serverLive(ServerLiveRequest request, StreamObserver<ServerLiveResponse> observer) {
    observer.onNext(ServerLiveResponse.newBuilder().setLive(true).build());
    observer.onCompleted();
  }

  @Override
  public void modelInfer(ModelInferRequest request, StreamObserver<ModelInferResponse> observer) {
    observer.onNext(answer.toBuilder().setId(request.getId()).build());
    observer.onCompleted();
  }

  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(args[0]);
    int threads = Integer.parseInt(args[1]);
    NettyServerBuilder builder = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", port));
    if (threads == 0) {
      builder.directExecutor();
    } else {
      ExecutorService handlers = Executors.newFixedThreadPool(threads, r -> {
        Thread t = new Thread(r, "bare-call");
        t.setDaemon(true);
        return t;
      });
      builder.executor(handlers);
    }
    Server server = builder
        .addService(new BareServer())
        .build()
        .start();
    Runtime.getRuntime().addShutdownHook(new Thread(server::shutdownNow));
    server.awaitTermination();
  }
}
