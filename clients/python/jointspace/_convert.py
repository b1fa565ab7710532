"""Conversions between Python values and the API's messages."""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any, Mapping, Optional, Sequence, Union

from google.protobuf import duration_pb2, json_format, struct_pb2

from ._gen.jointspace.v1 import embedding_service_pb2 as embedding_pb
from ._gen.jointspace.v1 import types_pb2

ImageSource = Union[bytes, bytearray, memoryview, str, "os.PathLike[str]"]
"""Encoded image bytes, or the path of an image file."""

InputLike = Union[str, bytes, bytearray, memoryview, "os.PathLike[str]"]
"""A text (``str``), encoded image bytes, or the path of an image file (``pathlib.Path``)."""


def model_spec(model: str, version: Optional[int] = None, label: Optional[str] = None,
               routing_key: str = "") -> types_pb2.ModelSpec:
    """A ModelSpec; at most one of ``version`` and ``label``."""
    if version is not None and label is not None:
        raise ValueError("give a version or a label, not both")
    spec = types_pb2.ModelSpec(name=model, routing_key=routing_key)
    if version is not None:
        spec.version = version
    elif label is not None:
        spec.label = label
    return spec


def image_bytes(image: ImageSource) -> bytes:
    """The bytes of an image given as bytes or as a file path."""
    if isinstance(image, (bytes, bytearray, memoryview)):
        return bytes(image)
    if isinstance(image, (str, os.PathLike)):
        with open(image, "rb") as f:
            return f.read()
    raise TypeError(f"an image is bytes or a file path, not {type(image).__name__}")


def text_input(text: str) -> embedding_pb.Input:
    if not isinstance(text, str):
        raise TypeError(f"a text is a str, not {type(text).__name__}")
    return embedding_pb.Input(text=text)


def image_input(image: ImageSource) -> embedding_pb.Input:
    return embedding_pb.Input(image=image_bytes(image))


def to_input(value: InputLike) -> embedding_pb.Input:
    """A ``str`` is a text; bytes or a ``pathlib.Path`` (any ``os.PathLike``) an image."""
    if isinstance(value, str):
        return text_input(value)
    return image_input(value)


def inputs(texts: Optional[Sequence[str]], images: Optional[Sequence[ImageSource]]) -> list:
    """Texts first, then images, as Input messages."""
    if isinstance(texts, str):
        texts = [texts]
    if isinstance(images, (str, bytes, bytearray, memoryview, os.PathLike)):
        images = [images]
    result = [text_input(t) for t in texts or ()]
    result += [image_input(i) for i in images or ()]
    if not result:
        raise ValueError("give at least one text or image")
    return result


def to_value(value: Any) -> struct_pb2.Value:
    """A JSON-like Python value (None, bool, number, str, list, dict) as a protobuf Value."""
    holder = struct_pb2.Struct()
    holder.update({"v": value})
    return holder.fields["v"]


def to_struct(mapping: Optional[Mapping[str, Any]]) -> Optional[struct_pb2.Struct]:
    if mapping is None:
        return None
    struct = struct_pb2.Struct()
    struct.update(mapping)
    return struct


def from_struct(struct: struct_pb2.Struct) -> dict:
    """A Struct as a dict. JSON has one number type: whole numbers come back as floats."""
    return json_format.MessageToDict(struct)


def to_duration(value: Union[float, timedelta, None]) -> Optional[duration_pb2.Duration]:
    """Seconds (or a timedelta) as a Duration; None stays unset."""
    if value is None:
        return None
    duration = duration_pb2.Duration()
    duration.FromTimedelta(value if isinstance(value, timedelta) else timedelta(seconds=value))
    return duration


def enum_value(enum: Any, value: Union[str, int], prefix: str = "") -> int:
    """An enum value given by number or by name, case-insensitively, with or without prefix."""
    if isinstance(value, int):
        return value
    name = value.upper()
    for candidate in (name, prefix + name):
        if candidate in enum.keys():
            return enum.Value(candidate)
    raise ValueError(f"{value!r} is not one of {', '.join(enum.keys())}")
