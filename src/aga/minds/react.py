"""Reactions to what was just perceived: start a conversation, or wait for someone.

Only newly perceived events about other residents can cause a reaction (as in the original).
Talking needs both awake and free, not after 23:00, and the pair's cool-down over; it is asked
with ``decide_to_talk`` and requested from the runner as a :class:`ChatIntent`. Waiting applies
when both are headed for the same place and the other is using it; it is asked with
``decide_to_react`` and applied by the resident itself.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from aga.minds.action import WAIT_EMOJI, WAITING_PREFIX, Action, Grounding
from aga.minds.calls import ask
from aga.minds.context import AgentView, ChatIntent, Intent
from aga.minds.plan import rewrite_around
from aga.minds.text import ceil_minute, subtask_text
from aga.prompts.tasks import DECIDE_TO_REACT, DECIDE_TO_TALK, WaitOrGo, YesNo

if TYPE_CHECKING:
    from aga.minds.context import StepContext
    from aga.minds.memory import MemoryNode
    from aga.minds.resident import Resident

CONTEXT_NODES = 10


def pick_focus(r: Resident, ctx: StepContext, perceived: list[MemoryNode]) -> AgentView | None:
    """One other resident among the newly perceived events (chosen reproducibly), or None."""
    names = sorted({n.subject for n in perceived if n.subject != r.name and n.subject in ctx.views})
    if not names:
        return None
    return ctx.views[ctx.rng(r.name, "react focus").choice(names)]


def about(r: Resident, other: str, now: datetime) -> list[str]:
    """What the resident remembered about ``other`` before this step: keyword matches, newest
    first (the events just perceived are not memories yet)."""
    events = [n for n in r.memory.by_keyword(other, ("event",)) if n.created < now][:CONTEXT_NODES]
    thoughts = [n for n in r.memory.by_keyword(other, ("thought",)) if n.created < now][:CONTEXT_NODES]
    return [n.description for n in (*thoughts, *events)]


def last_chat_line(r: Resident, ctx: StepContext, other: str) -> str:
    """'Last talked with X at 09:30 on Monday: <summary>.' or ''."""
    node = r.memory.last_chat_with(other)
    if node is None:
        return ""
    return f"{r.name} last talked with {other} on {node.created.strftime('%A at %H:%M')}: {node.description}."


def _both_available(r: Resident, ctx: StepContext, other: AgentView) -> bool:
    if r.action is None or not other.address or not other.description:
        return False
    if r.sleeping or other.sleeping or "sleeping" in other.description:
        return False
    if ctx.now.hour == 23:
        return False
    if other.address.startswith(WAITING_PREFIX):
        return False
    return r.chatting_with is None and other.chatting_with is None


async def decide(r: Resident, ctx: StepContext, perceived: list[MemoryNode]) -> Intent | None:
    """React to this step's perception: a chat intent, a wait applied to itself, or nothing."""
    if r.chatting_with is not None or r.action is None or r.action.address.startswith(WAITING_PREFIX):
        return None
    other = pick_focus(r, ctx, perceived)
    if other is None or not _both_available(r, ctx, other):
        return None
    memories = about(r, other.name, ctx.now)
    if ctx.step >= r.cooldown.get(other.name, -1):
        vars = {
            "name": r.name,
            "target": other.name,
            "context": " ".join(memories) or "nothing in particular.",
            "last_chat": last_chat_line(r, ctx, other.name),
            "time": ctx.now.strftime("%H:%M on %A"),
            "my_status": subtask_text(r.action.description),
            "their_status": subtask_text(other.description),
            "acquainted": bool(memories),
            "query": other.name,
        }
        ans = await ask(ctx, r.name, DECIDE_TO_TALK, vars, fallback=YesNo(answer="no"))
        if ans.answer == "yes":
            return ChatIntent(other.name)
    if r.planned_path and other.address == r.action.address and other.act_end is not None:
        await maybe_wait(r, ctx, other, memories)
    return None


async def maybe_wait(r: Resident, ctx: StepContext, other: AgentView, memories: list[str]) -> None:
    """Ask whether to wait for ``other`` to finish with the shared place; if so, wait."""
    assert r.action is not None and other.act_end is not None
    until = other.act_end - timedelta(minutes=1)
    if until <= ctx.now:
        return
    vars = {
        "name": r.name,
        "target": other.name,
        "context": " ".join(memories) or "nothing in particular.",
        "time": ctx.now.strftime("%H:%M on %A"),
        "my_place": r.action.address.split(":")[-1],
        "my_status": subtask_text(r.action.description),
        "their_status": subtask_text(other.description),
        "their_place": other.address.split(":")[-1],
        "query": "wait",
    }
    ans = await ask(ctx, r.name, DECIDE_TO_REACT, vars, fallback=WaitOrGo(answer="continue"))
    if ans.answer != "wait":
        return
    what = f"waiting to start {subtask_text(r.action.description)}"
    minutes = max(1, round((until - ceil_minute(ctx.now)).total_seconds() / 60))
    await rewrite_around(r, ctx, what, minutes)
    grounding = Grounding(
        address=f"{WAITING_PREFIX}{r.tile[0]} {r.tile[1]}",
        emoji=WAIT_EMOJI,
        event=("waiting to start", subtask_text(r.action.description)),
    )
    action = Action("wait", what, ctx.now, until, grounding, None)
    r.set_action(action)
    r.log_action(
        {
            "task": "react",
            "parent": None,
            "is_new": True,
            "duration": action.minutes,
            "time": ctx.now.strftime("%Y-%m-%d %H:%M:%S"),
            "chat": {},
        }
    )
