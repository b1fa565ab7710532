from jointspace._gen.google.rpc import status_pb2 as _status_pb2
from jointspace._gen.jointspace.v1 import types_pb2 as _types_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Classification(_message.Message):
    __slots__ = ["scores"]
    SCORES_FIELD_NUMBER: _ClassVar[int]
    scores: _containers.RepeatedCompositeFieldContainer[LabelScore]
    def __init__(self, scores: _Optional[_Iterable[_Union[LabelScore, _Mapping]]] = ...) -> None: ...

class ClassifyRequest(_message.Message):
    __slots__ = ["inputs", "labels", "model", "templates", "top_k"]
    INPUTS_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    TEMPLATES_FIELD_NUMBER: _ClassVar[int]
    TOP_K_FIELD_NUMBER: _ClassVar[int]
    inputs: _containers.RepeatedCompositeFieldContainer[Input]
    labels: _containers.RepeatedScalarFieldContainer[str]
    model: _types_pb2.ModelSpec
    templates: _containers.RepeatedScalarFieldContainer[str]
    top_k: int
    def __init__(self, model: _Optional[_Union[_types_pb2.ModelSpec, _Mapping]] = ..., inputs: _Optional[_Iterable[_Union[Input, _Mapping]]] = ..., labels: _Optional[_Iterable[str]] = ..., templates: _Optional[_Iterable[str]] = ..., top_k: _Optional[int] = ...) -> None: ...

class ClassifyResponse(_message.Message):
    __slots__ = ["model", "results"]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    model: _types_pb2.ModelSpec
    results: _containers.RepeatedCompositeFieldContainer[Classification]
    def __init__(self, model: _Optional[_Union[_types_pb2.ModelSpec, _Mapping]] = ..., results: _Optional[_Iterable[_Union[Classification, _Mapping]]] = ...) -> None: ...

class EmbedRequest(_message.Message):
    __slots__ = ["inputs", "model", "output_name"]
    INPUTS_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_NAME_FIELD_NUMBER: _ClassVar[int]
    inputs: _containers.RepeatedCompositeFieldContainer[Input]
    model: _types_pb2.ModelSpec
    output_name: str
    def __init__(self, model: _Optional[_Union[_types_pb2.ModelSpec, _Mapping]] = ..., inputs: _Optional[_Iterable[_Union[Input, _Mapping]]] = ..., output_name: _Optional[str] = ...) -> None: ...

class EmbedResponse(_message.Message):
    __slots__ = ["dimension", "embeddings", "model"]
    DIMENSION_FIELD_NUMBER: _ClassVar[int]
    EMBEDDINGS_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    dimension: int
    embeddings: _containers.RepeatedCompositeFieldContainer[Embedding]
    model: _types_pb2.ModelSpec
    def __init__(self, model: _Optional[_Union[_types_pb2.ModelSpec, _Mapping]] = ..., dimension: _Optional[int] = ..., embeddings: _Optional[_Iterable[_Union[Embedding, _Mapping]]] = ...) -> None: ...

class EmbedStreamRequest(_message.Message):
    __slots__ = ["request", "request_id"]
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    request: EmbedRequest
    request_id: str
    def __init__(self, request_id: _Optional[str] = ..., request: _Optional[_Union[EmbedRequest, _Mapping]] = ...) -> None: ...

class EmbedStreamResponse(_message.Message):
    __slots__ = ["error", "request_id", "response"]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_FIELD_NUMBER: _ClassVar[int]
    error: _status_pb2.Status
    request_id: str
    response: EmbedResponse
    def __init__(self, request_id: _Optional[str] = ..., response: _Optional[_Union[EmbedResponse, _Mapping]] = ..., error: _Optional[_Union[_status_pb2.Status, _Mapping]] = ...) -> None: ...

class Embedding(_message.Message):
    __slots__ = ["values"]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    values: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, values: _Optional[_Iterable[float]] = ...) -> None: ...

class Input(_message.Message):
    __slots__ = ["image", "tensor", "text"]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    TENSOR_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    image: bytes
    tensor: _types_pb2.Tensor
    text: str
    def __init__(self, text: _Optional[str] = ..., image: _Optional[bytes] = ..., tensor: _Optional[_Union[_types_pb2.Tensor, _Mapping]] = ...) -> None: ...

class LabelScore(_message.Message):
    __slots__ = ["cosine", "label", "probability"]
    COSINE_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    PROBABILITY_FIELD_NUMBER: _ClassVar[int]
    cosine: float
    label: str
    probability: float
    def __init__(self, label: _Optional[str] = ..., probability: _Optional[float] = ..., cosine: _Optional[float] = ...) -> None: ...

class ScoreRequest(_message.Message):
    __slots__ = ["candidates", "model", "queries", "softmax"]
    CANDIDATES_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    QUERIES_FIELD_NUMBER: _ClassVar[int]
    SOFTMAX_FIELD_NUMBER: _ClassVar[int]
    candidates: _containers.RepeatedCompositeFieldContainer[Input]
    model: _types_pb2.ModelSpec
    queries: _containers.RepeatedCompositeFieldContainer[Input]
    softmax: bool
    def __init__(self, model: _Optional[_Union[_types_pb2.ModelSpec, _Mapping]] = ..., queries: _Optional[_Iterable[_Union[Input, _Mapping]]] = ..., candidates: _Optional[_Iterable[_Union[Input, _Mapping]]] = ..., softmax: bool = ...) -> None: ...

class ScoreResponse(_message.Message):
    __slots__ = ["model", "rows"]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    model: _types_pb2.ModelSpec
    rows: _containers.RepeatedCompositeFieldContainer[ScoreRow]
    def __init__(self, model: _Optional[_Union[_types_pb2.ModelSpec, _Mapping]] = ..., rows: _Optional[_Iterable[_Union[ScoreRow, _Mapping]]] = ...) -> None: ...

class ScoreRow(_message.Message):
    __slots__ = ["cosines", "probabilities"]
    COSINES_FIELD_NUMBER: _ClassVar[int]
    PROBABILITIES_FIELD_NUMBER: _ClassVar[int]
    cosines: _containers.RepeatedScalarFieldContainer[float]
    probabilities: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, cosines: _Optional[_Iterable[float]] = ..., probabilities: _Optional[_Iterable[float]] = ...) -> None: ...
