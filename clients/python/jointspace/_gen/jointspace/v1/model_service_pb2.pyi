from google.protobuf import timestamp_pb2 as _timestamp_pb2
from jointspace._gen.jointspace.config.v1 import encoder_spec_pb2 as _encoder_spec_pb2
from jointspace._gen.jointspace.v1 import types_pb2 as _types_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

AVAILABLE: ModelState
DESCRIPTOR: _descriptor.FileDescriptor
END: ModelState
ERROR: ModelState
LOADING: ModelState
MODEL_STATE_UNSPECIFIED: ModelState
NEW: ModelState
UNLOADING: ModelState

class DeleteLabelRequest(_message.Message):
    __slots__ = ["changed_by", "label", "model"]
    CHANGED_BY_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    changed_by: str
    label: str
    model: str
    def __init__(self, model: _Optional[str] = ..., label: _Optional[str] = ..., changed_by: _Optional[str] = ...) -> None: ...

class DeleteVersionRequest(_message.Message):
    __slots__ = ["model", "version"]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    model: str
    version: int
    def __init__(self, model: _Optional[str] = ..., version: _Optional[int] = ...) -> None: ...

class DeleteVersionResponse(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class GetModelMetadataRequest(_message.Message):
    __slots__ = ["model"]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    model: _types_pb2.ModelSpec
    def __init__(self, model: _Optional[_Union[_types_pb2.ModelSpec, _Mapping]] = ...) -> None: ...

class GetModelMetadataResponse(_message.Message):
    __slots__ = ["embedding_dimension", "encoder", "model", "signatures", "tags"]
    EMBEDDING_DIMENSION_FIELD_NUMBER: _ClassVar[int]
    ENCODER_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    SIGNATURES_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    embedding_dimension: int
    encoder: _encoder_spec_pb2.EncoderSpec
    model: _types_pb2.ModelSpec
    signatures: _containers.RepeatedCompositeFieldContainer[SignatureMetadata]
    tags: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, model: _Optional[_Union[_types_pb2.ModelSpec, _Mapping]] = ..., tags: _Optional[_Iterable[str]] = ..., signatures: _Optional[_Iterable[_Union[SignatureMetadata, _Mapping]]] = ..., embedding_dimension: _Optional[int] = ..., encoder: _Optional[_Union[_encoder_spec_pb2.EncoderSpec, _Mapping]] = ...) -> None: ...

class GetModelStatusRequest(_message.Message):
    __slots__ = ["name", "version"]
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    name: str
    version: int
    def __init__(self, name: _Optional[str] = ..., version: _Optional[int] = ...) -> None: ...

class GetModelStatusResponse(_message.Message):
    __slots__ = ["labels", "name", "versions"]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSIONS_FIELD_NUMBER: _ClassVar[int]
    labels: _containers.RepeatedCompositeFieldContainer[Label]
    name: str
    versions: _containers.RepeatedCompositeFieldContainer[ModelVersionStatus]
    def __init__(self, name: _Optional[str] = ..., versions: _Optional[_Iterable[_Union[ModelVersionStatus, _Mapping]]] = ..., labels: _Optional[_Iterable[_Union[Label, _Mapping]]] = ...) -> None: ...

class Label(_message.Message):
    __slots__ = ["last_change", "name", "target"]
    LAST_CHANGE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    TARGET_FIELD_NUMBER: _ClassVar[int]
    last_change: LabelChange
    name: str
    target: LabelTarget
    def __init__(self, name: _Optional[str] = ..., target: _Optional[_Union[LabelTarget, _Mapping]] = ..., last_change: _Optional[_Union[LabelChange, _Mapping]] = ...) -> None: ...

class LabelChange(_message.Message):
    __slots__ = ["changed_at", "changed_by", "label", "model", "to"]
    CHANGED_AT_FIELD_NUMBER: _ClassVar[int]
    CHANGED_BY_FIELD_NUMBER: _ClassVar[int]
    FROM_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    TO_FIELD_NUMBER: _ClassVar[int]
    changed_at: _timestamp_pb2.Timestamp
    changed_by: str
    label: str
    model: str
    to: LabelTarget
    def __init__(self, model: _Optional[str] = ..., label: _Optional[str] = ..., to: _Optional[_Union[LabelTarget, _Mapping]] = ..., changed_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., changed_by: _Optional[str] = ..., **kwargs) -> None: ...

class LabelTarget(_message.Message):
    __slots__ = ["weights"]
    class WeightsEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: int
        value: int
        def __init__(self, key: _Optional[int] = ..., value: _Optional[int] = ...) -> None: ...
    WEIGHTS_FIELD_NUMBER: _ClassVar[int]
    weights: _containers.ScalarMap[int, int]
    def __init__(self, weights: _Optional[_Mapping[int, int]] = ...) -> None: ...

class ListLabelHistoryRequest(_message.Message):
    __slots__ = ["label", "model"]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    label: str
    model: str
    def __init__(self, model: _Optional[str] = ..., label: _Optional[str] = ...) -> None: ...

class ListLabelHistoryResponse(_message.Message):
    __slots__ = ["changes"]
    CHANGES_FIELD_NUMBER: _ClassVar[int]
    changes: _containers.RepeatedCompositeFieldContainer[LabelChange]
    def __init__(self, changes: _Optional[_Iterable[_Union[LabelChange, _Mapping]]] = ...) -> None: ...

