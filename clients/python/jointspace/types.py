"""Plain values the client takes and returns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

from ._convert import ImageSource, from_struct, image_bytes, to_struct
from ._gen.jointspace.v1 import collection_service_pb2 as pb
from ._gen.jointspace.v1 import embedding_service_pb2 as embedding_pb

__all__ = ["Item", "StoredItem", "Hit", "LabelScore", "Scores", "IngestResult"]


@dataclass(frozen=True)
class Item:
    """An item to store: its id, one of ``text``, ``image`` or ``vector``, and metadata."""

    id: str
    text: Optional[str] = None
    image: Optional[ImageSource] = None
    vector: Optional[Sequence[float]] = None
    metadata: Optional[Mapping[str, Any]] = None

    @staticmethod
    def of(value: Union["Item", Mapping[str, Any]]) -> "Item":
        """An Item from an Item or a dict with the same keys."""
        return value if isinstance(value, Item) else Item(**value)

    def to_proto(self) -> pb.Item:
        given = [name for name in ("text", "image", "vector") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(f"item {self.id!r}: give exactly one of text, image, vector")
        item = pb.Item(id=self.id, metadata=to_struct(self.metadata))
        if self.text is not None:
            item.input.text = self.text
        elif self.image is not None:
            item.input.image = image_bytes(self.image)
        else:
            item.vector.values.extend(self.vector)
        return item


@dataclass(frozen=True)
class StoredItem:
    """An item as stored; ``vector`` and the source (``text`` or ``image``) when asked for."""

    id: str
    metadata: Dict[str, Any]
    vector: Optional[List[float]]
    text: Optional[str]
    image: Optional[bytes]
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def from_proto(item: pb.StoredItem) -> "StoredItem":
        source = item.source.WhichOneof("content") if item.HasField("source") else None
        return StoredItem(
            id=item.id,
            metadata=from_struct(item.metadata),
            vector=list(item.vector.values) if item.HasField("vector") else None,
            text=item.source.text if source == "text" else None,
            image=item.source.image if source == "image" else None,
            created_at=item.created_at.ToDatetime(),
            updated_at=item.updated_at.ToDatetime(),
        )


@dataclass(frozen=True)
class Hit:
    """A search result: higher ``score`` is closer."""

    id: str
    score: float
    metadata: Dict[str, Any]
    vector: Optional[List[float]] = None

    @staticmethod
    def from_proto(hit: pb.Hit) -> "Hit":
        return Hit(
            id=hit.id,
            score=hit.score,
            metadata=from_struct(hit.metadata),
            vector=list(hit.vector.values) if hit.HasField("vector") else None,
        )


@dataclass(frozen=True)
class LabelScore:
    """One label of a classification: softmax ``probability`` and ``cosine`` similarity."""

    label: str
    probability: float
    cosine: float

    @staticmethod
    def from_proto(score: embedding_pb.LabelScore) -> "LabelScore":
        return LabelScore(score.label, score.probability, score.cosine)


@dataclass(frozen=True)
class Scores:
    """Cosine similarity of each query (row) to each candidate (column), and the softmax
    over the candidates when it was asked for."""

    cosines: List[List[float]]
    probabilities: Optional[List[List[float]]] = None


@dataclass(frozen=True)
class IngestResult:
    """What ``Client.ingest`` did: items committed, items skipped as already stored
    (``resume=True``), and stream messages sent."""

    committed: int = 0
    skipped: int = 0
    messages: int = 0
