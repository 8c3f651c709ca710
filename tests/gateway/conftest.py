"""Shared pieces of the gateway tests: tiny tasks of our own, the scripted test double, fast sleeps."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pytest
from pydantic import BaseModel

from aga.gateway import Gateway, RetryPolicy, Task
from aga.testing import HashEmbedder, ScriptedBackend

PROMPTS = Path(__file__).parent / "prompts"


class Rating(BaseModel):
    """Answer of the test task ``rate_event``."""

    rating: Literal[1, 2, 3, 4, 5]
    reason: str


class Step(BaseModel):
    """One item of a plan."""

    what: str
    minutes: int


class Plan(BaseModel):
    """Answer of the test task ``plan_day``."""

    steps: list[Step]


RATE = Task("rate_event", Rating, max_tokens=60, template_dir=PROMPTS)
PICK = Task("pick_place", None, max_tokens=30, template_dir=PROMPTS)
PLAN = Task("plan_day", Plan, max_tokens=200, template_dir=PROMPTS)

FAST_RETRY = RetryPolicy(max_tries=4, budget_seconds=5.0, base_delay=0.001, max_delay=0.01)


class SleepRecorder:
    """Test double for asyncio.sleep: records the waits and returns at once."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def make_gateway(
    backend: ScriptedBackend | None = None, **kw
) -> tuple[Gateway, ScriptedBackend, SleepRecorder]:
    """A gateway over the scripted test double with no real waiting."""
    backend = backend or ScriptedBackend(rules={})
    sleep = SleepRecorder()
    kw.setdefault("retry", FAST_RETRY)
    return Gateway(backend, HashEmbedder(), sleep=sleep, **kw), backend, sleep


@pytest.fixture
def gw():
    return make_gateway()
