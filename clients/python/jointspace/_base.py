"""The channel, its retry policy, and how calls are made and their errors raised."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Callable, Optional, Sequence, Tuple, Union

import grpc

from ._gen.grpc.health.v1 import health_pb2_grpc
from ._gen.inference import grpc_predict_v2_pb2_grpc
from ._gen.jointspace.v1 import (
    collection_service_pb2_grpc,
    embedding_service_pb2_grpc,
    model_service_pb2_grpc,
    rollout_service_pb2_grpc,
)
from .errors import from_rpc_error

DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024
"""The server's default limit on inbound messages (--max-message-bytes)."""

# Methods that change nothing, or change it the same way however often they run: only these
# are retried. Upsert and Delete name their items by id, so a repeated attempt leaves the same
# rows; creating collections and rollout steps (Create*, Start*, Promote...) are never retried,
# since an attempt the client saw fail may have been carried out.
IDEMPOTENT_METHODS = {
    "jointspace.v1.EmbeddingService": ("Embed", "Classify", "Score"),
    "jointspace.v1.ModelService": ("ListModels", "GetModelStatus", "GetModelMetadata", "ListLabelHistory"),
    "jointspace.v1.CollectionService": ("GetCollection", "ListCollections", "Get", "Search", "Upsert", "Delete"),
    "jointspace.v1.RolloutService": ("GetRollout", "ListRollouts"),
    "inference.GRPCInferenceService": ("ServerLive", "ServerReady", "ModelReady", "ServerMetadata",
                                       "ModelMetadata"),
    "grpc.health.v1.Health": ("Check",),
}

RETRYABLE_CODES = ("UNAVAILABLE", "RESOURCE_EXHAUSTED")


def service_config(attempts: int, initial_backoff: float, max_backoff: float) -> str:
    """gRPC service config (JSON) that retries the idempotent methods on RETRYABLE_CODES."""
    names = [{"service": service, "method": method}
             for service, methods in IDEMPOTENT_METHODS.items() for method in methods]
    policy = {
        "maxAttempts": attempts,
        "initialBackoff": f"{initial_backoff}s",
        "maxBackoff": f"{max_backoff}s",
        "backoffMultiplier": 2,
        "retryableStatusCodes": list(RETRYABLE_CODES),
    }
    return json.dumps({"methodConfig": [{"name": names, "retryPolicy": policy}]})


def tls_credentials(
    ca: Optional[Union[str, os.PathLike]],
    cert: Optional[Union[str, os.PathLike]],
    key: Optional[Union[str, os.PathLike]],
) -> grpc.ChannelCredentials:
    """TLS credentials from PEM files: the CAs to trust (None: the system's), and a client
    certificate chain with its private key for a server that requires one (mTLS)."""
    if (cert is None) != (key is None):
        raise ValueError("tls_cert and tls_key go together")
    return grpc.ssl_channel_credentials(
        root_certificates=Path(ca).read_bytes() if ca is not None else None,
        private_key=Path(key).read_bytes() if key is not None else None,
        certificate_chain=Path(cert).read_bytes() if cert is not None else None,
    )


class _ApiKey(
    grpc.UnaryUnaryClientInterceptor,
    grpc.UnaryStreamClientInterceptor,
    grpc.StreamUnaryClientInterceptor,
    grpc.StreamStreamClientInterceptor,
):
    """Adds ``authorization: Bearer <key>`` to every call."""

    def __init__(self, key: str) -> None:
        self._header = ("authorization", "Bearer " + key.strip())

    def _details(self, details: Any) -> Any:
        metadata = list(details.metadata or []) + [self._header]
        return _CallDetails(details.method, details.timeout, metadata, details.credentials,
                            getattr(details, "wait_for_ready", None), getattr(details, "compression", None))

    def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        return continuation(self._details(details), request)

    def intercept_unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
        return continuation(self._details(details), request)

    def intercept_stream_unary(self, continuation: Any, details: Any, requests: Any) -> Any:
        return continuation(self._details(details), requests)

    def intercept_stream_stream(self, continuation: Any, details: Any, requests: Any) -> Any:
        return continuation(self._details(details), requests)


class _CallDetails(grpc.ClientCallDetails):
    def __init__(self, method: str, timeout: Optional[float], metadata: Any, credentials: Any,
                 wait_for_ready: Any, compression: Any) -> None:
        self.method = method
        self.timeout = timeout
        self.metadata = metadata
        self.credentials = credentials
        self.wait_for_ready = wait_for_ready
        self.compression = compression


class Base:
    """Holds the channel and the stubs; the service mixins call through ``_unary``."""

    def __init__(
        self,
        address: str = "localhost:8500",
        timeout: Optional[float] = 30.0,
        *,
        retry_attempts: int = 5,
        initial_backoff: float = 0.2,
        max_backoff: float = 5.0,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
        credentials: Optional[grpc.ChannelCredentials] = None,
        tls_ca: Optional[Union[str, os.PathLike]] = None,
        tls_cert: Optional[Union[str, os.PathLike]] = None,
        tls_key: Optional[Union[str, os.PathLike]] = None,
        options: Sequence[Tuple[str, Any]] = (),
        api_key: Optional[str] = None,
    ) -> None:
        self.address = address
        self.timeout = timeout
        self.max_message_bytes = max_message_bytes
        channel_options = [
            ("grpc.max_send_message_length", max_message_bytes),
            ("grpc.max_receive_message_length", max_message_bytes),
        ]
        if retry_attempts > 1:
            channel_options += [
                ("grpc.enable_retries", 1),
                ("grpc.service_config", service_config(retry_attempts, initial_backoff, max_backoff)),
            ]
        channel_options += list(options)
        if tls_ca is not None or tls_cert is not None or tls_key is not None:
            if credentials is not None:
                raise ValueError("give either credentials or tls_ca/tls_cert/tls_key, not both")
            credentials = tls_credentials(tls_ca, tls_cert, tls_key)
        if credentials is None:
            self._channel = grpc.insecure_channel(address, options=channel_options)
        else:
            self._channel = grpc.secure_channel(address, credentials, options=channel_options)
        self._plain_channel = self._channel
        if api_key:
            # an interceptor, not call credentials: gRPC sends those only over TLS, and a server
            # on a private network may require keys over plaintext
            self._channel = grpc.intercept_channel(self._channel, _ApiKey(api_key))
        self._embedding = embedding_service_pb2_grpc.EmbeddingServiceStub(self._channel)
        self._models = model_service_pb2_grpc.ModelServiceStub(self._channel)
        self._collections = collection_service_pb2_grpc.CollectionServiceStub(self._channel)
        self._rollouts = rollout_service_pb2_grpc.RolloutServiceStub(self._channel)
        self._inference = grpc_predict_v2_pb2_grpc.GRPCInferenceServiceStub(self._channel)
        self._health = health_pb2_grpc.HealthStub(self._channel)

    def close(self) -> None:
        """Closes the channel; calls in flight are cancelled."""
        self._plain_channel.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.address!r})"

    def _deadline(self, timeout: Optional[float]) -> Optional[float]:
        return self.timeout if timeout is None else timeout

    def _unary(self, method: Callable[..., Any], request: Any, timeout: Optional[float]) -> Any:
        """Calls a unary method with the call's deadline; errors become JointspaceError."""
        try:
            return method(request, timeout=self._deadline(timeout))
        except grpc.RpcError as error:
            raise from_rpc_error(error, request.DESCRIPTOR) from None
