"""Collections: ingest, resume, get, delete, filtered search."""

import itertools
from typing import Iterator

import pytest

from conftest import SAMPLES
from jointspace import Client, F, Item

COLORS = ["red", "green", "blue", "yellow", "purple"]
SHAPES = ["star", "circle", "triangle", "square", "hexagon"]


def captions(count: int) -> Iterator[dict]:
    """Items "a {color} {shape}" with their color, shape and index as metadata."""
    pairs = itertools.cycle(itertools.product(COLORS, SHAPES))
    for n, (color, shape) in zip(range(count), pairs):
        yield {"id": f"item-{n:04d}", "text": f"a {color} {shape}",
               "metadata": {"color": color, "shape": shape, "n": n}}


class Interrupted(Exception):
    pass


def failing_after(items: Iterator[dict], count: int) -> Iterator[dict]:
    yield from itertools.islice(items, count)
    raise Interrupted(f"stopped after {count} items")


def test_indexed_keys_set_at_creation_and_changed_by_update(client: Client, collection_name: str):
    created = client.create_collection(collection_name, version=2, indexed_keys=["color", "info.kind"])
    assert list(created.indexed_keys) == ["color", "info.kind"]
    updated = client.update_collection(collection_name, indexed_keys=["color"])
    assert list(updated.indexed_keys) == ["color"] and updated.description == ""
    described = client.update_collection(collection_name, description="by color")
    assert described.description == "by color" and list(described.indexed_keys) == ["color"]
    client.ingest(collection_name, captions(200), batch_size=100)
    hits = client.search(collection_name, text="a blue circle", top_k=5, filter=F.eq("color", "blue"))
    assert len(hits) == 5 and all(h.metadata["color"] == "blue" for h in hits)


def test_ingest_500_items_then_search_with_a_filter(client: Client, collection_name: str):
    client.create_collection(collection_name, version=2, description="pytest")
    result = client.ingest(collection_name, captions(500), batch_size=100)
    assert (result.committed, result.skipped, result.messages) == (500, 0, 5)
    assert client.get_collection(collection_name).item_count == 500

    blue_from_100 = F.eq("color", "blue") & F.range("n", gte=100)
    hits = client.search(collection_name, text="a blue circle", top_k=5, filter=blue_from_100)
    assert len(hits) == 5
    assert all(h.metadata["color"] == "blue" and h.metadata["n"] >= 100 for h in hits)
    assert hits[0].metadata["shape"] == "circle"
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)

    either = F.in_("shape", ["star", "hexagon"]) & ~(F.eq("color", "red") | F.eq("color", "green"))
    hits = client.search(collection_name, text="a red star", top_k=50, filter=either & F.exists("n"))
    assert hits and all(h.metadata["shape"] in ("star", "hexagon") for h in hits)
    assert all(h.metadata["color"] not in ("red", "green") for h in hits)


def test_ingest_resumes_after_a_partial_run(client: Client, collection_name: str):
    client.create_collection(collection_name, version=2)
    with pytest.raises(Interrupted):
        client.ingest(collection_name, failing_after(captions(500), 250), batch_size=100)
    # the two full messages were sent and committed; the half-built third never left
    assert client.get_collection(collection_name).item_count == 200

    result = client.ingest(collection_name, captions(500), batch_size=100, resume=True)
    assert (result.committed, result.skipped) == (300, 200)
    assert client.get_collection(collection_name).item_count == 500

    again = client.ingest(collection_name, captions(500), resume=True)
    assert (again.committed, again.skipped, again.messages) == (0, 500, 0)


def test_ingest_keeps_messages_under_the_size_limit(client: Client, collection_name: str):
    client.create_collection(collection_name, version=2)
    image = (SAMPLES / "red-star.png").read_bytes()
    items = [Item(id=f"img-{n}", image=image) for n in range(20)]
    with Client(client.address, max_message_bytes=4 * len(image) + 8192) as small:
        result = small.ingest(collection_name, items, batch_size=1000)
    assert result.committed == 20 and result.messages == 5


def test_upsert_get_delete_and_search_by_id_and_vector(client: Client, collection_name: str):
    client.create_collection(collection_name, version=2)
    written = client.upsert(collection_name, [
        Item(id="star", image=SAMPLES / "red-star.png", metadata={"color": "red"}),
        {"id": "circle", "image": SAMPLES / "blue-circle.png", "metadata": {"color": "blue"}},
        {"id": "caption", "text": "a small green hexagon at the top", "metadata": {"info": {"year": 2023}}},
    ])
    assert written == 3

    items = client.get(collection_name, ["circle", "missing", "caption"], include_vectors=True,
                       include_sources=True)
    assert [i.id for i in items] == ["circle", "caption"]
    assert items[0].image == (SAMPLES / "blue-circle.png").read_bytes() and items[0].text is None
    assert items[1].text == "a small green hexagon at the top" and len(items[1].vector) == 64
    assert items[1].metadata == {"info": {"year": 2023}}

    hits = client.search(collection_name, id="star", top_k=5)
    assert "star" not in [h.id for h in hits] and len(hits) == 2
    hits = client.search(collection_name, vector=items[0].vector, top_k=1, include_vectors=True)
    assert hits[0].id == "circle" and hits[0].score == pytest.approx(1.0, abs=1e-4)
    hits = client.search(collection_name, text="x", filter=F.range("info.year", gt=2020, lt=2030))
    assert [h.id for h in hits] == ["caption"]

    assert client.delete(collection_name, ["star", "missing"]) == 1
    assert client.get_collection(collection_name).item_count == 2
    assert collection_name in [c.name for c in client.list_collections()]
