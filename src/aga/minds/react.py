"""Reactions to what was just perceived: start a conversation, or wait for someone.

Only newly perceived events about other residents can cause a reaction (as in the original).
Talking needs both awake and free, not after 23:00, and the pair's cool-down over; it is asked
with ``decide_to_talk`` and requested from the runner as a :class:`ChatIntent`. Waiting applies
when both are headed for the same place and the other is using it; it is asked with
``decide_to_react`` and applied by the resident itself.

With the ``react_rules`` saving, rules settle what needs no model:

- a "no" to talking stands while neither resident's activity changed (kept in the state);
- a resident does not ask whether to talk to someone who, earlier in the runner's order, chose
  to talk to them this step (their chat is the one accepted; ``StepContext.offers``);
- nobody waits for a whole room (only an object is used by one person at a time), nor for
  someone whose activity ends after one's own would (waiting would replace it entirely), and a
  "continue" stands like a "no" to talking;
- an interruption (chat, wait) that ends within the activity running now only pauses that
  activity: the rest of the plan stays as it is and no ``schedule_rewrite`` is asked.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from aga.minds.action import WAIT_EMOJI, WAITING_PREFIX, Action, Grounding, is_object_address
from aga.minds.calls import ask
from aga.minds.context import AgentView, ChatIntent, Intent
from aga.minds.replan import rewrite_around
from aga.minds.schedule import REACT, Row, index_at, replace_span, span
from aga.minds.state import ActionLogEntry
from aga.minds.text import ceil_minute, minute_of_day, sentences, subtask_text
from aga.prompts.tasks import DECIDE_TO_REACT, DECIDE_TO_TALK, WaitOrGo, YesNo

if TYPE_CHECKING:
    from aga.minds.context import StepContext
    from aga.minds.memory import MemoryNode
    from aga.minds.state import Mind

CONTEXT_NODES = 10


def pick_focus(r: Mind, ctx: StepContext, perceived: list[MemoryNode]) -> AgentView | None:
    """One other resident among the newly perceived events (chosen reproducibly), or None."""
    names = sorted({n.subject for n in perceived if n.subject != r.name and n.subject in ctx.views})
    if not names:
        return None
    return ctx.views[ctx.rng(r.name, "react focus").choice(names)]


def about(r: Mind, other: str, now: datetime, distinct: bool = False) -> list[str]:
    """What the resident remembered about ``other`` before this step: keyword matches, newest
    first (the events just perceived are not memories yet), up to ``CONTEXT_NODES`` thoughts and
    as many events. ``distinct``: each text once ("Maria Lopez is studying" seen on ten steps is
    one memory to the decision) and ``CONTEXT_NODES`` in all, thoughts first."""
    events = r.memory.by_keyword(other, ("event",), before=now, limit=CONTEXT_NODES)
    thoughts = r.memory.by_keyword(other, ("thought",), before=now, limit=CONTEXT_NODES)
    texts = [n.description for n in (*thoughts, *events)]
    if not distinct:
        return texts
    return list(dict.fromkeys(texts))[:CONTEXT_NODES]


TALK_FALLBACK = YesNo(answer="yes")
"""Without a usable answer the resident talks (as in the original)."""


def aims(r: Mind) -> str:
    """What the resident has in mind these days: its current status and the day's standing plans
    (Isabella's party invitations reach the decision to talk)."""
    parts = [r.identity.currently.strip(), r.identity.daily_plan_req.strip()]
    return " ".join(p for p in parts if p) or "nothing in particular."


def last_chat_line(r: Mind, ctx: StepContext, other: str) -> str:
    """'Last talked with X at 09:30 on Monday: <summary>.' or ''."""
    node = r.memory.last_chat_with(other)
    if node is None:
        return ""
    return f"{r.name} last talked with {other} on {node.created.strftime('%A at %H:%M')}: {node.description}."


def _both_available(r: Mind, ctx: StepContext, other: AgentView) -> bool:
    if r.action is None or not other.address or not other.description:
        return False
    if r.sleeping or other.sleeping or "sleeping" in other.description:
        return False
    if ctx.now.hour == 23:
        return False
    if other.address.startswith(WAITING_PREFIX):
        return False
    return r.chatting_with is None and other.chatting_with is None


async def decide(r: Mind, ctx: StepContext, perceived: list[MemoryNode]) -> Intent | None:
    """React to this step's perception: a chat intent, a wait applied to itself, or nothing."""
    if r.chatting_with is not None or r.action is None or r.action.address.startswith(WAITING_PREFIX):
        return None
    other = pick_focus(r, ctx, perceived)
    if other is None or not _both_available(r, ctx, other):
        return None
    memories = about(r, other.name, ctx.now, distinct=ctx.config.react_rules)
    if ctx.step >= r.cooldown.get(other.name, -1) and not _settled(r, ctx, other.name, other):
        if ctx.config.react_rules and await ctx.offers.offered(r.name, other.name):
            return None  # the other, earlier in the runner's order, chose to talk to us: the chat is on
        vars = {
            "name": r.name,
            "target": other.name,
            "context": sentences(memories) or "nothing in particular.",
            "last_chat": last_chat_line(r, ctx, other.name),
            "time": ctx.now.strftime("%H:%M on %A"),
            "my_status": subtask_text(r.action.description),
            "their_status": subtask_text(other.description),
            "aims": aims(r),
        }
        ans = await ask(ctx, r.name, DECIDE_TO_TALK, vars, fallback=TALK_FALLBACK)
        _remember(r, ctx, other.name, other, ans.answer == "no")
        if ans.answer == "yes":
            return ChatIntent(other.name)
    if r.planned_path and other.address == r.action.address and other.act_end is not None:
        await maybe_wait(r, ctx, other, memories)
    return None


WAIT_KEY = "wait: "
"""Prefix of the memo key of a wait decision (the plain key is the other's name: talking)."""


def _situation(r: Mind, other: AgentView) -> tuple[str, str]:
    assert r.action is not None
    return (r.action.description, other.description)


def _settled(r: Mind, ctx: StepContext, key: str, other: AgentView) -> bool:
    """Whether a 'no' given earlier still stands: both activities are the same as then."""
    return ctx.config.react_rules and r.talk_memo.get(key) == _situation(r, other)


def _remember(r: Mind, ctx: StepContext, key: str, other: AgentView, declined: bool) -> None:
    """Keep a 'no' for as long as the situation lasts; forget it on a 'yes'."""
    if not ctx.config.react_rules:
        return
    if declined and r.talk_memo.get(key) != _situation(r, other):
        r.set_talk_memo(key, _situation(r, other))
    elif not declined and key in r.talk_memo:
        r.set_talk_memo(key, None)


def pause_plan(r: Mind, ctx: StepContext, inserted: str, minutes: int) -> bool:
    """Insert ``inserted`` now when it ends within the activity running now (which it only
    pauses), keeping the rest of the plan; False (nothing changed) when it would reach further."""
    if not r.schedule:
        return False
    start = min(minute_of_day(ctx.now) + (1 if ctx.now.second else 0), 1439)
    stop = min(start + max(1, minutes), 1440)
    if stop > span(r.schedule, index_at(r.schedule, start))[1]:
        return False
    r.set_schedule(replace_span(r.schedule, start, stop, [Row(inserted, stop - start, REACT)]))
    return True


async def fit_reaction(r: Mind, ctx: StepContext, inserted: str, minutes: int) -> None:
    """Make room in the schedule for a chat or a wait: by rule when it only pauses the current
    activity (saving ``react_rules``), else by asking the model to re-plan the window."""
    if ctx.config.react_rules and pause_plan(r, ctx, inserted, minutes):
        return
    await rewrite_around(r, ctx, inserted, minutes)


async def maybe_wait(r: Mind, ctx: StepContext, other: AgentView, memories: list[str]) -> None:
    """Ask whether to wait for ``other`` to finish with the shared place; if so, wait."""
    assert r.action is not None and other.act_end is not None
    until = other.act_end - timedelta(minutes=1)
    if until <= ctx.now:
        return
    if ctx.config.react_rules and (
        not is_object_address(other.address)
        or other.act_end >= r.action.end
        or _settled(r, ctx, WAIT_KEY + other.name, other)
    ):
        return
    vars = {
        "name": r.name,
        "target": other.name,
        "context": sentences(memories) or "nothing in particular.",
        "time": ctx.now.strftime("%H:%M on %A"),
        "my_place": r.action.address.split(":")[-1],
        "my_status": subtask_text(r.action.description),
        "their_status": subtask_text(other.description),
        "their_place": other.address.split(":")[-1],
    }
    ans = await ask(ctx, r.name, DECIDE_TO_REACT, vars, fallback=WaitOrGo(answer="continue"))
    _remember(r, ctx, WAIT_KEY + other.name, other, ans.answer != "wait")
    if ans.answer != "wait":
        return
    what = f"waiting to start {subtask_text(r.action.description)}"
    minutes = max(1, round((until - ceil_minute(ctx.now)).total_seconds() / 60))
    await fit_reaction(r, ctx, what, minutes)
    grounding = Grounding(
        address=f"{WAITING_PREFIX}{r.tile[0]} {r.tile[1]}",
        emoji=WAIT_EMOJI,
        event=("waiting to start", subtask_text(r.action.description)),
    )
    action = Action("wait", what, ctx.now, until, grounding, None)
    r.set_action(action)
    r.log_action(
        ActionLogEntry(
            task="react",
            parent=None,
            is_new=True,
            duration=action.minutes,
            time=ctx.now.strftime("%Y-%m-%d %H:%M:%S"),
        )
    )
