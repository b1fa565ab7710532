package io.jointspace.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.jointspace.api.v1.EmbedRequest;
import io.jointspace.api.v1.EmbeddingServiceGrpc;
import io.jointspace.api.v1.GetModelStatusRequest;
import io.jointspace.api.v1.Input;
import io.jointspace.api.v1.Label;
import io.jointspace.api.v1.LabelChange;
import io.jointspace.api.v1.LabelTarget;
import io.jointspace.api.v1.ListLabelHistoryRequest;
import io.jointspace.api.v1.ModelServiceGrpc;
import io.jointspace.api.v1.ModelSpec;
import io.jointspace.api.v1.SetLabelRequest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A client that moves labels of shapes-clip (which must serve versions 1 and 2) back and
 * forth, one change after another, while two others embed through them, until the server is
 * killed; then checks what the next server reports: each label where its last acknowledged
 * change put it, or where the change in flight at the kill put it, never anything else (a
 * split never half written); a history with every acknowledged change in order, each
 * starting where the one before ended; calls through the labels going where they point.
 */
final class LabelMover {
  private static final String MODEL = "shapes-clip";

  private final Map<Integer, LabelChange> acked = new ConcurrentHashMap<>();
  /** The change whose call is open; -1: none. */
  private final AtomicInteger sending = new AtomicInteger(-1);
  private final AtomicBoolean running = new AtomicBoolean(true);
  private final AtomicBoolean killed = new AtomicBoolean();
  private final List<Throwable> readerFailures = new CopyOnWriteArrayList<>();
  private final AtomicInteger reads = new AtomicInteger();
  private final ExecutorService threads = Executors.newFixedThreadPool(3);
  private final List<Future<Integer>> loops = new ArrayList<>();
  private int pending = -1;

  /** Change {@code i}: "stable" to version 1 or 2 (even i), "canary" to a split with a weight of its own (odd i). */
  static SetLabelRequest change(int i) {
    SetLabelRequest.Builder b = SetLabelRequest.newBuilder().setModel(MODEL).setChangedBy("change-" + i);
    if (i % 2 == 0) {
      return b.setLabel("stable").setVersion(1 + (i / 2) % 2).build();
    }
    int w = 1 + (i % 97);
    return b.setLabel("canary").setSplit(LabelTarget.newBuilder().putWeights(1, w).putWeights(2, 100 - w)).build();
  }

  static Map<Long, Integer> target(SetLabelRequest r) {
    return r.hasSplit() ? r.getSplit().getWeightsMap() : Map.of(r.getVersion(), 1);
  }

  LabelMover(ManagedChannel channel) {
    var models = ModelServiceGrpc.newBlockingStub(channel);
    loops.add(threads.submit(() -> {
      for (int i = 0; running.get(); i++) {
        sending.set(i);
        try {
          acked.put(i, models.withDeadlineAfter(30, TimeUnit.SECONDS).setLabel(change(i)));
        } catch (StatusRuntimeException e) {
          sending.set(-1);
          return i; // the server went away: change i was not acknowledged
        }
        sending.set(-1);
      }
      return -1;
    }));
    // calls through the labels while they move; until the kill, none may fail
    for (String label : List.of("stable", "canary")) {
      loops.add(threads.submit(() -> {
        var embed = EmbeddingServiceGrpc.newBlockingStub(channel);
        while (running.get()) {
          try {
            long v = embed.withDeadlineAfter(30, TimeUnit.SECONDS).embed(EmbedRequest.newBuilder()
                .setModel(ModelSpec.newBuilder().setName(MODEL).setLabel(label))
                .addInputs(Input.newBuilder().setText("a red circle")).build()).getModel().getVersion();
            assertThat(v).isIn(1L, 2L);
            reads.incrementAndGet();
          } catch (StatusRuntimeException e) {
            if (!killed.get() && e.getStatus().getCode() != Status.Code.NOT_FOUND) { // NOT_FOUND: no change yet
              readerFailures.add(e);
            }
          }
        }
        return 0;
      }));
    }
  }