class ListModelsRequest(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class ListModelsResponse(_message.Message):
    __slots__ = ["models"]
    MODELS_FIELD_NUMBER: _ClassVar[int]
    models: _containers.RepeatedCompositeFieldContainer[ModelSummary]
    def __init__(self, models: _Optional[_Iterable[_Union[ModelSummary, _Mapping]]] = ...) -> None: ...

class ModelSummary(_message.Message):
    __slots__ = ["label_details", "labels", "name", "versions"]
    class LabelsEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    LABELS_FIELD_NUMBER: _ClassVar[int]
    LABEL_DETAILS_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSIONS_FIELD_NUMBER: _ClassVar[int]
    label_details: _containers.RepeatedCompositeFieldContainer[Label]
    labels: _containers.ScalarMap[str, int]
    name: str
    versions: _containers.RepeatedCompositeFieldContainer[ModelVersionStatus]
    def __init__(self, name: _Optional[str] = ..., versions: _Optional[_Iterable[_Union[ModelVersionStatus, _Mapping]]] = ..., labels: _Optional[_Mapping[str, int]] = ..., label_details: _Optional[_Iterable[_Union[Label, _Mapping]]] = ...) -> None: ...

class ModelVersionStatus(_message.Message):
    __slots__ = ["labels", "last_error", "since", "state", "version"]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    labels: _containers.RepeatedScalarFieldContainer[str]
    last_error: str
    since: _timestamp_pb2.Timestamp
    state: ModelState
    version: int
    def __init__(self, version: _Optional[int] = ..., state: _Optional[_Union[ModelState, str]] = ..., since: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., last_error: _Optional[str] = ..., labels: _Optional[_Iterable[str]] = ...) -> None: ...

class SetLabelRequest(_message.Message):
    __slots__ = ["allow_loading", "changed_by", "label", "model", "split", "version"]
    ALLOW_LOADING_FIELD_NUMBER: _ClassVar[int]
    CHANGED_BY_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    SPLIT_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    allow_loading: bool
    changed_by: str
    label: str
    model: str
    split: LabelTarget
    version: int
    def __init__(self, model: _Optional[str] = ..., label: _Optional[str] = ..., version: _Optional[int] = ..., split: _Optional[_Union[LabelTarget, _Mapping]] = ..., allow_loading: bool = ..., changed_by: _Optional[str] = ...) -> None: ...

class SignatureMetadata(_message.Message):
    __slots__ = ["inputs", "method_name", "name", "outputs"]
    INPUTS_FIELD_NUMBER: _ClassVar[int]
    METHOD_NAME_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    OUTPUTS_FIELD_NUMBER: _ClassVar[int]
    inputs: _containers.RepeatedCompositeFieldContainer[TensorSpec]
    method_name: str
    name: str
    outputs: _containers.RepeatedCompositeFieldContainer[TensorSpec]
    def __init__(self, name: _Optional[str] = ..., method_name: _Optional[str] = ..., inputs: _Optional[_Iterable[_Union[TensorSpec, _Mapping]]] = ..., outputs: _Optional[_Iterable[_Union[TensorSpec, _Mapping]]] = ...) -> None: ...

class TensorSpec(_message.Message):
    __slots__ = ["dtype", "name", "rank_known", "shape", "tensor_name"]
    DTYPE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    RANK_KNOWN_FIELD_NUMBER: _ClassVar[int]
    SHAPE_FIELD_NUMBER: _ClassVar[int]
    TENSOR_NAME_FIELD_NUMBER: _ClassVar[int]
    dtype: _types_pb2.DataType
    name: str
    rank_known: bool
    shape: _containers.RepeatedScalarFieldContainer[int]
    tensor_name: str
    def __init__(self, name: _Optional[str] = ..., dtype: _Optional[_Union[_types_pb2.DataType, str]] = ..., shape: _Optional[_Iterable[int]] = ..., rank_known: bool = ..., tensor_name: _Optional[str] = ...) -> None: ...

class UploadHeader(_message.Message):
    __slots__ = ["model", "uploaded_by", "version"]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    UPLOADED_BY_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    model: str
    uploaded_by: str
    version: int
    def __init__(self, model: _Optional[str] = ..., version: _Optional[int] = ..., uploaded_by: _Optional[str] = ...) -> None: ...

class UploadVersionRequest(_message.Message):
    __slots__ = ["chunk", "header"]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    HEADER_FIELD_NUMBER: _ClassVar[int]
    chunk: bytes
    header: UploadHeader
    def __init__(self, header: _Optional[_Union[UploadHeader, _Mapping]] = ..., chunk: _Optional[bytes] = ...) -> None: ...

class UploadVersionResponse(_message.Message):
    __slots__ = ["archive_bytes", "files", "model", "version"]
    ARCHIVE_BYTES_FIELD_NUMBER: _ClassVar[int]
    FILES_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    archive_bytes: int
    files: int
    model: str
    version: int
    def __init__(self, model: _Optional[str] = ..., version: _Optional[int] = ..., archive_bytes: _Optional[int] = ..., files: _Optional[int] = ...) -> None: ...

class ModelState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []
