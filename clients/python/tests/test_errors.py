"""Errors: the status code as an exception class, the server's message, the field at fault."""

import grpc
import pytest

from jointspace import (
    AlreadyExists,
    Client,
    FailedPrecondition,
    InvalidArgument,
    JointspaceError,
    NotFound,
    RolloutState,
)
from jointspace._gen.jointspace.v1 import collection_service_pb2, embedding_service_pb2
from jointspace.errors import field_of


def test_unknown_collection_is_not_found(client: Client):
    with pytest.raises(NotFound) as raised:
        client.search("no_such_collection", text="a red star")
    error = raised.value
    assert error.code == grpc.StatusCode.NOT_FOUND
    assert "no_such_collection" in error.message and error.field is None
    with pytest.raises(LookupError):  # NotFound is a LookupError too
        client.get_collection("no_such_collection")


def test_invalid_argument_names_the_field(client: Client, collection_name: str):
    client.create_collection(collection_name, version=2)
    with pytest.raises(InvalidArgument) as raised:
        client.upsert(collection_name, [{"id": "a", "text": "a red star"}, {"id": "", "text": "x"}])
    assert raised.value.field == "items[1].id"
    assert raised.value.message.startswith("items[1].id ")

    with pytest.raises(InvalidArgument) as raised:
        client.embed(texts=["a red star", ""], version=2)
    assert raised.value.field == "inputs[1].text"

    with pytest.raises(InvalidArgument) as raised:  # on a stream, after "message N: "
        client.ingest(collection_name, [{"id": "b", "vector": [0.5, 0.5]}])
    assert raised.value.field == "items[0].vector.values"
    assert client.get_collection(collection_name).item_count == 0


def test_already_exists_and_failed_precondition(client: Client, collection_name: str):
    client.create_collection(collection_name, version=1)
    with pytest.raises(AlreadyExists):
        client.create_collection(collection_name, version=1)
    client.upsert(collection_name, [{"id": "a", "text": "a red star"}])
    client.start_rollout(collection_name, 2)
    assert client.wait_for_rollout(collection_name, timeout=60).state == RolloutState.READY
    with pytest.raises(FailedPrecondition) as raised:
        client.finalize(collection_name)
    assert "cannot finalize" in raised.value.message
    assert client.abort(collection_name).state == RolloutState.ABORTED


def test_client_side_mistakes_raise_before_any_call(client: Client):
    with pytest.raises(ValueError):
        client.search("any", text="x", vector=[1.0])
    with pytest.raises(ValueError):
        client.embed(texts=["x"], version=1, label="stable")
    with pytest.raises(ValueError):
        client.upsert("any", [{"id": "a", "text": "x", "vector": [1.0]}])


@pytest.mark.parametrize("message, request_type, field", [
    ("items[3].id is empty", collection_service_pb2.UpsertRequest, "items[3].id"),
    ("items[3].input.text: too long", collection_service_pb2.UpsertRequest, "items[3].input.text"),
    ("message 2: items[0].id is empty", collection_service_pb2.UpsertStreamRequest, "items[0].id"),
    ("top_k 5000 is over the limit", collection_service_pb2.SearchRequest, "top_k"),
    ("filter.range mixes kinds", collection_service_pb2.SearchRequest, "filter.range"),
    ("filter.and.filters[2].range.key is empty", collection_service_pb2.SearchRequest,
     "filter.and.filters[2].range.key"),
    ("items[1].metadata.color is too big", collection_service_pb2.UpsertRequest, "items[1].metadata"),
    ("inputs[0].image is not an image", embedding_service_pb2.EmbedRequest, "inputs[0].image"),
    ("unknown model 'x'", embedding_service_pb2.EmbedRequest, None),
    ("inputs, of all things", embedding_service_pb2.EmbedRequest, None),
    ("name", collection_service_pb2.GetCollectionRequest, "name"),
])
def test_field_of(message, request_type, field):
    assert field_of(message, request_type.DESCRIPTOR) == field


def test_errors_print_code_and_message():
    error = NotFound("collection 'x' does not exist")
    assert str(error) == "NOT_FOUND: collection 'x' does not exist"
    assert isinstance(error, JointspaceError) and error.code == grpc.StatusCode.NOT_FOUND
