"""Python client of Jointspace, a gRPC server for multimodal embeddings.

>>> from jointspace import Client, F
>>> with Client("localhost:8500") as client:
...     vectors = client.embed(texts=["a red star"], images=["docs/samples/red-star.png"])
"""

from ._rollouts import RolloutState
from .client import Client
from .errors import (
    Aborted,
    AlreadyExists,
    Cancelled,
    DataLoss,
    DeadlineExceeded,
    FailedPrecondition,
    Internal,
    InvalidArgument,
    JointspaceError,
    NotFound,
    OutOfRange,
    PermissionDenied,
    ResourceExhausted,
    Unauthenticated,
    Unavailable,
    Unimplemented,
    Unknown,
)
from .filters import F, Filter
from .types import Hit, IngestResult, Item, LabelScore, Scores, StoredItem

__version__ = "0.1.0"

__all__ = [
    "Client",
    "F",
    "Filter",
    "Item",
    "StoredItem",
    "Hit",
    "LabelScore",
    "Scores",
    "IngestResult",
    "RolloutState",
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
