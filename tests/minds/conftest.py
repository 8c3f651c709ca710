"""Fixtures of the minds tests: the real town, the bundled personas, the scripted gateway."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from aga.bases import load_base
from aga.bases.model import Persona
from aga.gateway import Gateway, build_gateway
from aga.world import Town, load_town


@pytest.fixture(scope="session")
def town() -> Town:
    """The bundled town of the original (140 x 100 tiles)."""
    return load_town("the_ville")


@pytest.fixture(scope="session")
def personas() -> dict[str, Persona]:
    """Isabella, Maria and Klaus of the bundled three-resident base."""
    return {p.name: p for p in load_base("base_the_ville_isabella_maria_klaus").residents}


@pytest.fixture()
def scripted() -> Callable[..., Gateway]:
    """Factory of gateways on the scripted test model (optionally with a custom handler)."""

    def make(handler=None, **kwargs) -> Gateway:  # type: ignore[no-untyped-def]
        gw = build_gateway("scripted", **kwargs)
        if handler is not None:
            gw.backend.handler = handler  # type: ignore[attr-defined]
        return gw

    return make
