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
2. **Each utterance** (:func:`recall`): a small retrieval on the last lines; memories neither in
   the summary nor recalled before in this conversation join the utterance prompt as they are
   (no call: AGA paid one summary update per utterance for them). The utterance prompt gets the
   relationship line, the summary and these memories instead of the raw retrieved memories and
   a per-utterance relationship summary (the original's two calls per line).
3. **After the chat** (:func:`settle_tie`): one ``relationship_update`` call per side gives the
   new relationship and feeling, the notes with the recalled memories folded in, and how much
   the conversation mattered (the chat memory's importance, which otherwise costs a
   ``chat_importance`` call).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aga.minds.calls import ask, embed
from aga.minds.retrieve import merge_unique, retrieve
from aga.prompts.tasks import RELATIONSHIP_UPDATE, SOCIAL_SUMMARY

if TYPE_CHECKING:
    from collections.abc import Iterable

    from aga.minds.context import StepContext
    from aga.minds.memory import MemoryNode
    from aga.minds.state import Mind

UNKNOWN = "unknown"
OPEN_RETRIEVE = 15
"""Memories retrieved per focal point when a conversation opens (AGA: 20)."""
TURN_RECALL = 10
"""Memories retrieved for the last lines before each utterance (AGA: 15, and a call to fold them)."""
RECALL_SHOWN = 15
"""Newest recalled memories shown in the utterance prompt (the original shows 15 per utterance)."""
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


def keep_summary(me: Mind, run: Running) -> None:
    """Store the running summary of a conversation that produced no line (nothing else changes)."""
    if run.summary == run.tie.summary:
        return
    tie = Tie(run.tie.relationship, run.tie.feeling, run.summary, list(run.tie.covered))
    tie.cover(run.folded)
    me.set_tie(run.other, tie)


def tie_of(me: Mind, other: str) -> Tie:
    """``me``'s tie to ``other`` (a fresh one if they never talked)."""
    return me.ties.get(other) or Tie()


def tie_line(me: Mind, other: str, tie: Tie) -> str:
    """'Klaus Mueller sees Maria Lopez as a colleague and feels friendly towards her.' or ''."""
    parts = []
    if tie.relationship != UNKNOWN:
        parts.append(f"{me.name} sees {other} as: {tie.relationship}")
    if tie.feeling != UNKNOWN:
        parts.append(f"feels: {tie.feeling}")
    return ("; ".join(parts) + ".") if parts else ""


class Running:
    """What one speaker has in mind about the other during one conversation."""

    def __init__(self, me: Mind, other: str) -> None:
        self.me = me
        self.other = other
        self.tie = tie_of(me, other)
        self.summary = self.tie.summary
        self.folded: set[int] = set(self.tie.covered)
        """ids of the memories the summary already holds."""
        self.recalled: list[MemoryNode] = []
        """memories the lines brought to mind that the summary does not hold yet."""

    def context(self) -> str:
        """Relationship line, summary, and what the conversation brought to mind."""
        parts = [tie_line(self.me, self.other, self.tie), self.summary]
        if self.recalled:
            shown = self.recalled[-RECALL_SHOWN:]
            parts.append("Also on their mind: " + "; ".join(n.embedding_key for n in shown) + ".")
        return " ".join(x for x in parts if x)

    def unseen(self, nodes: list[MemoryNode]) -> list[MemoryNode]:
        """The nodes neither in the summary nor recalled already in this conversation."""
        recalled = {n.id for n in self.recalled}
        return [n for n in nodes if n.id not in self.folded and n.id not in recalled]

    async def fold(self, ctx: StepContext, nodes: list[MemoryNode]) -> bool:
        """Fold the nodes the summary lacks into it (one call); False when none was new.

        When the model gives nothing usable the summary stays as it was and the nodes are not
        counted as folded (a later retrieval may bring them again)."""
        new = self.unseen(nodes)
        if not new:
            return False
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
            },
        )
        if ans is not None:
            self.summary = ans.summary
            self.folded.update(n.id for n in new)
        return True


async def open_summary(me: Mind, other: Mind, status: str, ctx: StepContext) -> Running:
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


async def recall(run: Running, last_lines: str, ctx: StepContext) -> None:
    """Before an utterance: what the last lines bring to mind that is new joins the prompt
    (no call; the summary takes it in after the chat)."""
    if not last_lines or not run.me.memory.dim:
        return
    me = run.me
    vec = await embed(ctx, [last_lines])
    groups = retrieve(me.memory, vec, ctx.now, TURN_RECALL, me.params.weights)
    run.recalled.extend(run.unseen(merge_unique(groups)))


async def settle_tie(
    me: Mind,
    other: str,
    run: Running | None,
    ctx: StepContext,
    *,
    before: str,
    convo: str,
    lines: str = "",
) -> int | None:
    """After a chat: one call gives the new relationship, feeling, notes (the summary with what
    the chat brought to mind folded in) and the conversation's importance to ``me`` (returned;
    None when the model gave nothing usable, and then the tie keeps its labels). ``lines`` is the
    conversation's transcript, shown in full.

    Mutates only ``me`` (its tie).
    """
    tie = tie_of(me, other)
    summary = run.summary if run is not None else tie.summary
    recalled = run.recalled if run is not None else []
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
            "recalled": "; ".join(n.embedding_key for n in recalled) or "nothing new",
            "before": before,
            "convo": convo,
            "transcript": lines or convo,
        },
    )
    updated = Tie(tie.relationship, tie.feeling, summary, list(tie.covered))
    if run is not None:
        updated.cover(run.folded)
    rating: int | None = None
    if ans is not None:
        updated.relationship = ans.relationship
        updated.feeling = ans.feeling
        updated.summary = ans.summary
        updated.cover(n.id for n in recalled)
        rating = int(ans.importance)
    me.set_tie(other, updated)
    return rating
