"""Bulk ingest over CollectionService.UpsertStream, with flow control and resume."""

from __future__ import annotations

import itertools
import threading
from typing import TYPE_CHECKING, Any, Iterable, Iterator, List, Optional, TypeVar

import grpc

from ._gen.jointspace.v1 import collection_service_pb2 as pb
from .errors import from_rpc_error
from .types import IngestResult, Item

if TYPE_CHECKING:
    from ._collections import Collections

T = TypeVar("T")

MAX_ITEMS_PER_MESSAGE = 10000
# Room left in each message for gRPC's framing and the collection name's field.
_MESSAGE_HEADROOM = 4096


def chunks(values: Iterable[T], size: int) -> Iterator[List[T]]:
    """Consecutive lists of ``size`` values (the last one shorter)."""
    iterator = iter(values)
    while part := list(itertools.islice(iterator, size)):
        yield part


def _field_size(size: int) -> int:
    """Bytes an item of ``size`` bytes takes in its message: tag, length, body."""
    return 1 + max(1, (size.bit_length() + 6) // 7) + size


def messages(collection: str, items: Iterable[pb.Item], batch_size: int,
             max_message_bytes: int) -> Iterator[pb.UpsertStreamRequest]:
    """Stream messages of at most ``batch_size`` items and ``max_message_bytes`` bytes."""
    budget = max_message_bytes - _MESSAGE_HEADROOM - len(collection.encode())
    batch: List[pb.Item] = []
    size = 0
    for item in items:
        item_size = _field_size(item.ByteSize())
        if item_size > budget:
            raise ValueError(f"item {item.id!r} takes {item_size} bytes, more than a message "
                             f"may ({max_message_bytes})")
        if len(batch) == batch_size or size + item_size > budget:
            yield pb.UpsertStreamRequest(collection=collection, items=batch)
            batch, size = [], 0
        batch.append(item)
        size += item_size
    if batch:
        yield pb.UpsertStreamRequest(collection=collection, items=batch)


class _Ingest:
    """One ingest: the request side runs on gRPC's thread, the answers on the caller's."""

    def __init__(self, client: "Collections", collection: str, max_ahead: int) -> None:
        self.client = client
        self.collection = collection
        self.ahead = threading.Semaphore(max_ahead)
        self.finished = threading.Event()
        self.failure: Optional[BaseException] = None
        self.skipped = 0
        self.sent = 0

    def unstored(self, items: Iterable[pb.Item]) -> Iterator[pb.Item]:
        """The items whose ids the collection does not hold yet."""
        for part in chunks(items, 1000):
            stored = {item.id for item in self.client.get(self.collection, [i.id for i in part])}
            self.skipped += sum(1 for item in part if item.id in stored)
            yield from (item for item in part if item.id not in stored)

    def requests(self, messages: Iterator[pb.UpsertStreamRequest]) -> Iterator[pb.UpsertStreamRequest]:
        """Sends each message once fewer than ``max_ahead`` are waiting for their commit.

        An exception while preparing messages (from the caller's items, a file, a lookup)
        ends the stream normally, so what was sent is committed, and is raised afterwards.
        """
        try:
            for message in messages:
                while not self.ahead.acquire(timeout=0.1):
                    if self.finished.is_set():
                        return
                self.sent += 1
                yield message
        except Exception as error:  # raised again on the caller's thread
            self.failure = error

    def run(self, messages: Iterator[pb.UpsertStreamRequest], timeout: Optional[float]) -> IngestResult:
        call = self.client._collections.UpsertStream(self.requests(messages), timeout=timeout)
        committed = 0
        try:
            for response in call:
                self.ahead.release()
                committed = response.total_committed
        except grpc.RpcError as error:
            raise from_rpc_error(error, pb.UpsertStreamRequest.DESCRIPTOR) from None
        finally:
            self.finished.set()
            call.cancel()
        if self.failure is not None:
            raise self.failure
        return IngestResult(committed=committed, skipped=self.skipped, messages=self.sent)


def ingest(client: "Collections", collection: str, items: Iterable[Any], batch_size: int, *,
           resume: bool, max_ahead: int, timeout: Optional[float]) -> IngestResult:
    """See ``Client.ingest``."""
    if not 1 <= batch_size <= MAX_ITEMS_PER_MESSAGE:
        raise ValueError(f"batch_size must be 1..{MAX_ITEMS_PER_MESSAGE}, got {batch_size}")
    if max_ahead < 1:
        raise ValueError(f"max_ahead must be positive, got {max_ahead}")
    run = _Ingest(client, collection, max_ahead)
    protos: Iterable[pb.Item] = (Item.of(item).to_proto() for item in items)
    if resume:
        protos = run.unstored(protos)
    return run.run(messages(collection, protos, batch_size, client.max_message_bytes), timeout)
