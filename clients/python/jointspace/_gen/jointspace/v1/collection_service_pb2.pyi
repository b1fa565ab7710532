from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import field_mask_pb2 as _field_mask_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from jointspace._gen.jointspace.v1 import embedding_service_pb2 as _embedding_service_pb2
from jointspace._gen.jointspace.v1 import rollout_service_pb2 as _rollout_service_pb2
from jointspace._gen.jointspace.v1 import types_pb2 as _types_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

COSINE: Metric
DESCRIPTOR: _descriptor.FileDescriptor
HALFVEC: VectorType
INNER_PRODUCT: Metric
L2: Metric
METRIC_UNSPECIFIED: Metric
VECTOR: VectorType
VECTOR_TYPE_UNSPECIFIED: VectorType

class Collection(_message.Message):
    __slots__ = ["created_at", "description", "dimension", "follows_label", "index", "indexed_keys", "item_count", "keep_sources", "label_policy", "metric", "model", "name", "rollout_id", "rollout_other", "vector_type", "view"]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    DIMENSION_FIELD_NUMBER: _ClassVar[int]
    FOLLOWS_LABEL_FIELD_NUMBER: _ClassVar[int]
    INDEXED_KEYS_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    ITEM_COUNT_FIELD_NUMBER: _ClassVar[int]
    KEEP_SOURCES_FIELD_NUMBER: _ClassVar[int]
    LABEL_POLICY_FIELD_NUMBER: _ClassVar[int]
    METRIC_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ROLLOUT_ID_FIELD_NUMBER: _ClassVar[int]
    ROLLOUT_OTHER_FIELD_NUMBER: _ClassVar[int]
    VECTOR_TYPE_FIELD_NUMBER: _ClassVar[int]
    VIEW_FIELD_NUMBER: _ClassVar[int]
    created_at: _timestamp_pb2.Timestamp
    description: str
    dimension: int
    follows_label: str
    index: IndexParameters
    indexed_keys: _containers.RepeatedScalarFieldContainer[str]
    item_count: int
    keep_sources: bool
    label_policy: LabelPolicy
    metric: Metric
    model: _types_pb2.ModelSpec
    name: str
    rollout_id: int
    rollout_other: _types_pb2.ModelSpec
    vector_type: VectorType
    view: str
    def __init__(self, name: _Optional[str] = ..., model: _Optional[_Union[_types_pb2.ModelSpec, _Mapping]] = ..., dimension: _Optional[int] = ..., metric: _Optional[_Union[Metric, str]] = ..., vector_type: _Optional[_Union[VectorType, str]] = ..., index: _Optional[_Union[IndexParameters, _Mapping]] = ..., keep_sources: bool = ..., description: _Optional[str] = ..., item_count: _Optional[int] = ..., created_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., view: _Optional[str] = ..., rollout_id: _Optional[int] = ..., rollout_other: _Optional[_Union[_types_pb2.ModelSpec, _Mapping]] = ..., follows_label: _Optional[str] = ..., label_policy: _Optional[_Union[LabelPolicy, _Mapping]] = ..., indexed_keys: _Optional[_Iterable[str]] = ...) -> None: ...

class CreateCollectionRequest(_message.Message):
    __slots__ = ["description", "dimension", "index", "indexed_keys", "keep_sources", "label_policy", "metric", "model", "name", "vector_type"]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    DIMENSION_FIELD_NUMBER: _ClassVar[int]
    INDEXED_KEYS_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    KEEP_SOURCES_FIELD_NUMBER: _ClassVar[int]
    LABEL_POLICY_FIELD_NUMBER: _ClassVar[int]
    METRIC_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    VECTOR_TYPE_FIELD_NUMBER: _ClassVar[int]
    description: str
    dimension: int
    index: IndexParameters
    indexed_keys: _containers.RepeatedScalarFieldContainer[str]
    keep_sources: bool
    label_policy: LabelPolicy
    metric: Metric
    model: _types_pb2.ModelSpec
    name: str
    vector_type: VectorType
    def __init__(self, name: _Optional[str] = ..., model: _Optional[_Union[_types_pb2.ModelSpec, _Mapping]] = ..., metric: _Optional[_Union[Metric, str]] = ..., vector_type: _Optional[_Union[VectorType, str]] = ..., index: _Optional[_Union[IndexParameters, _Mapping]] = ..., keep_sources: bool = ..., dimension: _Optional[int] = ..., description: _Optional[str] = ..., label_policy: _Optional[_Union[LabelPolicy, _Mapping]] = ..., indexed_keys: _Optional[_Iterable[str]] = ...) -> None: ...

