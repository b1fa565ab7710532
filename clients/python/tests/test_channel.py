"""What the client does on the wire, against an in-process server: the retry policy
(idempotent methods, upserts and deletes by id included, are retried on UNAVAILABLE and
RESOURCE_EXHAUSTED; creating collections and rollout steps never) and
ingest's flow control."""

import queue
import threading
import time
from concurrent import futures

import grpc
import pytest

from jointspace import Client, ResourceExhausted, Unavailable
from jointspace._gen.jointspace.v1 import (
    collection_service_pb2 as collection_pb,
    collection_service_pb2_grpc,
    embedding_service_pb2 as embedding_pb,
    embedding_service_pb2_grpc,
)


class Fake(embedding_service_pb2_grpc.EmbeddingServiceServicer,
           collection_service_pb2_grpc.CollectionServiceServicer):
    """Answers each unary method with `failures` errors of `code` first, and counts the calls."""

    def __init__(self, failures: int = 0, code: grpc.StatusCode = grpc.StatusCode.UNAVAILABLE) -> None:
        self.failures = failures
        self.code = code
        self.calls = {}
        self.most_ahead = 0
        self.authorization = None

    def _count(self, method, context):
        self.calls[method] = self.calls.get(method, 0) + 1
        self.authorization = dict(context.invocation_metadata()).get("authorization")
        if self.calls[method] <= self.failures:
            context.abort(self.code, f"{method} attempt {self.calls[method]} fails")

    def Embed(self, request, context):
        self._count("Embed", context)
        return embedding_pb.EmbedResponse(dimension=1, embeddings=[embedding_pb.Embedding(values=[1.0])])

    def Upsert(self, request, context):
        self._count("Upsert", context)
        return collection_pb.UpsertResponse(upserted_count=len(request.items))

    def CreateCollection(self, request, context):
        self._count("CreateCollection", context)
        return collection_pb.Collection(name=request.name)

    def UpsertStream(self, request_iterator, context):
        """Commits slowly, while a thread takes in whatever the client sends meanwhile."""
        self._count("UpsertStream", context)
        received = queue.Queue()
        arrived = 0

        def take_in():
            nonlocal arrived
            for message in request_iterator:
                arrived += 1
                received.put(message)
            received.put(None)

        threading.Thread(target=take_in, daemon=True).start()
        answered = total = 0
        while (message := received.get()) is not None:
            time.sleep(0.02)
            self.most_ahead = max(self.most_ahead, arrived - answered)
            total += len(message.items)
            yield collection_pb.UpsertStreamResponse(committed_count=len(message.items), total_committed=total,
                                                     message_index=answered)
            answered += 1


@pytest.fixture
def fake_server():
    servers = []

    def start(service: Fake) -> str:
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        embedding_service_pb2_grpc.add_EmbeddingServiceServicer_to_server(service, server)
        collection_service_pb2_grpc.add_CollectionServiceServicer_to_server(service, server)
        port = server.add_insecure_port("127.0.0.1:0")
        server.start()
        servers.append(server)
        return f"127.0.0.1:{port}"

    yield start
    for server in servers:
        server.stop(None)


@pytest.mark.parametrize("code", [grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.RESOURCE_EXHAUSTED])
def test_idempotent_calls_are_retried(fake_server, code):
    service = Fake(2, code)
    with Client(fake_server(service), initial_backoff=0.01, max_backoff=0.05) as client:
        assert client.embed(texts=["x"]) == [[1.0]]
    assert service.calls["Embed"] == 3


def test_api_key_is_sent_with_every_call_as_a_bearer_token(fake_server):
    service = Fake()
    with Client(fake_server(service), api_key="js_0123456789abcdef_secret") as client:
        assert client.embed(texts=["x"]) == [[1.0]]
        assert service.authorization == "Bearer js_0123456789abcdef_secret"
        client.ingest("c", ({"id": f"i{n}", "text": "x"} for n in range(3)), batch_size=2)
        assert service.calls["UpsertStream"] == 1
        assert service.authorization == "Bearer js_0123456789abcdef_secret"
    plain = Fake()
    with Client(fake_server(plain)) as client:
        client.embed(texts=["x"])
    assert plain.authorization is None


def test_upserts_by_id_are_retried_creating_is_not(fake_server):
    service = Fake(1)
    with Client(fake_server(service), initial_backoff=0.01) as client:
        # writing the same items again leaves the same rows: safe to repeat
        assert client.upsert("c", [{"id": "a", "text": "x"}]) == 1
        assert service.calls["Upsert"] == 2
        with pytest.raises(Unavailable):
            client.create_collection("c")
        assert service.calls["CreateCollection"] == 1


def test_retries_give_up_after_the_attempts(fake_server):
    service = Fake(10, grpc.StatusCode.RESOURCE_EXHAUSTED)
    with Client(fake_server(service), retry_attempts=3, initial_backoff=0.01, max_backoff=0.05) as client:
        with pytest.raises(ResourceExhausted):
            client.embed(texts=["x"])
    assert service.calls["Embed"] == 3


def test_retries_can_be_turned_off(fake_server):
    service = Fake(1)
    with Client(fake_server(service), retry_attempts=1) as client:
        with pytest.raises(Unavailable):
            client.embed(texts=["x"])
    assert service.calls["Embed"] == 1


@pytest.mark.parametrize("max_ahead", [1, 3])
def test_ingest_sends_at_most_max_ahead_messages_before_their_commit(fake_server, max_ahead):
    service = Fake()
    items = ({"id": f"i{n}", "text": "x"} for n in range(200))
    with Client(fake_server(service)) as client:
        result = client.ingest("c", items, batch_size=10, max_ahead=max_ahead)
    assert (result.committed, result.messages) == (200, 20)
    assert service.most_ahead == max_ahead
