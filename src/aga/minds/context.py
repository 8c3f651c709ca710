"""The small value types shared by the runner and the minds: what a step looks like from inside.

``StepContext`` is built by the runner once per step; every resident reads the same snapshot
(``views``, ``events``) and draws randomness only from :meth:`StepContext.rng`, so the result of
a step does not depend on the order in which concurrent model answers arrive.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from aga import settings
from aga.policy.policy import NullPolicy
from aga.rng import rng_for

if TYPE_CHECKING:
    from collections.abc import Mapping

    from aga.gateway import Gateway
    from aga.policy import Policy
    from aga.world import TileEvents, Town

Tile = tuple[int, int]


@dataclass(frozen=True)
class MindConfig:
    """Feature switches and tunables of the minds (one per simulation).

    The boolean fields are the switches of :data:`aga.settings.SWITCHES` that the minds read
    (``tests/test_settings.py`` checks they are the same); each is described there, once. The
    other fields are tunables.

    Attributes:
        retrieve_count: nodes retrieved per focal point for reflection and day revision.
        chat_retrieve_count: nodes retrieved about the other person before each utterance.
        turn_retrieve_count: nodes retrieved for the context of each utterance.
        chat_cooldown_steps: steps after a chat before the same pair may talk again.
        max_chat_rounds: rounds (one utterance each) a conversation may last.
        focal_point_count: questions asked per reflection.
        insight_count: insights asked per focal point.
        thought_days: days until a thought expires.
    """

    policy: bool = False
    relationship: bool = False
    mind_wandering: bool = False
    retrieve_count: int = 30
    chat_retrieve_count: int = 50
    turn_retrieve_count: int = 15
    chat_cooldown_steps: int = 800
    max_chat_rounds: int = 8
    focal_point_count: int = 3
    insight_count: int = 5
    thought_days: int = 30
    reuse_ratings: bool = False
    stored_ratings: bool = False
    batch_ratings: bool = False
    defer_ratings: bool = False
    react_rules: bool = False
    batch_thoughts: bool = False
    merged_reflection: bool = False
    action_details: bool = False
    plan_rules: bool = False
    original_pipeline: bool = False


SAVINGS: tuple[str, ...] = settings.SAVINGS
"""The cost savings beyond AGA (importance, reactions, reflection, grounding, planning), one
``MindConfig`` switch each; declared, with their help text, in :data:`aga.settings.SWITCHES`.

``MindConfig()`` keeps them off (the original behaviour, as for ``policy`` and ``relationship``); the
runner turns them on unless told otherwise, e.g.
``MindConfig(policy=..., **{name: name not in disabled for name in SAVINGS})``."""


@dataclass(frozen=True)
class AgentView:
    """What others can see of a resident at the start of a step."""

    name: str
    tile: Tile
    description: str
    address: str
    emoji: str
    event: tuple[str, str | None, str | None]
    chatting_with: str | None
    chat_end: datetime | None
    act_end: datetime | None
    planned_path_nonempty: bool
    sleeping: bool


class TalkOffers:
    """Whom each resident chose to talk to this step, for the residents after it in the runner's
    order (the order in which chat intents are accepted, :func:`aga.runner.simulation.resolve_chats`).

    When Klaus (earlier in that order) chose to talk to Maria, Maria's own intent towards Klaus is
    never accepted: the chat is Klaus's. So with the ``react_rules`` saving Maria, about to ask
    whether to talk to Klaus, first waits for Klaus's choice (:meth:`offered`) and asks only when
    it is not her. A resident only ever waits for one earlier in the order, so nobody waits in a
    circle; the runner closes every resident's choice when its think ends (:meth:`close`).
    The default, with no order, makes :meth:`offered` always False."""

    def __init__(self, order: Sequence[str] = ()) -> None:
        self._order = order
        self._rank: dict[str, int] | None = None  # built when first asked (most steps never ask)
        self._chosen: dict[str, str | None] = {}
        self._waiting: dict[str, asyncio.Future[str | None]] = {}

    def close(self, name: str, target: str | None) -> None:
        """``name`` is done thinking: it chose to talk to ``target`` (None: to nobody)."""
        if name in self._chosen:
            return
        self._chosen[name] = target
        waiting = self._waiting.pop(name, None)
        if waiting is not None and not waiting.done():
            waiting.set_result(target)

    async def offered(self, asker: str, other: str) -> bool:
        """Whether ``other``, before ``asker`` in the order and thinking this step, chose to talk
        to ``asker`` (waits for ``other``'s choice)."""
        if self._rank is None:
            self._rank = {name: i for i, name in enumerate(self._order)}
        rank = self._rank
        if asker not in rank or rank.get(other, len(rank)) >= rank[asker]:
            return False
        if other not in self._chosen:
            if other not in self._waiting:
                self._waiting[other] = asyncio.get_running_loop().create_future()
            return await self._waiting[other] == asker
        return self._chosen[other] == asker


@dataclass(frozen=True)
class StepContext:
    """The read-only snapshot of one step, shared by every resident."""

    step: int
    now: datetime
    sec_per_step: int
    seed: int
    town: Town
    events: TileEvents
    views: Mapping[str, AgentView]
    gateway: Gateway
    config: MindConfig = field(default_factory=MindConfig)
    policy: Policy = field(default_factory=NullPolicy)
    """The Lifestyle Policy of the simulation (one object for the whole run); ``NullPolicy``
    (never hits, never writes) when it is off."""
    offers: TalkOffers = field(default_factory=TalkOffers)
    """The one thing residents learn from each other while thinking: whom the earlier ones in
    the runner's order chose to talk to (see :class:`TalkOffers`)."""

    def rng(self, agent: str, purpose: str) -> random.Random:
        """A generator private to (this step, ``agent``, ``purpose``)."""
        return rng_for(self.seed, self.step, agent, purpose)


@dataclass(frozen=True)
class Intent:
    """Something a resident wants that the runner must arbitrate (base class)."""


@dataclass(frozen=True)
class ChatIntent(Intent):
    """The resident wants to start a conversation with ``target`` this step."""

    target: str


@dataclass(frozen=True)
class Movement:
    """What a resident does this step, in the original movement-file shape.

    Attributes:
        tile: the tile the resident stands on after this step.
        emoji: the action's emoji.
        description: ``"<action> @ <address>"``.
        chat: the conversation lines ``[(speaker, utterance), ...]`` while chatting, else None.
    """

    tile: Tile
    emoji: str
    description: str
    chat: list[tuple[str, str]] | None = None

    def as_dict(self) -> dict[str, Any]:
        """The movement-file entry: ``{"movement", "pronunciatio", "description", "chat"}``."""
        return {
            "movement": [self.tile[0], self.tile[1]],
            "pronunciatio": self.emoji,
            "description": self.description,
            "chat": [list(t) for t in self.chat] if self.chat else None,
        }

    to_dict = as_dict