class DeleteCollectionRequest(_message.Message):
    __slots__ = ["name"]
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class DeleteCollectionResponse(_message.Message):
    __slots__ = ["consistency_token"]
    CONSISTENCY_TOKEN_FIELD_NUMBER: _ClassVar[int]
    consistency_token: str
    def __init__(self, consistency_token: _Optional[str] = ...) -> None: ...

class DeleteRequest(_message.Message):
    __slots__ = ["collection", "ids"]
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    IDS_FIELD_NUMBER: _ClassVar[int]
    collection: str
    ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, collection: _Optional[str] = ..., ids: _Optional[_Iterable[str]] = ...) -> None: ...

class DeleteResponse(_message.Message):
    __slots__ = ["consistency_token", "deleted_count"]
    CONSISTENCY_TOKEN_FIELD_NUMBER: _ClassVar[int]
    DELETED_COUNT_FIELD_NUMBER: _ClassVar[int]
    consistency_token: str
    deleted_count: int
    def __init__(self, deleted_count: _Optional[int] = ..., consistency_token: _Optional[str] = ...) -> None: ...

class FieldValue(_message.Message):
    __slots__ = ["key", "value"]
    KEY_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    key: str
    value: _struct_pb2.Value
    def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ...) -> None: ...

class FieldValues(_message.Message):
    __slots__ = ["key", "values"]
    KEY_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    key: str
    values: _containers.RepeatedCompositeFieldContainer[_struct_pb2.Value]
    def __init__(self, key: _Optional[str] = ..., values: _Optional[_Iterable[_Union[_struct_pb2.Value, _Mapping]]] = ...) -> None: ...

class Filter(_message.Message):
    __slots__ = ["equals", "exists", "range"]
    AND_FIELD_NUMBER: _ClassVar[int]
    EQUALS_FIELD_NUMBER: _ClassVar[int]
    EXISTS_FIELD_NUMBER: _ClassVar[int]
    IN_FIELD_NUMBER: _ClassVar[int]
    NOT_FIELD_NUMBER: _ClassVar[int]
    OR_FIELD_NUMBER: _ClassVar[int]
    RANGE_FIELD_NUMBER: _ClassVar[int]
    equals: FieldValue
    exists: str
    range: Range
    def __init__(self, equals: _Optional[_Union[FieldValue, _Mapping]] = ..., range: _Optional[_Union[Range, _Mapping]] = ..., exists: _Optional[str] = ..., **kwargs) -> None: ...

class Filters(_message.Message):
    __slots__ = ["filters"]
    FILTERS_FIELD_NUMBER: _ClassVar[int]
    filters: _containers.RepeatedCompositeFieldContainer[Filter]
    def __init__(self, filters: _Optional[_Iterable[_Union[Filter, _Mapping]]] = ...) -> None: ...

class GetCollectionRequest(_message.Message):
    __slots__ = ["consistency_token", "name"]
    CONSISTENCY_TOKEN_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    consistency_token: str
    name: str
    def __init__(self, name: _Optional[str] = ..., consistency_token: _Optional[str] = ...) -> None: ...

class GetRequest(_message.Message):
    __slots__ = ["collection", "consistency_token", "ids", "include_sources", "include_vectors", "model_version"]
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    CONSISTENCY_TOKEN_FIELD_NUMBER: _ClassVar[int]
    IDS_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_SOURCES_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_VECTORS_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    collection: str
    consistency_token: str
    ids: _containers.RepeatedScalarFieldContainer[str]
    include_sources: bool
    include_vectors: bool
    model_version: int
    def __init__(self, collection: _Optional[str] = ..., ids: _Optional[_Iterable[str]] = ..., include_vectors: bool = ..., include_sources: bool = ..., model_version: _Optional[int] = ..., consistency_token: _Optional[str] = ...) -> None: ...

class GetResponse(_message.Message):
    __slots__ = ["items", "model"]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[StoredItem]
    model: _types_pb2.ModelSpec
    def __init__(self, items: _Optional[_Iterable[_Union[StoredItem, _Mapping]]] = ..., model: _Optional[_Union[_types_pb2.ModelSpec, _Mapping]] = ...) -> None: ...

class Hit(_message.Message):
    __slots__ = ["id", "metadata", "score", "vector"]
    ID_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    VECTOR_FIELD_NUMBER: _ClassVar[int]
    id: str
    metadata: _struct_pb2.Struct
    score: float
    vector: Vector
    def __init__(self, id: _Optional[str] = ..., score: _Optional[float] = ..., metadata: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., vector: _Optional[_Union[Vector, _Mapping]] = ...) -> None: ...

class IndexParameters(_message.Message):
    __slots__ = ["ef_construction", "m"]
    EF_CONSTRUCTION_FIELD_NUMBER: _ClassVar[int]
    M_FIELD_NUMBER: _ClassVar[int]
    ef_construction: int
    m: int
    def __init__(self, m: _Optional[int] = ..., ef_construction: _Optional[int] = ...) -> None: ...

class Item(_message.Message):
    __slots__ = ["id", "input", "metadata", "vector"]
    ID_FIELD_NUMBER: _ClassVar[int]
    INPUT_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    VECTOR_FIELD_NUMBER: _ClassVar[int]
    id: str
    input: _embedding_service_pb2.Input
    metadata: _struct_pb2.Struct
    vector: Vector
    def __init__(self, id: _Optional[str] = ..., input: _Optional[_Union[_embedding_service_pb2.Input, _Mapping]] = ..., vector: _Optional[_Union[Vector, _Mapping]] = ..., metadata: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class LabelPolicy(_message.Message):
    __slots__ = ["auto_promote", "class_key", "class_template", "finalize_after", "min_neighbour_agreement", "min_zero_shot_gain", "rate_limit", "unembeddable"]
    AUTO_PROMOTE_FIELD_NUMBER: _ClassVar[int]
    CLASS_KEY_FIELD_NUMBER: _ClassVar[int]
    CLASS_TEMPLATE_FIELD_NUMBER: _ClassVar[int]
    FINALIZE_AFTER_FIELD_NUMBER: _ClassVar[int]
    MIN_NEIGHBOUR_AGREEMENT_FIELD_NUMBER: _ClassVar[int]
    MIN_ZERO_SHOT_GAIN_FIELD_NUMBER: _ClassVar[int]
    RATE_LIMIT_FIELD_NUMBER: _ClassVar[int]
    UNEMBEDDABLE_FIELD_NUMBER: _ClassVar[int]
    auto_promote: bool
    class_key: str
    class_template: str
    finalize_after: _duration_pb2.Duration
    min_neighbour_agreement: float
    min_zero_shot_gain: float
    rate_limit: float
    unembeddable: _rollout_service_pb2.UnembeddablePolicy
    def __init__(self, auto_promote: bool = ..., min_neighbour_agreement: _Optional[float] = ..., class_key: _Optional[str] = ..., class_template: _Optional[str] = ..., min_zero_shot_gain: _Optional[float] = ..., unembeddable: _Optional[_Union[_rollout_service_pb2.UnembeddablePolicy, str]] = ..., rate_limit: _Optional[float] = ..., finalize_after: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class ListCollectionsRequest(_message.Message):
    __slots__ = ["consistency_token"]
    CONSISTENCY_TOKEN_FIELD_NUMBER: _ClassVar[int]
    consistency_token: str
    def __init__(self, consistency_token: _Optional[str] = ...) -> None: ...

class ListCollectionsResponse(_message.Message):
    __slots__ = ["collections"]
    COLLECTIONS_FIELD_NUMBER: _ClassVar[int]
    collections: _containers.RepeatedCompositeFieldContainer[Collection]
    def __init__(self, collections: _Optional[_Iterable[_Union[Collection, _Mapping]]] = ...) -> None: ...

class Range(_message.Message):
    __slots__ = ["gt", "gte", "key", "lt", "lte"]
    GTE_FIELD_NUMBER: _ClassVar[int]
    GT_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    LTE_FIELD_NUMBER: _ClassVar[int]
    LT_FIELD_NUMBER: _ClassVar[int]
    gt: _struct_pb2.Value
    gte: _struct_pb2.Value
    key: str
    lt: _struct_pb2.Value
    lte: _struct_pb2.Value
    def __init__(self, key: _Optional[str] = ..., gt: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., gte: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., lt: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., lte: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ...) -> None: ...

class SearchRequest(_message.Message):
    __slots__ = ["collection", "consistency_token", "ef_search", "filter", "id", "include_metadata", "include_vectors", "input", "model_version", "top_k", "vector"]
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    CONSISTENCY_TOKEN_FIELD_NUMBER: _ClassVar[int]
    EF_SEARCH_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_METADATA_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_VECTORS_FIELD_NUMBER: _ClassVar[int]
    INPUT_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    TOP_K_FIELD_NUMBER: _ClassVar[int]
    VECTOR_FIELD_NUMBER: _ClassVar[int]
    collection: str
    consistency_token: str
    ef_search: int
    filter: Filter
    id: str
    include_metadata: bool
    include_vectors: bool
    input: _embedding_service_pb2.Input
    model_version: int
    top_k: int
    vector: Vector
    def __init__(self, collection: _Optional[str] = ..., input: _Optional[_Union[_embedding_service_pb2.Input, _Mapping]] = ..., vector: _Optional[_Union[Vector, _Mapping]] = ..., id: _Optional[str] = ..., top_k: _Optional[int] = ..., filter: _Optional[_Union[Filter, _Mapping]] = ..., include_vectors: bool = ..., include_metadata: bool = ..., ef_search: _Optional[int] = ..., model_version: _Optional[int] = ..., consistency_token: _Optional[str] = ...) -> None: ...

class SearchResponse(_message.Message):
    __slots__ = ["hits", "model"]
    HITS_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    hits: _containers.RepeatedCompositeFieldContainer[Hit]
    model: _types_pb2.ModelSpec
    def __init__(self, hits: _Optional[_Iterable[_Union[Hit, _Mapping]]] = ..., model: _Optional[_Union[_types_pb2.ModelSpec, _Mapping]] = ...) -> None: ...

class StoredItem(_message.Message):
    __slots__ = ["created_at", "id", "metadata", "source", "updated_at", "vector"]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    VECTOR_FIELD_NUMBER: _ClassVar[int]
    created_at: _timestamp_pb2.Timestamp
    id: str
    metadata: _struct_pb2.Struct
    source: _embedding_service_pb2.Input
    updated_at: _timestamp_pb2.Timestamp
    vector: Vector
    def __init__(self, id: _Optional[str] = ..., metadata: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., vector: _Optional[_Union[Vector, _Mapping]] = ..., source: _Optional[_Union[_embedding_service_pb2.Input, _Mapping]] = ..., created_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class UpdateCollectionRequest(_message.Message):
    __slots__ = ["description", "indexed_keys", "name", "update_mask"]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    INDEXED_KEYS_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    description: str
    indexed_keys: _containers.RepeatedScalarFieldContainer[str]
    name: str
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, name: _Optional[str] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ..., description: _Optional[str] = ..., indexed_keys: _Optional[_Iterable[str]] = ...) -> None: ...

class UpsertRequest(_message.Message):
    __slots__ = ["collection", "items"]
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    collection: str
    items: _containers.RepeatedCompositeFieldContainer[Item]
    def __init__(self, collection: _Optional[str] = ..., items: _Optional[_Iterable[_Union[Item, _Mapping]]] = ...) -> None: ...

class UpsertResponse(_message.Message):
    __slots__ = ["consistency_token", "model", "upserted_count"]
    CONSISTENCY_TOKEN_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    UPSERTED_COUNT_FIELD_NUMBER: _ClassVar[int]
    consistency_token: str
    model: _types_pb2.ModelSpec
    upserted_count: int
    def __init__(self, upserted_count: _Optional[int] = ..., model: _Optional[_Union[_types_pb2.ModelSpec, _Mapping]] = ..., consistency_token: _Optional[str] = ...) -> None: ...

class UpsertStreamRequest(_message.Message):
    __slots__ = ["collection", "items"]
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    collection: str
    items: _containers.RepeatedCompositeFieldContainer[Item]
    def __init__(self, collection: _Optional[str] = ..., items: _Optional[_Iterable[_Union[Item, _Mapping]]] = ...) -> None: ...

class UpsertStreamResponse(_message.Message):
    __slots__ = ["committed_count", "consistency_token", "message_index", "total_committed"]
    COMMITTED_COUNT_FIELD_NUMBER: _ClassVar[int]
    CONSISTENCY_TOKEN_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_INDEX_FIELD_NUMBER: _ClassVar[int]
    TOTAL_COMMITTED_FIELD_NUMBER: _ClassVar[int]
    committed_count: int
    consistency_token: str
    message_index: int
    total_committed: int
    def __init__(self, committed_count: _Optional[int] = ..., total_committed: _Optional[int] = ..., message_index: _Optional[int] = ..., consistency_token: _Optional[str] = ...) -> None: ...

class Vector(_message.Message):
    __slots__ = ["values"]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    values: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, values: _Optional[_Iterable[float]] = ...) -> None: ...

class Metric(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class VectorType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []
