"""Metadata filters for search, written as Python expressions.

>>> from jointspace import F
>>> f = (F.eq("color", "blue") & F.range("n", gte=10)) | ~F.exists("draft")

Keys may be dotted paths into nested metadata (``"info.author"``). ``&`` and ``|`` of
several conditions are flattened into one ``and`` / ``or``.
"""

from __future__ import annotations

from typing import Any, Iterable

from google.protobuf import text_format

from ._convert import to_value
from ._gen.jointspace.v1 import collection_service_pb2 as pb

__all__ = ["F", "Filter"]


class Filter:
    """A condition on item metadata; combine with ``&``, ``|`` and ``~``."""

    __slots__ = ("proto",)

    def __init__(self, proto: pb.Filter) -> None:
        self.proto = proto

    def __and__(self, other: "Filter") -> "Filter":
        return self._join("and", other)

    def __or__(self, other: "Filter") -> "Filter":
        return self._join("or", other)

    def __invert__(self) -> "Filter":
        if self.proto.WhichOneof("condition") == "not":
            return Filter(getattr(self.proto, "not"))
        condition = pb.Filter()
        getattr(condition, "not").CopyFrom(self.proto)
        return Filter(condition)

    def _join(self, kind: str, other: "Filter") -> "Filter":
        if not isinstance(other, Filter):
            return NotImplemented
        joined = pb.Filter()
        filters = getattr(joined, kind).filters
        for part in (self.proto, other.proto):
            if part.WhichOneof("condition") == kind:
                filters.extend(getattr(part, kind).filters)
            else:
                filters.add().CopyFrom(part)
        return Filter(joined)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Filter) and self.proto == other.proto

    def __hash__(self) -> int:
        return hash(self.proto.SerializeToString(deterministic=True))

    def __repr__(self) -> str:
        return f"Filter({text_format.MessageToString(self.proto, as_one_line=True)})"


class F:
    """Builds filter conditions: ``F.eq``, ``F.in_``, ``F.range``, ``F.exists``."""

    @staticmethod
    def eq(key: str, value: Any) -> Filter:
        """``metadata[key]`` equals ``value`` (JSON equality: 3 equals 3.0, "3" does not)."""
        return Filter(pb.Filter(equals=pb.FieldValue(key=key, value=to_value(value))))

    @staticmethod
    def in_(key: str, values: Iterable[Any]) -> Filter:
        """``metadata[key]`` equals one of ``values`` (at least one)."""
        return Filter(pb.Filter(**{"in": pb.FieldValues(key=key, values=[to_value(v) for v in values])}))

    @staticmethod
    def range(key: str, *, gt: Any = None, gte: Any = None, lt: Any = None, lte: Any = None) -> Filter:
        """``metadata[key]`` within the bounds given (numbers, or strings in byte order)."""
        bounds = {name: to_value(v) for name, v in (("gt", gt), ("gte", gte), ("lt", lt), ("lte", lte))
                  if v is not None}
        if not bounds:
            raise ValueError("F.range needs at least one of gt, gte, lt, lte")
        return Filter(pb.Filter(range=pb.Range(key=key, **bounds)))

    @staticmethod
    def exists(key: str) -> Filter:
        """The metadata has ``key``, with any value (null included)."""
        return Filter(pb.Filter(exists=key))
