package io.jointspace.server.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.Struct;
import com.google.protobuf.WireFormat;
import io.grpc.CallOptions;
import io.grpc.MethodDescriptor;
import io.grpc.stub.ClientCalls;
import java.io.InputStream;
import com.google.protobuf.Value;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.jointspace.api.v1.CollectionServiceGrpc;
import io.jointspace.api.v1.Filter;
import io.jointspace.api.v1.Item;
import io.jointspace.api.v1.SearchRequest;
import io.jointspace.api.v1.UpsertRequest;
import io.jointspace.api.v1.UpsertStreamRequest;
import io.jointspace.api.v1.UpsertStreamResponse;
import io.jointspace.server.LogCapture;
import io.jointspace.server.ServerFixture;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A request nested deeper than protobuf parses (100 levels) is refused as the caller's mistake:
 * INVALID_ARGUMENT over real stubs and a real server, one log line, no stack trace.
 */
class RequestNestingTest {
  static ServerFixture fixture;
  static CollectionServiceGrpc.CollectionServiceBlockingStub stub;
  static final List<LogRecord> grpcLog = new CopyOnWriteArrayList<>();
  static final java.util.logging.Logger grpcLogger = java.util.logging.Logger.getLogger("io.grpc");
  static final Handler handler = new Handler() {
    @Override
    public void publish(LogRecord r) {
      grpcLog.add(r);
    }

    @Override
    public void flush() {}

    @Override
    public void close() {}
  };

  @BeforeAll
  static void start() throws Exception {
    Path repository = Files.createTempDirectory("nesting");
    fixture = ServerFixture.start(repository); // no database: the parse fails before any collection is looked up
    stub = CollectionServiceGrpc.newBlockingStub(fixture.channel).withDeadlineAfter(30, TimeUnit.SECONDS);
    grpcLogger.addHandler(handler);
  }

  @AfterAll
  static void stop() throws Exception {
    grpcLogger.removeHandler(handler);
    fixture.close();
  }

  static Struct nested(int depth) {
    Struct s = Struct.newBuilder().putFields("leaf", Value.newBuilder().setNumberValue(1).build()).build();
    for (int i = 0; i < depth; i++) {
      s = Struct.newBuilder().putFields("a", Value.newBuilder().setStructValue(s).build()).build();
    }
    return s;
  }

  static UpsertRequest deepUpsert() {
    return UpsertRequest.newBuilder().setCollection("c")
        .addItems(Item.newBuilder().setId("x").setMetadata(nested(200))).build();
  }

  static void assertRefused(Throwable e) {
    Status s = Status.fromThrowable(e);
    assertThat(s.getCode()).as(String.valueOf(s.getDescription())).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(s.getDescription()).contains("nested deeper than 100 levels");
  }

  @Test
  void upsertWithMetadataNested200Deep_isInvalidArgument_loggedInOneLineWithoutAStackTrace() {
    grpcLog.clear();
    try (LogCapture log = LogCapture.of("io.jointspace.server.api.ParseGuard", Level.INFO)) {
      assertThatThrownBy(() -> stub.upsert(deepUpsert())).isInstanceOf(StatusRuntimeException.class)
          .satisfies(RequestNestingTest::assertRefused);
      assertThat(log.messages()).hasSize(1);
      assertThat(log.messages().get(0)).contains("CollectionService/Upsert").doesNotContain("\n");
    }
    assertThat(grpcLog).noneMatch(r -> r.getThrown() != null || r.getLevel().intValue() >= java.util.logging.Level.WARNING.intValue());
  }

  @Test
  void searchWithAFilterNested10000Deep_isInvalidArgument() {
    // written by hand: protobuf-java serializes recursively, and 10,000 levels overflow the client's stack
    ByteString filter = Filter.newBuilder().setExists("n").build().toByteString();
    for (int i = 0; i < 10_000; i++) {
      filter = field(Filter.NOT_FIELD_NUMBER, filter);
    }
    ByteString request = SearchRequest.newBuilder().setCollection("c").build().toByteString()
        .concat(field(SearchRequest.FILTER_FIELD_NUMBER, filter));
    MethodDescriptor<ByteString, ByteString> search = CollectionServiceGrpc.getSearchMethod().toBuilder(BYTES, BYTES)
        .build();
    assertThatThrownBy(() -> ClientCalls.blockingUnaryCall(fixture.channel, search,
        CallOptions.DEFAULT.withDeadlineAfter(30, TimeUnit.SECONDS), request))
        .isInstanceOf(StatusRuntimeException.class).satisfies(RequestNestingTest::assertRefused);
  }

  /** A length-delimited field. */
  static ByteString field(int number, ByteString value) {
    try {
      ByteString.Output out = ByteString.newOutput(value.size() + 8);
      CodedOutputStream c = CodedOutputStream.newInstance(out);
      c.writeTag(number, WireFormat.WIRETYPE_LENGTH_DELIMITED);
      c.writeUInt32NoTag(value.size());
      c.flush();
      return out.toByteString().concat(value);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  static final MethodDescriptor.Marshaller<ByteString> BYTES = new MethodDescriptor.Marshaller<>() {
    @Override
    public InputStream stream(ByteString value) {
      return value.newInput();
    }

    @Override
    public ByteString parse(InputStream stream) {
      try {
        return ByteString.readFrom(stream);
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }
  };

  @Test
  void aStreamMessageNestedTooDeep_endsTheStreamWithInvalidArgument() throws Exception {
    CompletableFuture<Throwable> end = new CompletableFuture<>();
    StreamObserver<UpsertStreamRequest> requests = CollectionServiceGrpc.newStub(fixture.channel)
        .upsertStream(new StreamObserver<UpsertStreamResponse>() {
          @Override
          public void onNext(UpsertStreamResponse value) {}

          @Override
          public void onError(Throwable t) {
            end.complete(t);
          }

          @Override
          public void onCompleted() {
            end.complete(null);
          }
        });
    requests.onNext(UpsertStreamRequest.newBuilder().setCollection("c")
        .addItems(Item.newBuilder().setId("x").setMetadata(nested(200))).build());
    Throwable e = end.get(30, TimeUnit.SECONDS);
    assertThat(e).isNotNull();
    assertRefused(e);
    requests.onCompleted();
  }
}