  /** At least {@code n} changes acknowledged, and the next one on its way. */
  boolean ready(int n) {
    return acked.size() >= n && sending.get() >= 0;
  }

  int acknowledged() {
    return acked.size();
  }

  /** Call just before the server is killed. */
  void killing() {
    killed.set(true);
  }

  /** After the kill: stops the clients; checks that only the change in flight went unanswered. */
  void stop() throws Exception {
    running.set(false);
    pending = loops.get(0).get(60, TimeUnit.SECONDS);
    for (Future<?> loop : loops) {
      loop.get(60, TimeUnit.SECONDS);
    }
    threads.shutdown();
    assertThat(readerFailures).isEmpty();
    assertThat(reads.get()).isPositive();
    assertThat(pending).as("the change in flight at the kill").isEqualTo(acked.size());
    for (int i = 0; i < pending; i++) {
      assertThat(acked).containsKey(i);
    }
  }

  /** What the server on {@code channel}, started after the kill, reports and does. */
  void checkAfterRestart(ManagedChannel channel) {
    var models = ModelServiceGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS);
    Map<String, Map<Long, Integer>> now = new HashMap<>();
    for (Label l : models.getModelStatus(GetModelStatusRequest.newBuilder().setName(MODEL).build()).getLabelsList()) {
      now.put(l.getName(), l.getTarget().getWeightsMap());
    }
    for (String label : List.of("stable", "canary")) {
      int parity = label.equals("stable") ? 0 : 1;
      int lastAcked = pending - 1;
      while (lastAcked % 2 != parity) {
        lastAcked--;
      }
      Map<Long, Integer> was = target(change(lastAcked));
      if (pending % 2 == parity) {
        assertThat(now.get(label)).as(label).isIn(was, target(change(pending)));
      } else {
        assertThat(now.get(label)).as(label).isEqualTo(was);
      }
      // the record: every acknowledged change in order, each from where the last one left it, ending where the label is
      List<LabelChange> history = models.listLabelHistory(ListLabelHistoryRequest.newBuilder().setModel(MODEL)
          .setLabel(label).build()).getChangesList();
      List<String> by = history.stream().map(LabelChange::getChangedBy).toList();
      List<String> expected = new ArrayList<>();
      for (int i = parity; i < pending; i += 2) {
        expected.add("change-" + i);
      }
      if (by.size() == expected.size() + 1) {
        expected.add("change-" + pending); // committed, its answer lost with the process
      }
      assertThat(by).as(label + " history").isEqualTo(expected);
      for (int k = 1; k < history.size(); k++) {
        assertThat(history.get(k).getFrom()).as("%s change %d starts where %d ended", label, k, k - 1)
            .isEqualTo(history.get(k - 1).getTo());
      }
      assertThat(history.get(history.size() - 1).getTo().getWeightsMap()).isEqualTo(now.get(label));
    }
    // calls through "stable" go where it points, and it moves again
    var embed = EmbeddingServiceGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS);
    long stable = now.get("stable").keySet().iterator().next();
    assertThat(embedThrough(embed, "stable")).isEqualTo(stable);
    assertThat(embedThrough(embed, "canary")).isIn(1L, 2L);
    models.setLabel(SetLabelRequest.newBuilder().setModel(MODEL).setLabel("stable").setVersion(3 - stable).build());
    assertThat(embedThrough(embed, "stable")).isEqualTo(3 - stable);
  }

  private static long embedThrough(EmbeddingServiceGrpc.EmbeddingServiceBlockingStub embed, String label) {
    return embed.embed(EmbedRequest.newBuilder().setModel(ModelSpec.newBuilder().setName(MODEL).setLabel(label))
        .addInputs(Input.newBuilder().setText("a red circle")).build()).getModel().getVersion();
  }
}
