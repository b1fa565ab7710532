package io.jointspace.server.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** LiveCalls counts a call until it ends, however it ends, and an idle open stream not at all. */
class LiveCallsTest {
  static final MethodDescriptor.Marshaller<byte[]> BYTES = new MethodDescriptor.Marshaller<>() {
    @Override
    public InputStream stream(byte[] value) {
      return new ByteArrayInputStream(value);
    }

    @Override
    public byte[] parse(InputStream stream) {
      try {
        return stream.readAllBytes();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  };

  static MethodDescriptor<byte[], byte[]> method(String name, MethodDescriptor.MethodType type) {
    return MethodDescriptor.<byte[], byte[]>newBuilder().setType(type)
        .setFullMethodName("t.T/" + name).setRequestMarshaller(BYTES).setResponseMarshaller(BYTES).build();
  }

  @Test
  void callsThatAnswer_fail_orThrow_allEnd_andAnIdleStreamIsQuiet() throws Exception {
    MethodDescriptor<byte[], byte[]> ok = method("Ok", MethodDescriptor.MethodType.UNARY);
    MethodDescriptor<byte[], byte[]> throwing = method("Throws", MethodDescriptor.MethodType.UNARY);
    MethodDescriptor<byte[], byte[]> stream = method("Stream", MethodDescriptor.MethodType.BIDI_STREAMING);
    LiveCalls live = new LiveCalls();
    ServerServiceDefinition service = ServerServiceDefinition.builder("t.T")
        .addMethod(ok, ServerCalls.asyncUnaryCall((byte[] req, StreamObserver<byte[]> out) -> {
          out.onNext(req);
          out.onCompleted();
        }))
        .addMethod(throwing, ServerCalls.asyncUnaryCall((byte[] req, StreamObserver<byte[]> out) -> {
          throw new IllegalStateException("boom");
        }))
        .addMethod(stream, ServerCalls.asyncBidiStreamingCall((StreamObserver<byte[]> out) ->
            new StreamObserver<byte[]>() {
              @Override
              public void onNext(byte[] value) {
                out.onNext(value);
              }

              @Override
              public void onError(Throwable t) { }

              @Override
              public void onCompleted() {
                out.onCompleted();
              }
            }))
        .build();
    String name = InProcessServerBuilder.generateName();
    Server server = InProcessServerBuilder.forName(name).directExecutor()
        .addService(ServerInterceptors.intercept(service, live)).build().start();
    ManagedChannel channel = InProcessChannelBuilder.forName(name).directExecutor().build();
    try {
      ClientCalls.blockingUnaryCall(channel, ok, io.grpc.CallOptions.DEFAULT, new byte[] {1});
      assertThatThrownBy(() -> ClientCalls.blockingUnaryCall(channel, throwing, io.grpc.CallOptions.DEFAULT,
          new byte[] {1}));
      assertThat(live.inFlight()).isZero();
      assertThat(live.quiet()).as("a call ended a moment ago").isFalse();
      // a stream left open and idle does not keep the server busy
      StreamObserver<byte[]> open = io.grpc.stub.ClientCalls.asyncBidiStreamingCall(
          channel.newCall(stream, io.grpc.CallOptions.DEFAULT), new StreamObserver<>() {
            @Override
            public void onNext(byte[] value) { }

            @Override
            public void onError(Throwable t) { }

            @Override
            public void onCompleted() { }
          });
      open.onNext(new byte[] {2});
      Thread.sleep(TimeUnit.NANOSECONDS.toMillis(LiveCalls.QUIET_NANOS) + 30);
      assertThat(live.inFlight()).isZero();
      assertThat(live.quiet()).isTrue();
      open.onNext(new byte[] {3});
      assertThat(live.quiet()).as("a message just arrived").isFalse();
      open.onCompleted();
    } finally {
      channel.shutdownNow();
      server.shutdownNow();
    }
  }
}
