package io.jointspace.server.api;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.StreamObserver;
import io.jointspace.api.v1.CollectionServiceGrpc;
import io.jointspace.api.v1.EmbedRequest;
import io.jointspace.api.v1.EmbedStreamRequest;
import io.jointspace.api.v1.EmbeddingServiceGrpc;
import io.jointspace.api.v1.GetRolloutRequest;
import io.jointspace.api.v1.Input;
import io.jointspace.api.v1.Item;
import io.jointspace.api.v1.ModelServiceGrpc;
import io.jointspace.api.v1.ModelSpec;
import io.jointspace.api.v1.RolloutServiceGrpc;
import io.jointspace.api.v1.UploadHeader;
import io.jointspace.api.v1.UploadVersionRequest;
import io.jointspace.api.v1.UpsertStreamRequest;
import io.jointspace.api.v1.Vector;

/**
 * A client process that opens one call of every streaming method on one connection, sends
 * part of each, reads nothing, prints {@code READY} and waits to be killed: the test's stand-in
 * for a client that vanishes mid-stream without cancelling anything.
 *
 * <p>Arguments: the server's port, a collection to write (dimension 64), a collection with a
 * rollout to watch, a model name to upload a version of.
 */
public final class VanishingClient {
  private VanishingClient() {}

  /** An observer that reads nothing: the replies stay in the transport's window. */
  static <Q, R> ClientResponseObserver<Q, R> deaf() {
    return new ClientResponseObserver<>() {
      @Override
      public void beforeStart(ClientCallStreamObserver<Q> requests) {
        requests.disableAutoRequestWithInitial(0);
      }

      @Override
      public void onNext(R value) { }

      @Override
      public void onError(Throwable t) {
        System.out.println("ended: " + t);
      }

      @Override
      public void onCompleted() {
        System.out.println("ended");
      }
    };
  }

  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(args[0]);
    String collection = args[1];
    String watched = args[2];
    String model = args[3];
    // a small window: the server's EmbedStream replies back up after a few of them
    ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext()
        .flowControlWindow(4096).build();

    StreamObserver<EmbedStreamRequest> embed = EmbeddingServiceGrpc.newStub(channel).embedStream(deaf());
    for (int i = 0; i < 100; i++) {
      embed.onNext(EmbedStreamRequest.newBuilder().setRequestId("r" + i).setRequest(EmbedRequest.newBuilder()
          .setModel(ModelSpec.newBuilder().setName("shapes-clip")).addInputs(Input.newBuilder().setText("a red circle")))
          .build());
    }

    StreamObserver<UpsertStreamRequest> upsert = CollectionServiceGrpc.newStub(channel).upsertStream(deaf());
    for (int m = 0; m < 5; m++) {
      UpsertStreamRequest.Builder msg = UpsertStreamRequest.newBuilder().setCollection(collection);
      for (int i = 0; i < 10; i++) {
        Vector.Builder v = Vector.newBuilder();
        for (int d = 0; d < 64; d++) {
          v.addValues((float) Math.sin(m * 10 + i + d));
        }
        msg.addItems(Item.newBuilder().setId("vanished-" + m + "-" + i).setVector(v));
      }
      upsert.onNext(msg.build());
    }

    RolloutServiceGrpc.newStub(channel).watchRollout(GetRolloutRequest.newBuilder().setCollection(watched).build(),
        deaf());

    StreamObserver<UploadVersionRequest> upload = ModelServiceGrpc.newStub(channel).uploadVersion(deaf());
    upload.onNext(UploadVersionRequest.newBuilder().setHeader(UploadHeader.newBuilder().setModel(model)
        .setVersion(7).setUploadedBy("vanishing client")).build());
    for (int i = 0; i < 16; i++) {
      upload.onNext(UploadVersionRequest.newBuilder().setChunk(ByteString.copyFrom(new byte[4096])).build());
    }

    System.out.println("READY");
    System.out.flush();
    Thread.sleep(Long.MAX_VALUE);
  }
}
