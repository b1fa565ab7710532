from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

AUTH_AUTO: AuthMode
AUTH_OFF: AuthMode
AUTH_ON: AuthMode
DESCRIPTOR: _descriptor.FileDescriptor

class BatchingConfig(_message.Message):
    __slots__ = ["batch_threads", "enabled", "length_buckets", "max_batch_size", "max_concurrent_batches", "max_items_ahead", "max_queue_delay_micros", "max_queued_items", "preferred_batch_sizes", "wait_only_for_admitted"]
    BATCH_THREADS_FIELD_NUMBER: _ClassVar[int]
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    LENGTH_BUCKETS_FIELD_NUMBER: _ClassVar[int]
    MAX_BATCH_SIZE_FIELD_NUMBER: _ClassVar[int]
    MAX_CONCURRENT_BATCHES_FIELD_NUMBER: _ClassVar[int]
    MAX_ITEMS_AHEAD_FIELD_NUMBER: _ClassVar[int]
    MAX_QUEUED_ITEMS_FIELD_NUMBER: _ClassVar[int]
    MAX_QUEUE_DELAY_MICROS_FIELD_NUMBER: _ClassVar[int]
    PREFERRED_BATCH_SIZES_FIELD_NUMBER: _ClassVar[int]
    WAIT_ONLY_FOR_ADMITTED_FIELD_NUMBER: _ClassVar[int]
    batch_threads: int
    enabled: bool
    length_buckets: _containers.RepeatedScalarFieldContainer[int]
    max_batch_size: int
    max_concurrent_batches: int
    max_items_ahead: int
    max_queue_delay_micros: int
    max_queued_items: int
    preferred_batch_sizes: _containers.RepeatedScalarFieldContainer[int]
    wait_only_for_admitted: bool
    def __init__(self, enabled: bool = ..., max_batch_size: _Optional[int] = ..., max_queue_delay_micros: _Optional[int] = ..., max_queued_items: _Optional[int] = ..., batch_threads: _Optional[int] = ..., max_concurrent_batches: _Optional[int] = ..., max_items_ahead: _Optional[int] = ..., preferred_batch_sizes: _Optional[_Iterable[int]] = ..., length_buckets: _Optional[_Iterable[int]] = ..., wait_only_for_admitted: bool = ...) -> None: ...

class ModelConfig(_message.Message):
    __slots__ = ["base_path", "batching", "default_signature", "name", "session", "tags", "version_labels", "version_policy"]
    class VersionLabelsEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    BASE_PATH_FIELD_NUMBER: _ClassVar[int]
    BATCHING_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    SESSION_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    VERSION_LABELS_FIELD_NUMBER: _ClassVar[int]
    VERSION_POLICY_FIELD_NUMBER: _ClassVar[int]
    base_path: str
    batching: BatchingConfig
    default_signature: str
    name: str
    session: SessionConfig
    tags: _containers.RepeatedScalarFieldContainer[str]
    version_labels: _containers.ScalarMap[str, int]
    version_policy: VersionPolicy
    def __init__(self, name: _Optional[str] = ..., base_path: _Optional[str] = ..., version_policy: _Optional[_Union[VersionPolicy, _Mapping]] = ..., tags: _Optional[_Iterable[str]] = ..., default_signature: _Optional[str] = ..., session: _Optional[_Union[SessionConfig, _Mapping]] = ..., version_labels: _Optional[_Mapping[str, int]] = ..., batching: _Optional[_Union[BatchingConfig, _Mapping]] = ...) -> None: ...

class ModelRepositoryConfig(_message.Message):
    __slots__ = ["base_path", "only_configured_models", "poll_interval_ms"]
    BASE_PATH_FIELD_NUMBER: _ClassVar[int]
    ONLY_CONFIGURED_MODELS_FIELD_NUMBER: _ClassVar[int]
    POLL_INTERVAL_MS_FIELD_NUMBER: _ClassVar[int]
    base_path: str
    only_configured_models: bool
    poll_interval_ms: int
    def __init__(self, base_path: _Optional[str] = ..., poll_interval_ms: _Optional[int] = ..., only_configured_models: bool = ...) -> None: ...

class RolloutConfig(_message.Message):
    __slots__ = ["backfill_threads", "chunk_size", "lease_ms", "max_yield_ms"]
    BACKFILL_THREADS_FIELD_NUMBER: _ClassVar[int]
    CHUNK_SIZE_FIELD_NUMBER: _ClassVar[int]
    LEASE_MS_FIELD_NUMBER: _ClassVar[int]
    MAX_YIELD_MS_FIELD_NUMBER: _ClassVar[int]
    backfill_threads: int
    chunk_size: int
    lease_ms: int
    max_yield_ms: int
    def __init__(self, backfill_threads: _Optional[int] = ..., chunk_size: _Optional[int] = ..., lease_ms: _Optional[int] = ..., max_yield_ms: _Optional[int] = ...) -> None: ...

