"""aga.gateway: the one door to language and embedding models.

``Gateway.ask`` / ``choose`` / ``embed`` are what cognition calls; ``build_gateway`` builds the
stack for a ``--llm`` spec. Backends live in ``aga.gateway.backends`` behind ``Backend.complete``.
"""

from __future__ import annotations

from aga.gateway.build import build_gateway
from aga.gateway.cache import MemoryCache, ResponseCache, SqliteCache
from aga.gateway.core import Gateway
from aga.gateway.ledger import Ledger, LedgerRow
from aga.gateway.retry import RetryPolicy
from aga.gateway.task import Task
from aga.gateway.types import (
    Backend,
    BackendError,
    Embedder,
    FatalBackendError,
    LLMRequest,
    LLMResponse,
    TransientBackendError,
)

__all__ = [
    "Backend",
    "BackendError",
    "Embedder",
    "FatalBackendError",
    "Gateway",
    "LLMRequest",
    "LLMResponse",
    "Ledger",
    "LedgerRow",
    "MemoryCache",
    "ResponseCache",
    "RetryPolicy",
    "SqliteCache",
    "Task",
    "TransientBackendError",
    "build_gateway",
]
