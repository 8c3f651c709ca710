"""The backend registry: which ``--llm`` / ``--embed`` kinds exist and how each is built.

The real backends (embedded, gguf, openai, gemini; embedded and the vendors' embedders) are
registered here. Test doubles are not part of the gateway: ``aga.testing`` registers its own
(``scripted``, ``hash``) when imported, and the package's ``aga.backends`` entry points name the
modules to import for kinds not registered yet, so the gateway never imports ``aga.testing``.

While tests run (``AGA_LOCAL_BACKENDS_ONLY=1``, set by ``tests/conftest.py``) any backend whose
endpoint is not on this machine's loopback is refused, so a test can never reach a paid endpoint.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import import_module
from importlib.metadata import entry_points
from typing import Any
from urllib.parse import urlparse

from aga.errors import InputError

LOCAL_ONLY_VAR = "AGA_LOCAL_BACKENDS_ONLY"
ENTRY_POINTS = "aga.backends"


@dataclass(frozen=True)
class BuildOptions:
    """What a backend factory may need besides the spec's argument.

    Attributes:
        spec: the whole spec as the user wrote it (for messages).
        structured: ``--structured`` (OpenAI-compatible backends).
        options: ``--llm-option`` fields (OpenAI-compatible backends).
        sampling_seed: mixed into a local model's per-prompt sampling seed (0: the prompt alone),
            so two simulations with different seeds do not repeat each other word for word.
    """

    spec: str
    structured: str = "auto"
    options: dict[str, Any] = field(default_factory=dict)
    sampling_seed: int = 0


LLMFactory = Callable[[str, BuildOptions], Any]
EmbedFactory = Callable[[str, str], Any]


@dataclass(frozen=True)
class Kind:
    """One registered kind: its factory, whether it takes extra request options, its default
    concurrency, and whether it is a test double."""

    factory: Callable[..., Any]
    takes_options: bool = False
    default_in_flight: int = 8
    double: bool = False


_LLMS: dict[str, Kind] = {}
_EMBEDDERS: dict[str, Kind] = {}


def register_llm(
    kind: str,
    factory: LLMFactory,
    *,
    takes_options: bool = False,
    default_in_flight: int = 8,
    double: bool = False,
) -> None:
    """Register a ``--llm`` kind: ``factory(arg, options) -> Backend`` (``arg``: after the colon)."""
    _LLMS[kind] = Kind(factory, takes_options, default_in_flight, double)


def register_embedder(kind: str, factory: EmbedFactory, *, double: bool = False) -> None:
    """Register an ``--embed`` kind: ``factory(arg, spec) -> Embedder``."""
    _EMBEDDERS[kind] = Kind(factory, double=double)


def llm_kind(kind: str) -> Kind | None:
    """The registered ``--llm`` kind (loading plugins named by entry points if needed)."""
    if kind not in _LLMS:
        _load_plugins()
    return _LLMS.get(kind)


def embed_kind(kind: str) -> Kind | None:
    """The registered ``--embed`` kind (loading plugins named by entry points if needed)."""
    if kind not in _EMBEDDERS:
        _load_plugins()
    return _EMBEDDERS.get(kind)


_plugins_loaded = False


def _load_plugins() -> None:
    """Import the modules the installed package names under the ``aga.backends`` entry points."""
    global _plugins_loaded
    if _plugins_loaded:
        return
    _plugins_loaded = True
    for point in entry_points(group=ENTRY_POINTS):
        import_module(point.value.split(":")[0])


def local_only() -> bool:
    """True while tests run: only loopback and local backends may be built."""
    return os.environ.get(LOCAL_ONLY_VAR, "").strip() not in ("", "0")


def is_loopback(url: str) -> bool:
    """True for ``localhost`` and loopback addresses."""
    host = (urlparse(url).hostname or "").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_local(thing: Any, what: str) -> None:
    """With ``AGA_LOCAL_BACKENDS_ONLY`` set, refuse ``thing`` unless it runs here or on loopback.

    A backend with a ``base_url`` is remote unless that URL is loopback; one without runs in
    this process (embedded model, test doubles).

    Raises:
        InputError: a remote endpoint while tests run.
    """
    if not local_only():
        return
    url = getattr(thing, "base_url", None)
    if url is not None and not is_loopback(str(url)):
        raise InputError(
            f"{what}: {url} is not a loopback endpoint and {LOCAL_ONLY_VAR} is set (tests may reach "
            "only local backends and fake servers on loopback)"
        )
