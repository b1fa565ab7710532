package io.jointspace.server.api;

import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import javax.annotation.concurrent.GuardedBy;

/**
 * Inbound flow control for a stream that answers each request message as it handles it
 * (EmbedStream, UpsertStream): the next request is read only while the replies so far are
 * being consumed ({@link ServerCallStreamObserver#isReady()}).
 *
 * <p>gRPC's automatic flow control reads the next message as soon as the last one's
 * {@code onNext} returns, whatever the outbound side is doing, so a client that sends small
 * requests and never reads would make the server answer every one of them into its outbound
 * buffer. Paced, the server stops reading requests once about a flow control window of
 * replies waits for the client; the requests then wait in the client (HTTP/2 flow control
 * stops its writes), and reading resumes when the client reads.
 *
 * <p>Make it in the service method, before the method returns (gRPC accepts the setup only
 * then); call {@link #next()} once after each request message is handled. gRPC runs one call's
 * callbacks one at a time; the lock covers a caller that handles messages on other threads.
 */
final class StreamPacing {
  private final ServerCallStreamObserver<?> call;

  /** A message is wanted but was not requested, because the replies were backed up. */
  @GuardedBy("this")
  private boolean owed;

  private StreamPacing(ServerCallStreamObserver<?> call) {
    this.call = call;
  }

  /** Takes over inbound flow control of the call that {@code observer} answers, and reads its first message. */
  static StreamPacing start(StreamObserver<?> observer) {
    ServerCallStreamObserver<?> call = (ServerCallStreamObserver<?>) observer;
    StreamPacing pacing = new StreamPacing(call);
    call.disableAutoRequest();
    call.setOnReadyHandler(pacing::onReady);
    call.request(1);
    return pacing;
  }

  /** The current message is handled: reads the next now if the replies are flowing, else once they are. */
  void next() {
    synchronized (this) {
      if (!call.isReady()) {
        owed = true;
        return;
      }
      owed = false;
    }
    call.request(1);
  }

  private void onReady() {
    synchronized (this) {
      if (!owed || !call.isReady()) {
        return;
      }
      owed = false;
    }
    call.request(1);
  }
}