class ServerConfig(_message.Message):
    __slots__ = ["auth", "batching", "detailed_histograms", "grpc_address", "grpc_port", "grpc_threads", "health_port", "http_port", "load_threads", "max_concurrent_calls_per_connection", "max_image_bytes", "max_image_pixels", "max_inbound_message_bytes", "max_upload_bytes", "metrics_address", "metrics_port", "model_defaults", "model_repository", "models", "preprocess_queue", "preprocess_threads", "rollouts", "shutdown_grace_ms", "storage", "tls", "warmup"]
    AUTH_FIELD_NUMBER: _ClassVar[int]
    BATCHING_FIELD_NUMBER: _ClassVar[int]
    DETAILED_HISTOGRAMS_FIELD_NUMBER: _ClassVar[int]
    GRPC_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    GRPC_PORT_FIELD_NUMBER: _ClassVar[int]
    GRPC_THREADS_FIELD_NUMBER: _ClassVar[int]
    HEALTH_PORT_FIELD_NUMBER: _ClassVar[int]
    HTTP_PORT_FIELD_NUMBER: _ClassVar[int]
    LOAD_THREADS_FIELD_NUMBER: _ClassVar[int]
    MAX_CONCURRENT_CALLS_PER_CONNECTION_FIELD_NUMBER: _ClassVar[int]
    MAX_IMAGE_BYTES_FIELD_NUMBER: _ClassVar[int]
    MAX_IMAGE_PIXELS_FIELD_NUMBER: _ClassVar[int]
    MAX_INBOUND_MESSAGE_BYTES_FIELD_NUMBER: _ClassVar[int]
    MAX_UPLOAD_BYTES_FIELD_NUMBER: _ClassVar[int]
    METRICS_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    METRICS_PORT_FIELD_NUMBER: _ClassVar[int]
    MODELS_FIELD_NUMBER: _ClassVar[int]
    MODEL_DEFAULTS_FIELD_NUMBER: _ClassVar[int]
    MODEL_REPOSITORY_FIELD_NUMBER: _ClassVar[int]
    PREPROCESS_QUEUE_FIELD_NUMBER: _ClassVar[int]
    PREPROCESS_THREADS_FIELD_NUMBER: _ClassVar[int]
    ROLLOUTS_FIELD_NUMBER: _ClassVar[int]
    SHUTDOWN_GRACE_MS_FIELD_NUMBER: _ClassVar[int]
    STORAGE_FIELD_NUMBER: _ClassVar[int]
    TLS_FIELD_NUMBER: _ClassVar[int]
    WARMUP_FIELD_NUMBER: _ClassVar[int]
    auth: AuthMode
    batching: BatchingConfig
    detailed_histograms: bool
    grpc_address: str
    grpc_port: int
    grpc_threads: int
    health_port: int
    http_port: int
    load_threads: int
    max_concurrent_calls_per_connection: int
    max_image_bytes: int
    max_image_pixels: int
    max_inbound_message_bytes: int
    max_upload_bytes: int
    metrics_address: str
    metrics_port: int
    model_defaults: ModelConfig
    model_repository: ModelRepositoryConfig
    models: _containers.RepeatedCompositeFieldContainer[ModelConfig]
    preprocess_queue: int
    preprocess_threads: int
    rollouts: RolloutConfig
    shutdown_grace_ms: int
    storage: StorageConfig
    tls: TlsConfig
    warmup: WarmupConfig
    def __init__(self, grpc_port: _Optional[int] = ..., max_inbound_message_bytes: _Optional[int] = ..., model_repository: _Optional[_Union[ModelRepositoryConfig, _Mapping]] = ..., models: _Optional[_Iterable[_Union[ModelConfig, _Mapping]]] = ..., model_defaults: _Optional[_Union[ModelConfig, _Mapping]] = ..., shutdown_grace_ms: _Optional[int] = ..., load_threads: _Optional[int] = ..., max_image_bytes: _Optional[int] = ..., max_image_pixels: _Optional[int] = ..., preprocess_threads: _Optional[int] = ..., preprocess_queue: _Optional[int] = ..., batching: _Optional[_Union[BatchingConfig, _Mapping]] = ..., metrics_port: _Optional[int] = ..., storage: _Optional[_Union[StorageConfig, _Mapping]] = ..., detailed_histograms: bool = ..., max_upload_bytes: _Optional[int] = ..., rollouts: _Optional[_Union[RolloutConfig, _Mapping]] = ..., grpc_address: _Optional[str] = ..., auth: _Optional[_Union[AuthMode, str]] = ..., health_port: _Optional[int] = ..., metrics_address: _Optional[str] = ..., tls: _Optional[_Union[TlsConfig, _Mapping]] = ..., grpc_threads: _Optional[int] = ..., max_concurrent_calls_per_connection: _Optional[int] = ..., warmup: _Optional[_Union[WarmupConfig, _Mapping]] = ..., http_port: _Optional[int] = ...) -> None: ...

