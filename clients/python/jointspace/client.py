"""The Jointspace client."""

from __future__ import annotations

from ._collections import Collections
from ._embedding import Embeddings
from ._models import Models
from ._rollouts import Rollouts


class Client(Embeddings, Models, Collections, Rollouts):
    """A connection to a Jointspace server; use it as a context manager, or ``close()`` it.

    Args:
        address: ``host:port`` of the server's gRPC port.
        timeout: the deadline of each call in seconds (None: none); every method takes its
            own ``timeout`` too. Streams (``ingest``, ``watch_rollout``) have none by default.
        retry_attempts: attempts per call of the idempotent methods (embed, classify, score,
            search, get*, list*, and upsert and delete, which name their items by id) when the
            server answers UNAVAILABLE or RESOURCE_EXHAUSTED, with exponential backoff from
            ``initial_backoff`` up to ``max_backoff`` seconds; 1 turns retries off (gRPC caps
            attempts at 5). Creating collections and rollout steps are never retried.
        max_message_bytes: the largest message sent or received; keep it at the server's
            ``--max-message-bytes`` (64 MiB by default), which ``ingest`` sizes its messages to.
        credentials: for a TLS channel (``grpc.ssl_channel_credentials()``); plaintext without.
        tls_ca: TLS, trusting the server's certificate when a CA certificate in this PEM file
            issued it (instead of ``credentials``).
        tls_cert, tls_key: a client certificate chain and its private key (PEM), for a server
            that requires one (``--tls-client-ca``, mTLS); TLS with the system's CAs unless
            ``tls_ca`` is given.
        options: further gRPC channel options, as ``(name, value)`` pairs.
        api_key: an API key (``js_...``) sent with every call as ``authorization: Bearer
            <key>``, for a server that requires keys; none by default.

    Failed calls raise a ``JointspaceError`` subclass named after the status code
    (``NotFound``, ``InvalidArgument``, ...), with the server's ``message`` and, where the
    message names one, the request ``field``.
    """
