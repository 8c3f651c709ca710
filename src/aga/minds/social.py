"""Social Memory: what a resident keeps about each person it talks with (AGA's social memory).

Per directed pair (me -> other) a :class:`Tie` holds a relationship label, a feeling and a
running summary of what I have in mind about the other, plus the ids of the memories already
folded into that summary. Ties live in the resident's state, so they survive a resume and carry
from one conversation to the next (AGA rebuilt the summary for every conversation and threw it
away).

A conversation with Social Memory on:

1. **Opening** (:func:`open_summary`): a short retrieval about the other person; only memories
   not yet folded into the summary are sent, in one ``social_summary`` call; when nothing new
   turns up, no call at all.
2. **Each utterance** (:func:`refresh_summary`): a retrieval on the last lines; again one
   ``social_summary`` call only when it brings memories not seen in this conversation or before.
   The utterance prompt gets the relationship line and the running summary instead of the raw
   memories and a per-utterance relationship summary (the original's two calls per line).
3. **After the chat** (:func:`settle_tie`): one ``relationship_update`` call per side gives the
   new relationship and feeling, and how much the conversation mattered (the chat memory's
   importance, which otherwise costs a ``chat_importance`` call).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aga.minds.calls import ask, embed, sentinel
from aga.minds.retrieve import merge_unique, retrieve
from aga.prompts.tasks import RELATIONSHIP_UPDATE, SOCIAL_SUMMARY, Summary, TieUpdate

if TYPE_CHECKING:
    from collections.abc import Iterable

    from aga.minds.context import StepContext
    from aga.minds.memory import MemoryNode
    from aga.minds.resident import Resident

UNKNOWN = "unknown"
OPEN_RETRIEVE = 10
"""Memories retrieved per focal point when a conversation opens (AGA: 20)."""
COVERED_CAP = 300
"""Ids of folded-in memories kept per tie (the newest; older ones may be folded in again)."""


@dataclass(slots=True)
class Tie:
    """What one resident keeps about another (directed)."""

    relationship: str = UNKNOWN
    feeling: str = UNKNOWN
    summary: str = ""
    covered: list[int] = field(default_factory=list)
    """Ids of the memories already folded into ``summary``, ascending."""

    def cover(self, ids: Iterable[int]) -> None:
        """Note memory ids as folded into the summary (keeps the newest ``COVERED_CAP``)."""
        merged = sorted(set(self.covered).union(ids))
        self.covered = merged[-COVERED_CAP:]

    def to_state(self) -> dict[str, Any]:
        """JSON-able form."""
        return {
            "relationship": self.relationship,
            "feeling": self.feeling,
            "summary": self.summary,
            "covered": list(self.covered),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Tie:
        """Inverse of :meth:`to_state`."""
        return cls(
            relationship=str(state["relationship"]),
            feeling=str(state["feeling"]),
            summary=str(state["summary"]),
            covered=sorted(int(i) for i in state["covered"]),
        )


def keep_summary(me: Resident, run: Running) -> None:
    """Store the running summary of a conversation that produced no line (nothing else changes)."""
    if run.summary == run.tie.summary:
        return
    tie = Tie(run.tie.relationship, run.tie.feeling, run.summary, list(run.tie.covered))
    tie.cover(run.seen)
    me.set_tie(run.other, tie)


def tie_of(me: Resident, other: str) -> Tie:
    """``me``'s tie to ``other`` (a fresh one if they never talked)."""
    return me.ties.get(other) or Tie()


def tie_line(me: Resident, other: str, tie: Tie) -> str:
    """'Klaus Mueller sees Maria Lopez as a colleague and feels friendly towards her.' or ''."""
    parts = []
    if tie.relationship != UNKNOWN:
        parts.append(f"{me.name} sees {other} as: {tie.relationship}")
    if tie.feeling != UNKNOWN:
        parts.append(f"feels: {tie.feeling}")
    return ("; ".join(parts) + ".") if parts else ""


class Running:
    """The running summary of one speaker during one conversation."""

    def __init__(self, me: Resident, other: str) -> None:
        self.me = me
        self.other = other
        self.tie = tie_of(me, other)
        self.summary = self.tie.summary
        self.seen: set[int] = set(self.tie.covered)

    def context(self) -> str:
        """What the speaker has in mind about the other: relationship line and summary."""
        return " ".join(x for x in (tie_line(self.me, self.other, self.tie), self.summary) if x)

    async def fold(self, ctx: StepContext, nodes: list[MemoryNode]) -> bool:
        """Fold the nodes not seen yet into the summary (one call); False when none was new.

        When the model gives nothing usable the summary stays as it was and the nodes count as
        not seen (a later retrieval may bring them again)."""
        new = [n for n in nodes if n.id not in self.seen]
        if not new:
            return False
        none = sentinel(Summary)
        ans = await ask(
            ctx,
            self.me.name,
            SOCIAL_SUMMARY,
            {
                "name": self.me.name,
                "other": self.other,
                "relationship": self.tie.relationship,
                "feeling": self.tie.feeling,
                "summary": self.summary or "(none yet)",
                "statements": "\n".join(f"- {n.embedding_key}" for n in new),
                "query": self.other,
            },
            fallback=none,
        )
        if ans is not none:
            self.summary = ans.summary
            self.seen.update(n.id for n in new)
        return True


async def open_summary(me: Resident, other: Resident, status: str, ctx: StepContext) -> Running:
    """Start ``me``'s running summary about ``other`` from the stored tie and a short retrieval."""
    run = Running(me, other.name)
    if not me.memory.dim:
        return run
    focal = [other.name, f"{other.name} is {status}"]
    if run.tie.relationship != UNKNOWN:
        focal.append(f"{other.name} is {me.name}'s {run.tie.relationship}")
    groups = retrieve(me.memory, await embed(ctx, focal), ctx.now, OPEN_RETRIEVE, me.params.weights)
    await run.fold(ctx, merge_unique(groups))
    return run


async def refresh_summary(run: Running, last_lines: str, ctx: StepContext) -> None:
    """Before an utterance: fold in what the last lines bring to mind, if anything is new."""
    if not last_lines or not run.me.memory.dim:
        return
    me = run.me
    vec = await embed(ctx, [last_lines])
    groups = retrieve(me.memory, vec, ctx.now, ctx.config.turn_retrieve_count, me.params.weights)
    await run.fold(ctx, merge_unique(groups))


async def settle_tie(
    me: Resident,
    other: str,
    run: Running | None,
    ctx: StepContext,
    *,
    before: str,
    convo: str,
) -> int | None:
    """After a chat: store the running summary and ask for the new relationship, feeling and
    the conversation's importance to ``me`` (returned; None when the model gave nothing usable).

    Mutates only ``me`` (its tie); the caller bumps the resident.
    """
    tie = tie_of(me, other)
    summary = run.summary if run is not None else tie.summary
    none = sentinel(TieUpdate)
    ans = await ask(
        ctx,
        me.name,
        RELATIONSHIP_UPDATE,
        {
            "persona": me.identity.block(),
            "name": me.name,
            "other": other,
            "relationship": tie.relationship,
            "feeling": tie.feeling,
            "summary": summary or "nothing in particular",
            "before": before,
            "convo": convo,
            "query": convo,
        },
        fallback=none,
    )
    updated = Tie(tie.relationship, tie.feeling, summary, list(tie.covered))
    if run is not None:
        updated.cover(run.seen)
    rating: int | None = None
    if ans is not none:
        updated.relationship = ans.relationship
        updated.feeling = ans.feeling
        rating = int(ans.importance)
    me.set_tie(other, updated)
    return rating