class SessionConfig(_message.Message):
    __slots__ = ["allow_soft_placement", "inter_op_threads", "intra_op_threads", "thread_spinning"]
    ALLOW_SOFT_PLACEMENT_FIELD_NUMBER: _ClassVar[int]
    INTER_OP_THREADS_FIELD_NUMBER: _ClassVar[int]
    INTRA_OP_THREADS_FIELD_NUMBER: _ClassVar[int]
    THREAD_SPINNING_FIELD_NUMBER: _ClassVar[int]
    allow_soft_placement: bool
    inter_op_threads: int
    intra_op_threads: int
    thread_spinning: bool
    def __init__(self, intra_op_threads: _Optional[int] = ..., inter_op_threads: _Optional[int] = ..., allow_soft_placement: bool = ..., thread_spinning: bool = ...) -> None: ...

class StorageConfig(_message.Message):
    __slots__ = ["bulk_load_max_rows", "connection_timeout_ms", "data_dir", "database_read_urls", "database_url", "index_build_memory_mb", "max_connections", "max_statement_timeout_ms", "replica_wait_ms"]
    BULK_LOAD_MAX_ROWS_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_TIMEOUT_MS_FIELD_NUMBER: _ClassVar[int]
    DATABASE_READ_URLS_FIELD_NUMBER: _ClassVar[int]
    DATABASE_URL_FIELD_NUMBER: _ClassVar[int]
    DATA_DIR_FIELD_NUMBER: _ClassVar[int]
    INDEX_BUILD_MEMORY_MB_FIELD_NUMBER: _ClassVar[int]
    MAX_CONNECTIONS_FIELD_NUMBER: _ClassVar[int]
    MAX_STATEMENT_TIMEOUT_MS_FIELD_NUMBER: _ClassVar[int]
    REPLICA_WAIT_MS_FIELD_NUMBER: _ClassVar[int]
    bulk_load_max_rows: int
    connection_timeout_ms: int
    data_dir: str
    database_read_urls: _containers.RepeatedScalarFieldContainer[str]
    database_url: str
    index_build_memory_mb: int
    max_connections: int
    max_statement_timeout_ms: int
    replica_wait_ms: int
    def __init__(self, database_url: _Optional[str] = ..., data_dir: _Optional[str] = ..., max_connections: _Optional[int] = ..., connection_timeout_ms: _Optional[int] = ..., max_statement_timeout_ms: _Optional[int] = ..., index_build_memory_mb: _Optional[int] = ..., bulk_load_max_rows: _Optional[int] = ..., database_read_urls: _Optional[_Iterable[str]] = ..., replica_wait_ms: _Optional[int] = ...) -> None: ...

class TlsConfig(_message.Message):
    __slots__ = ["cert_file", "client_ca_file", "key_file"]
    CERT_FILE_FIELD_NUMBER: _ClassVar[int]
    CLIENT_CA_FILE_FIELD_NUMBER: _ClassVar[int]
    KEY_FILE_FIELD_NUMBER: _ClassVar[int]
    cert_file: str
    client_ca_file: str
    key_file: str
    def __init__(self, cert_file: _Optional[str] = ..., key_file: _Optional[str] = ..., client_ca_file: _Optional[str] = ...) -> None: ...

class VersionPolicy(_message.Message):
    __slots__ = ["all", "latest", "specific"]
    class All(_message.Message):
        __slots__ = []
        def __init__(self) -> None: ...
    class Latest(_message.Message):
        __slots__ = ["num_versions"]
        NUM_VERSIONS_FIELD_NUMBER: _ClassVar[int]
        num_versions: int
        def __init__(self, num_versions: _Optional[int] = ...) -> None: ...
    class Specific(_message.Message):
        __slots__ = ["versions"]
        VERSIONS_FIELD_NUMBER: _ClassVar[int]
        versions: _containers.RepeatedScalarFieldContainer[int]
        def __init__(self, versions: _Optional[_Iterable[int]] = ...) -> None: ...
    ALL_FIELD_NUMBER: _ClassVar[int]
    LATEST_FIELD_NUMBER: _ClassVar[int]
    SPECIFIC_FIELD_NUMBER: _ClassVar[int]
    all: VersionPolicy.All
    latest: VersionPolicy.Latest
    specific: VersionPolicy.Specific
    def __init__(self, latest: _Optional[_Union[VersionPolicy.Latest, _Mapping]] = ..., all: _Optional[_Union[VersionPolicy.All, _Mapping]] = ..., specific: _Optional[_Union[VersionPolicy.Specific, _Mapping]] = ...) -> None: ...

class WarmupConfig(_message.Message):
    __slots__ = ["enabled", "num_request_iterations"]
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    NUM_REQUEST_ITERATIONS_FIELD_NUMBER: _ClassVar[int]
    enabled: bool
    num_request_iterations: int
    def __init__(self, enabled: bool = ..., num_request_iterations: _Optional[int] = ...) -> None: ...

class AuthMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []
