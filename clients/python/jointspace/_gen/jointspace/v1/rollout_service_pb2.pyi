from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from jointspace._gen.jointspace.v1 import embedding_service_pb2 as _embedding_service_pb2
from jointspace._gen.jointspace.v1 import types_pb2 as _types_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor
UNEMBEDDABLE_DROP: UnembeddablePolicy
UNEMBEDDABLE_FAIL: UnembeddablePolicy
UNEMBEDDABLE_KEEP_IN_OLD: UnembeddablePolicy
UNEMBEDDABLE_UNSPECIFIED: UnembeddablePolicy

class EvaluateRolloutRequest(_message.Message):
    __slots__ = ["class_key", "class_template", "collection", "k", "queries", "rollout_id", "sample_size"]
    CLASS_KEY_FIELD_NUMBER: _ClassVar[int]
    CLASS_TEMPLATE_FIELD_NUMBER: _ClassVar[int]
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    K_FIELD_NUMBER: _ClassVar[int]
    QUERIES_FIELD_NUMBER: _ClassVar[int]
    ROLLOUT_ID_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_SIZE_FIELD_NUMBER: _ClassVar[int]
    class_key: str
    class_template: str
    collection: str
    k: int
    queries: _containers.RepeatedCompositeFieldContainer[LabeledQuery]
    rollout_id: int
    sample_size: int
    def __init__(self, collection: _Optional[str] = ..., rollout_id: _Optional[int] = ..., sample_size: _Optional[int] = ..., k: _Optional[int] = ..., queries: _Optional[_Iterable[_Union[LabeledQuery, _Mapping]]] = ..., class_key: _Optional[str] = ..., class_template: _Optional[str] = ...) -> None: ...

class Evaluation(_message.Message):
    __slots__ = ["evaluated_at", "k", "neighbour_agreement", "notes", "sampled_items", "to"]
    EVALUATED_AT_FIELD_NUMBER: _ClassVar[int]
    FROM_FIELD_NUMBER: _ClassVar[int]
    K_FIELD_NUMBER: _ClassVar[int]
    NEIGHBOUR_AGREEMENT_FIELD_NUMBER: _ClassVar[int]
    NOTES_FIELD_NUMBER: _ClassVar[int]
    SAMPLED_ITEMS_FIELD_NUMBER: _ClassVar[int]
    TO_FIELD_NUMBER: _ClassVar[int]
    evaluated_at: _timestamp_pb2.Timestamp
    k: int
    neighbour_agreement: float
    notes: _containers.RepeatedScalarFieldContainer[str]
    sampled_items: int
    to: VersionScores
    def __init__(self, neighbour_agreement: _Optional[float] = ..., k: _Optional[int] = ..., sampled_items: _Optional[int] = ..., to: _Optional[_Union[VersionScores, _Mapping]] = ..., evaluated_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., notes: _Optional[_Iterable[str]] = ..., **kwargs) -> None: ...

class GetRolloutRequest(_message.Message):
    __slots__ = ["collection", "rollout_id"]
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    ROLLOUT_ID_FIELD_NUMBER: _ClassVar[int]
    collection: str
    rollout_id: int
    def __init__(self, collection: _Optional[str] = ..., rollout_id: _Optional[int] = ...) -> None: ...

class ItemFailure(_message.Message):
    __slots__ = ["attempts", "error", "id"]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    attempts: int
    error: str
    id: str
    def __init__(self, id: _Optional[str] = ..., error: _Optional[str] = ..., attempts: _Optional[int] = ...) -> None: ...

class LabeledQuery(_message.Message):
    __slots__ = ["expected_ids", "query"]
    EXPECTED_IDS_FIELD_NUMBER: _ClassVar[int]
    QUERY_FIELD_NUMBER: _ClassVar[int]
    expected_ids: _containers.RepeatedScalarFieldContainer[str]
    query: _embedding_service_pb2.Input
    def __init__(self, query: _Optional[_Union[_embedding_service_pb2.Input, _Mapping]] = ..., expected_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class ListRolloutsRequest(_message.Message):
    __slots__ = ["collection"]
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    collection: str
    def __init__(self, collection: _Optional[str] = ...) -> None: ...

class ListRolloutsResponse(_message.Message):
    __slots__ = ["rollouts"]
    ROLLOUTS_FIELD_NUMBER: _ClassVar[int]
    rollouts: _containers.RepeatedCompositeFieldContainer[Rollout]
    def __init__(self, rollouts: _Optional[_Iterable[_Union[Rollout, _Mapping]]] = ...) -> None: ...

class Rollout(_message.Message):
    __slots__ = ["collection", "created_at", "created_by", "error", "evaluation", "failures", "finalize_after", "finished_at", "id", "progress", "promoted_at", "rate_limit", "ready_at", "state", "to", "to_dimension", "unembeddable"]
    class State(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = []
    ABORTED: Rollout.State
    BACKFILLING: Rollout.State
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    CREATED_BY_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    EVALUATION_FIELD_NUMBER: _ClassVar[int]
    FAILED: Rollout.State
    FAILURES_FIELD_NUMBER: _ClassVar[int]
    FINALIZED: Rollout.State
    FINALIZE_AFTER_FIELD_NUMBER: _ClassVar[int]
    FINISHED_AT_FIELD_NUMBER: _ClassVar[int]
    FROM_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    PAUSED: Rollout.State
    PENDING: Rollout.State
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    PROMOTED: Rollout.State
    PROMOTED_AT_FIELD_NUMBER: _ClassVar[int]
    RATE_LIMIT_FIELD_NUMBER: _ClassVar[int]
    READY: Rollout.State
    READY_AT_FIELD_NUMBER: _ClassVar[int]
    ROLLED_BACK: Rollout.State
    STATE_FIELD_NUMBER: _ClassVar[int]
    STATE_UNSPECIFIED: Rollout.State
    TO_DIMENSION_FIELD_NUMBER: _ClassVar[int]
    TO_FIELD_NUMBER: _ClassVar[int]
    UNEMBEDDABLE_FIELD_NUMBER: _ClassVar[int]
    collection: str
    created_at: _timestamp_pb2.Timestamp
    created_by: str
    error: str
    evaluation: Evaluation
    failures: _containers.RepeatedCompositeFieldContainer[ItemFailure]
    finalize_after: _duration_pb2.Duration
    finished_at: _timestamp_pb2.Timestamp
    id: int
    progress: RolloutProgress
    promoted_at: _timestamp_pb2.Timestamp
    rate_limit: float
    ready_at: _timestamp_pb2.Timestamp
    state: Rollout.State
    to: _types_pb2.ModelSpec
    to_dimension: int
    unembeddable: UnembeddablePolicy
    def __init__(self, id: _Optional[int] = ..., collection: _Optional[str] = ..., to: _Optional[_Union[_types_pb2.ModelSpec, _Mapping]] = ..., state: _Optional[_Union[Rollout.State, str]] = ..., to_dimension: _Optional[int] = ..., unembeddable: _Optional[_Union[UnembeddablePolicy, str]] = ..., rate_limit: _Optional[float] = ..., progress: _Optional[_Union[RolloutProgress, _Mapping]] = ..., failures: _Optional[_Iterable[_Union[ItemFailure, _Mapping]]] = ..., evaluation: _Optional[_Union[Evaluation, _Mapping]] = ..., error: _Optional[str] = ..., created_by: _Optional[str] = ..., finalize_after: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ..., created_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., ready_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., promoted_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., finished_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., **kwargs) -> None: ...

class RolloutProgress(_message.Message):
    __slots__ = ["done", "eta", "failed", "index_built", "items_per_second", "remaining", "total", "unembeddable"]
    DONE_FIELD_NUMBER: _ClassVar[int]
    ETA_FIELD_NUMBER: _ClassVar[int]
    FAILED_FIELD_NUMBER: _ClassVar[int]
    INDEX_BUILT_FIELD_NUMBER: _ClassVar[int]
    ITEMS_PER_SECOND_FIELD_NUMBER: _ClassVar[int]
    REMAINING_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    UNEMBEDDABLE_FIELD_NUMBER: _ClassVar[int]
    done: int
    eta: _duration_pb2.Duration
    failed: int
    index_built: bool
    items_per_second: float
    remaining: int
    total: int
    unembeddable: int
    def __init__(self, total: _Optional[int] = ..., done: _Optional[int] = ..., remaining: _Optional[int] = ..., failed: _Optional[int] = ..., unembeddable: _Optional[int] = ..., items_per_second: _Optional[float] = ..., eta: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ..., index_built: bool = ...) -> None: ...

class RolloutRequest(_message.Message):
    __slots__ = ["collection", "rollout_id"]
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    ROLLOUT_ID_FIELD_NUMBER: _ClassVar[int]
    collection: str
    rollout_id: int
    def __init__(self, collection: _Optional[str] = ..., rollout_id: _Optional[int] = ...) -> None: ...

class ScoreDistribution(_message.Message):
    __slots__ = ["mean", "median", "p10"]
    MEAN_FIELD_NUMBER: _ClassVar[int]
    MEDIAN_FIELD_NUMBER: _ClassVar[int]
    P10_FIELD_NUMBER: _ClassVar[int]
    mean: float
    median: float
    p10: float
    def __init__(self, median: _Optional[float] = ..., p10: _Optional[float] = ..., mean: _Optional[float] = ...) -> None: ...

class SetRolloutRateRequest(_message.Message):
    __slots__ = ["collection", "rate_limit", "rollout_id"]
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    RATE_LIMIT_FIELD_NUMBER: _ClassVar[int]
    ROLLOUT_ID_FIELD_NUMBER: _ClassVar[int]
    collection: str
    rate_limit: float
    rollout_id: int
    def __init__(self, collection: _Optional[str] = ..., rollout_id: _Optional[int] = ..., rate_limit: _Optional[float] = ...) -> None: ...

class StartRolloutRequest(_message.Message):
    __slots__ = ["collection", "dry_run", "finalize_after", "rate_limit", "target", "unembeddable"]
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    FINALIZE_AFTER_FIELD_NUMBER: _ClassVar[int]
    RATE_LIMIT_FIELD_NUMBER: _ClassVar[int]
    TARGET_FIELD_NUMBER: _ClassVar[int]
    UNEMBEDDABLE_FIELD_NUMBER: _ClassVar[int]
    collection: str
    dry_run: bool
    finalize_after: _duration_pb2.Duration
    rate_limit: float
    target: _types_pb2.ModelSpec
    unembeddable: UnembeddablePolicy
    def __init__(self, collection: _Optional[str] = ..., target: _Optional[_Union[_types_pb2.ModelSpec, _Mapping]] = ..., unembeddable: _Optional[_Union[UnembeddablePolicy, str]] = ..., rate_limit: _Optional[float] = ..., finalize_after: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ..., dry_run: bool = ...) -> None: ...

class VersionScores(_message.Message):
    __slots__ = ["class_precision_at_k", "model", "rank1", "rank_k", "recall_at_k", "zero_shot_accuracy"]
    CLASS_PRECISION_AT_K_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    RANK1_FIELD_NUMBER: _ClassVar[int]
    RANK_K_FIELD_NUMBER: _ClassVar[int]
    RECALL_AT_K_FIELD_NUMBER: _ClassVar[int]
    ZERO_SHOT_ACCURACY_FIELD_NUMBER: _ClassVar[int]
    class_precision_at_k: float
    model: _types_pb2.ModelSpec
    rank1: ScoreDistribution
    rank_k: ScoreDistribution
    recall_at_k: float
    zero_shot_accuracy: float
    def __init__(self, model: _Optional[_Union[_types_pb2.ModelSpec, _Mapping]] = ..., rank1: _Optional[_Union[ScoreDistribution, _Mapping]] = ..., rank_k: _Optional[_Union[ScoreDistribution, _Mapping]] = ..., recall_at_k: _Optional[float] = ..., zero_shot_accuracy: _Optional[float] = ..., class_precision_at_k: _Optional[float] = ...) -> None: ...

class UnembeddablePolicy(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []
