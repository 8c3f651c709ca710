"""The three gateway calls, bound to a resident and a step.

``ask`` returns the validated answer, or None when the model's answers were unusable (the
ledger row says defaulted): the caller then takes its own safe path and writes nothing into
memory. A caller with a ready default may pass it as ``fallback`` and gets it back instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar, overload

import numpy as np
from pydantic import BaseModel

if TYPE_CHECKING:
    from aga.gateway.task import Task
    from aga.minds.context import StepContext

M = TypeVar("M", bound=BaseModel)


@overload
async def ask(ctx: StepContext, agent: str, task: Task[M], vars: Mapping[str, Any], fallback: M) -> M: ...
@overload
async def ask(
    ctx: StepContext, agent: str, task: Task[M], vars: Mapping[str, Any], fallback: None = None
) -> M | None: ...
async def ask(
    ctx: StepContext, agent: str, task: Task[M], vars: Mapping[str, Any], fallback: M | None = None
) -> M | None:
    """``ctx.gateway.ask`` for ``agent`` at the step's game time: the answer, or ``fallback``
    (None unless given) when the model gave nothing usable."""
    return await ctx.gateway.ask(task, vars, agent=agent, game_time=ctx.now, fallback=fallback)


async def choose(
    ctx: StepContext,
    agent: str,
    task: Task[Any],
    options: Sequence[str],
    vars: Mapping[str, Any],
    fallback: str | None = None,
) -> str:
    """``ctx.gateway.choose`` for ``agent``; a single option is taken without asking."""
    if len(options) == 1:
        return options[0]
    answer = await ctx.gateway.choose(task, options, vars, agent=agent, game_time=ctx.now, fallback=fallback)
    if answer is not None and answer in options:
        return answer
    return fallback if fallback is not None else options[0]


async def embed(ctx: StepContext, texts: Sequence[str]) -> np.ndarray:
    """Embeddings of ``texts`` (one row each); an empty list gives an empty array."""
    if not texts:
        return np.zeros((0, 0), dtype=np.float32)
    return np.asarray(await ctx.gateway.embed(list(texts)), dtype=np.float32)
