"""Exceptions raised for failed calls: one class per gRPC status code."""

from __future__ import annotations

import re
from typing import Optional

import grpc
from google.protobuf.descriptor import Descriptor

__all__ = [
    "JointspaceError",
    "Cancelled",
    "Unknown",
    "InvalidArgument",
    "DeadlineExceeded",
    "NotFound",
    "AlreadyExists",
    "PermissionDenied",
    "ResourceExhausted",
    "FailedPrecondition",
    "Aborted",
    "OutOfRange",
    "Unimplemented",
    "Internal",
    "Unavailable",
    "DataLoss",
    "Unauthenticated",
]


class JointspaceError(Exception):
    """A call the server (or the channel) answered with an error status.

    Attributes:
        code: the gRPC status code.
        message: the server's message, as sent.
        field: the request field the message starts with (for example ``"items[3].id"``),
            or ``None`` when it names none.
    """

    code: grpc.StatusCode = grpc.StatusCode.UNKNOWN

    def __init__(self, message: str, *, code: Optional[grpc.StatusCode] = None,
                 field: Optional[str] = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return f"{self.code.name}: {self.message}"


class Cancelled(JointspaceError):
    code = grpc.StatusCode.CANCELLED


class Unknown(JointspaceError):
    code = grpc.StatusCode.UNKNOWN


class InvalidArgument(JointspaceError, ValueError):
    code = grpc.StatusCode.INVALID_ARGUMENT


class DeadlineExceeded(JointspaceError, TimeoutError):
    code = grpc.StatusCode.DEADLINE_EXCEEDED


class NotFound(JointspaceError, LookupError):
    code = grpc.StatusCode.NOT_FOUND


class AlreadyExists(JointspaceError):
    code = grpc.StatusCode.ALREADY_EXISTS


class PermissionDenied(JointspaceError):
    code = grpc.StatusCode.PERMISSION_DENIED


class ResourceExhausted(JointspaceError):
    code = grpc.StatusCode.RESOURCE_EXHAUSTED


class FailedPrecondition(JointspaceError):
    code = grpc.StatusCode.FAILED_PRECONDITION


class Aborted(JointspaceError):
    code = grpc.StatusCode.ABORTED


class OutOfRange(JointspaceError):
    code = grpc.StatusCode.OUT_OF_RANGE


class Unimplemented(JointspaceError):
    code = grpc.StatusCode.UNIMPLEMENTED


class Internal(JointspaceError):
    code = grpc.StatusCode.INTERNAL


class Unavailable(JointspaceError):
    code = grpc.StatusCode.UNAVAILABLE


class DataLoss(JointspaceError):
    code = grpc.StatusCode.DATA_LOSS


class Unauthenticated(JointspaceError):
    code = grpc.StatusCode.UNAUTHENTICATED


_BY_CODE = {cls.code: cls for cls in JointspaceError.__subclasses__()}

# Codes whose messages start with the request field at fault, when they name one.
_NAMING_FIELDS = (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.RESOURCE_EXHAUSTED)
# A stream's error names the request message it is about first ("message 3: items[1].id ...").
_STREAM_MESSAGE = re.compile(r"message \d+: ")
# A field path: names with optional indexes, joined by dots ("items[3].input.text").
_PATH = re.compile(r"[A-Za-z_]\w*(?:\[\d+\])?(?:\.[A-Za-z_]\w*(?:\[\d+\])?)*")


def from_rpc_error(error: grpc.RpcError, request_type: Optional[Descriptor] = None) -> JointspaceError:
    """The exception for a failed call; ``request_type`` lets it recognize field paths."""
    code = error.code() if hasattr(error, "code") else grpc.StatusCode.UNKNOWN
    message = (error.details() if hasattr(error, "details") else None) or str(error)
    cls = _BY_CODE.get(code, JointspaceError)
    field = field_of(message, request_type) if code in _NAMING_FIELDS else None
    return cls(message, code=code, field=field)


def field_of(message: str, request_type: Optional[Descriptor]) -> Optional[str]:
    """The field path ``message`` starts with, when the request type has such a field.

    Server messages read "FIELD PROBLEM" ("items[3].id is empty"), where the path may be
    followed by a space or a colon, and on a stream come after "message N: ". Only a path
    whose first name is a field of the request is taken, so a message that starts with an
    ordinary word names no field; the path is kept up to the last name the request type has.
    """
    if request_type is None:
        return None
    prefix = _STREAM_MESSAGE.match(message)
    match = _PATH.match(message, prefix.end() if prefix else 0)
    if match is None or match.end() < len(message) and message[match.end()] not in " :":
        return None
    kept = []
    descriptor: Optional[Descriptor] = request_type
    for part in match.group(0).split("."):
        field = descriptor.fields_by_name.get(part.split("[", 1)[0]) if descriptor else None
        if field is None:
            break
        kept.append(part)
        descriptor = field.message_type
    return ".".join(kept) or None
