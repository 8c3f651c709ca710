"""Planning: the day's plan, the next action, decomposition and grounding.

Two seams for the cost layer (Lifestyle Policy, ``ctx.policy``):
    :func:`decompose_activity`  activity text + minutes -> schedule rows (one model call, or a
                                stored decomposition rescaled to the minutes)
    :func:`ground_action`       activity text -> place + emoji + event triples (in
                                :mod:`aga.minds.grounding`: up to 8 calls, or a stored grounding)
Both are pure with respect to the schedule: callers put their results in place. Short activities
that are not decomposed are first mapped to a stored equivalent text (:func:`canonical_text`) so
the grounding store hits. With ``MindConfig.mind_wandering`` a new day's plan gets one idea drawn
from a few rarely recalled memories (:func:`wander`).
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING

import numpy as np

from aga.minds.action import Action
from aga.minds.calls import ask, embed, sentinel
from aga.minds.grounding import arena_options, choose_place, ground_action, sector_options
from aga.minds.retrieve import merge_unique, retrieve
from aga.minds.schedule import (
    REACT,
    ROOT,
    Row,
    build_day,
    decomposed_rows,
    fit_rows,
    index_at,
    is_sleep_text,
    replace_span,
    rewrite_window,
    should_decompose,
    slice_rows,
    span,
)
from aga.minds.spatial import is_others_private
from aga.minds.state import ActionLogEntry
from aga.minds.text import clock, day_text, midnight, minute_of_day
from aga.minds.wandering import eps_for, sample_wandering
from aga.prompts.tasks import (
    DAILY_PLAN,
    MIND_WANDERING,
    NEW_DAY_REVIEW,
    NEW_DAY_REVISION,
    SCHEDULE_REWRITE,
    TASK_DECOMP,
    WAKE_UP_HOUR,
    DailyPlan,
    DayReview,
    DayRevision,
    NewIdea,
    ScheduleRewrite,
    TaskDecomp,
    WakeUpHour,
)

if TYPE_CHECKING:
    from aga.minds.context import StepContext
    from aga.minds.state import Mind

__all__ = [
    "arena_options",
    "canonical_text",
    "choose_place",
    "decompose_activity",
    "ground_action",
    "next_action",
    "sector_options",
    "start_day",
    "wander",
]

WAKE_ACTIVITY = "waking up and starting the morning routine"
EARLIEST_WAKE, LATEST_WAKE = 3, 13
"""Wake-up hours outside this range are taken for mistakes (the lifestyle's hour is used)."""
_BED_RE = re.compile(r"bed\D{0,20}?(\d{1,2})(?::\d\d)?\s*(am|pm)?")
_WAKE_RE = re.compile(r"wak\w*(?:\s+up)?\D{0,20}?(\d{1,2})(?::\d\d)?\s*(am|pm)?", re.IGNORECASE)


# ---------------------------------------------------------------------- the day
def stated_wake_hour(lifestyle: str) -> int | None:
    """The wake-up hour a lifestyle text states ('wakes up around 7 am' -> 7), or None."""
    m = _WAKE_RE.search(lifestyle)
    if not m:
        return None
    hour = int(m.group(1)) % 12 if m.group(2) else int(m.group(1))
    if m.group(2) and m.group(2).lower() == "pm":
        hour += 12
    return hour if 0 <= hour <= 23 else None


def wake_hour_from_lifestyle(lifestyle: str) -> int:
    """The wake-up hour written in a lifestyle text ('wakes up around 7 am' -> 7), else 7."""
    hour = stated_wake_hour(lifestyle)
    return 7 if hour is None else hour


def bed_hour_from_lifestyle(lifestyle: str) -> int:
    """The bedtime hour of a lifestyle text ('goes to bed around 11 pm' -> 23; midnight -> 24),
    else 23."""
    low = lifestyle.lower()
    m = _BED_RE.search(low)
    if m is None:
        return 24 if re.search(r"bed\D{0,20}midnight", low) else 23
    hour = int(m.group(1)) % 12 if m.group(2) else int(m.group(1))
    if m.group(2) == "pm":
        hour += 12
    if hour <= 4:  # after midnight: sleeps from midnight on (the day ends at 24:00)
        return 24
    return min(hour, 23)


def fallback_plan(wake: int) -> list[tuple[int, str]]:
    """A plain day used when the model's plan is unusable."""
    items = [
        (wake + 1, "having breakfast"),
        (wake + 2, "working on the day's tasks"),
        (12, "having lunch"),
        (13, "working on the day's tasks"),
        (18, "having dinner"),
        (19, "relaxing at home"),
        (22, "going to bed"),
    ]
    return [(h, a) for h, a in items if wake < h <= 23]


async def start_day(r: Mind, ctx: StepContext) -> None:
    """Plan a new day: (on later days) revise status, then wake-up hour, plan and schedule."""
    first = r.day is None
    if not first:
        await revise_identity(r, ctx)
    wake = await wake_up_hour(r, ctx)
    idea = await wander(r, ctx) if ctx.config.mind_wandering else None
    items, defaulted = await daily_plan(r, ctx, wake, idea)
    rows = build_day(wake, items, WAKE_ACTIVITY, bed_hour_from_lifestyle(r.identity.lifestyle))
    r.plan_day(ctx.now.date(), wake, [f"{a} at {h}:00" for h, a in sorted(items)], rows)
    if not defaulted:
        await remember_plan(r, ctx)


async def wake_up_hour(r: Mind, ctx: StepContext) -> int:
    """Ask for today's wake-up hour (the lifestyle text's hour if the model fails or answers an
    hour outside 3-13). With ``plan_rules``, a plausible hour the lifestyle states is taken
    without asking."""
    stated = stated_wake_hour(r.identity.lifestyle)
    if ctx.config.plan_rules and stated is not None and EARLIEST_WAKE <= stated <= LATEST_WAKE:
        return stated
    vars = {
        "persona": r.identity.block(),
        "first_name": r.identity.first_name,
        "lifestyle": r.identity.lifestyle,
    }
    default = wake_hour_from_lifestyle(r.identity.lifestyle)
    ans = await ask(ctx, r.name, WAKE_UP_HOUR, vars, fallback=WakeUpHour(hour=default))  # type: ignore[arg-type]
    hour = int(ans.hour)
    # a small model sometimes answers the hour it goes to bed: keep to plausible mornings
    return hour if EARLIEST_WAKE <= hour <= LATEST_WAKE else default


async def daily_plan(
    r: Mind, ctx: StepContext, wake: int, idea: str | None = None
) -> tuple[list[tuple[int, str]], bool]:
    """Ask for today's plan: (hour, activity) items and whether the fallback plan was used.

    ``idea`` (from Mind Wandering) is put before the model as something new to fit in today.
    """
    places = [s for s in r.spatial.sectors() if not is_others_private(s, r.name, r.identity.last_name)]
    notes = [f"Notes: {r.plan_note}"] if r.plan_note else []
    if idea:
        notes.append(f"Something new {r.identity.first_name} wants to do today: {idea}.")
    vars = {
        "persona": r.identity.block(),
        "name": r.name,
        "first_name": r.identity.first_name,
        "daily_req": r.identity.daily_plan_req or "none",
        "plan_note": "\n".join(notes),
        "new_idea": idea or "",
        "places": "; ".join(places),
        "date": day_text(ctx.now),
        "wake_hour": wake,
        "learned": r.identity.learned,
        "lifestyle": r.identity.lifestyle,
        "home": r.home_sector,
        "sectors": places,
    }
    none = sentinel(DailyPlan)
    ans = await ask(ctx, r.name, DAILY_PLAN, vars, fallback=none)
    if ans is none or not getattr(ans, "items", None):
        return fallback_plan(wake), True
    by_hour: dict[int, str] = {}
    for item in ans.items:
        by_hour.setdefault(int(item.hour), item.activity)
    return sorted(by_hour.items()), False


async def remember_plan(r: Mind, ctx: StepContext) -> None:
    """Store the day's plan as a thought (importance 5, keyword 'plan')."""
    date = ctx.now.strftime("%A %B %d")
    text = f"This is {r.name}'s plan for {date}: " + ", ".join(r.daily_req)
    vec = await embed(ctx, [text])
    r.memory.add(
        "thought",
        created=ctx.now,
        subject=r.name,
        predicate="plan",
        obj=date,
        description=text,
        embedding_key=text,
        importance=5,
        keywords=["plan"],
        vector=vec[0],
        expiration=ctx.now + timedelta(days=ctx.config.thought_days),
    )


async def revise_identity(r: Mind, ctx: StepContext) -> None:
    """On a new day: look back (retrieval) and rewrite the status and standing requirements."""
    date = day_text(ctx.now)
    focal = [f"{r.name}'s plan for {date}.", f"Important recent events for {r.name}'s life."]
    if r.memory.dim:
        groups = retrieve(
            r.memory, await embed(ctx, focal), ctx.now, ctx.config.retrieve_count, r.params.weights
        )
    else:
        groups = []
    statements = [n.embedding_key for n in merge_unique(groups)]
    if not statements:
        return
    persona = r.identity.block()
    none_review = sentinel(DayReview)
    review = await ask(
        ctx,
        r.name,
        NEW_DAY_REVIEW,
        {"persona": persona, "statements": "\n".join(statements), "date": date, "name": r.name},
        fallback=none_review,
    )
    if review is none_review:
        return
    r.set_plan_note(review.plan_note)
    none_rev = sentinel(DayRevision)
    revision = await ask(
        ctx,
        r.name,
        NEW_DAY_REVISION,
        {
            "persona": persona,
            "plan_note": review.plan_note,
            "feelings": review.feelings,
            "date": date,
            "name": r.name,
            "currently": r.identity.currently,
            "daily_req": r.identity.daily_plan_req,
        },
        fallback=none_rev,
    )
    if revision is not none_rev:
        r.set_identity(
            replace(r.identity, currently=revision.currently, daily_plan_req=revision.daily_requirements)
        )


# ---------------------------------------------------------------------- the next action
async def next_action(r: Mind, ctx: StepContext) -> None:
    """Start the schedule's action for the current minute (decomposing and grounding it)."""
    if not r.schedule:
        await start_day(r, ctx)
    minute = minute_of_day(ctx.now)
    await decompose_ahead(r, ctx, minute)
    i = index_at(r.schedule, minute)
    row = r.schedule[i]
    _start, end = span(r.schedule, i)
    end_time = midnight(ctx.now) + timedelta(minutes=end)
    a = r.action
    if a is not None and a.kind == "plan" and a.description == row.description and end_time > ctx.now:
        r.extend_action(end_time)  # the same activity goes on (e.g. sleep across midnight): nothing to ask
        return
    key = None
    if ctx.policy.enabled and row.parent in (ROOT, REACT) and not is_sleep_text(row.description):
        key = await canonical_text(r, ctx, row.description)
    grounding = await ground_action(r, ctx, row.description, key=key, parent=row.parent)
    action = Action("plan", row.description, ctx.now, end_time, grounding, row.parent)
    r.set_action(action)
    r.log_action(_log_entry(action, ctx, task=row.description, parent=row.parent))


async def key_vector(ctx: StepContext, text: str) -> np.ndarray | None:
    """The embedding of a Lifestyle Policy key; None (and no embedding asked) when it is off."""
    if not ctx.policy.enabled:
        return None
    return (await embed(ctx, [text]))[0]


async def canonical_text(r: Mind, ctx: StepContext, activity: str) -> str:
    """The stored text equivalent to a short activity (exact or similar), so the grounding store
    hits; an unknown activity is registered for later runs and is its own key."""
    policy = ctx.policy
    vector = await key_vector(ctx, activity)
    found = policy.canonical(r.name, activity, vector, ctx.step)
    if found is not None:
        return found
    policy.register_activity(r.name, activity, vector, ctx.step)
    return activity


def _log_entry(
    action: Action, ctx: StepContext, *, task: str, parent: str | None, chat: dict[str, object] | None = None
) -> ActionLogEntry:
    return ActionLogEntry(
        task=task,
        parent=parent,
        is_new=not action.grounding.reused,
        duration=action.minutes,
        time=ctx.now.strftime("%Y-%m-%d %H:%M:%S"),
        chat=chat or {},
    )


def decomposable(row: Row) -> bool:
    """A plan item (or a re-planned one that is not already a subtask) of an hour or more that
    is not sleep."""
    if row.parent == REACT and row.description.rstrip().endswith(")"):
        return False
    return row.parent in (ROOT, REACT) and should_decompose(row.description, row.minutes)


async def decompose_ahead(r: Mind, ctx: StepContext, minute: int) -> None:
    """Decompose the current row and the row an hour ahead, when they call for it."""
    targets = [minute]
    if ctx.now.hour < 23 and minute + 60 < 1440:
        targets.append(minute + 60)
    for m in targets:
        i = index_at(r.schedule, m)
        row = r.schedule[i]
        if not decomposable(row):
            continue
        start, end = span(r.schedule, i)
        rows = await decompose_activity(r, ctx, row.description, row.minutes, start)
        r.set_schedule(replace_span(r.schedule, start, end, rows))


async def decompose_activity(r: Mind, ctx: StepContext, task: str, minutes: int, start: int) -> list[Row]:
    """SEAM: the subtasks of ``task`` as rows adding up to ``minutes`` exactly.

    With the Lifestyle Policy a stored decomposition of the same (or a similar) activity is
    reused, rescaled to ``minutes``, with no call; its rows are named after the stored text so
    their groundings hit too. Otherwise one ``task_decomp`` call, whose result is stored; when
    the answer is unusable the task stays one row (and nothing is stored).
    """
    policy = ctx.policy
    vector = await key_vector(ctx, task)
    hit = policy.find_plan(r.name, task, minutes, vector, ctx.step)
    if hit is not None:
        return [Row(f"{hit.key} ({name})", m, hit.key) for name, m in hit.subtasks]
    hourly = r.hourly
    around: list[str] = []
    if hourly:
        k = index_at(hourly, start)
        for j in range(max(0, k - 1), min(len(hourly), k + 2)):
            s, e = span(hourly, j)
            around.append(f"{clock(s)}-{clock(e)} {hourly[j].description}")
    vars = {
        "persona": r.identity.block(),
        "name": r.name,
        "date": day_text(ctx.now),
        "context": "; ".join(around) or "nothing else planned",
        "task": task,
        "minutes": minutes,
        "start": clock(start),
        "end": clock(start + minutes),
    }
    none = sentinel(TaskDecomp)
    ans = await ask(ctx, r.name, TASK_DECOMP, vars, fallback=none)
    if ans is none or not getattr(ans, "subtasks", None):
        return [Row(task, minutes, ROOT)]
    others = [row.description for row in hourly if row.description != task]
    steps = [(s.activity, int(s.minutes)) for s in ans.subtasks if not _copied_step(s.activity, others)]
    if not steps:
        return [Row(task, minutes, ROOT)]
    rows = decomposed_rows(task, steps, minutes)
    if policy.enabled and rows[0].parent == task:
        cut = len(task) + 2  # rows read "<task> (<subtask>)"
        policy.add_plan(
            r.name, task, minutes, [(x.description[cut:-1], x.minutes) for x in rows], vector, ctx.step
        )
    return rows


_CLOCK = re.compile(r"\b\d{1,2}(?::\d\d)?\s*(?:am|pm|a\.m\.|p\.m\.)|\b\d{1,2}:\d\d\b", re.IGNORECASE)


def _copied_step(step: str, other_items: list[str]) -> bool:
    """Whether a 'step' is another item of the day copied in (small models list the neighbouring
    plan items, times and all, as steps: 'Go to bed at 11:00 PM' as a step of 'go to work')."""
    return bool(_CLOCK.search(step)) or any(_repeats(step, item) for item in other_items)


# ---------------------------------------------------------------------- Mind Wandering
async def wander(r: Mind, ctx: StepContext) -> str | None:
    """Something new to do today, from 3 memories drawn with weights inverse to the size of
    their cluster (rare topics favoured); one ``mind_wandering`` call. None without memories
    or when the model's answers are unusable."""
    rows, vectors, _importance, _access = r.memory.arrays()
    if rows.size == 0:
        return None
    keys = [r.memory.node_at_row(int(i)).embedding_key for i in rows]
    rng = ctx.rng(r.name, "mind wandering")
    picked = sample_wandering(keys, vectors, rng, k=3, eps=eps_for(ctx.gateway.embed_model))
    if not picked:
        return None
    vars = {
        "persona": r.identity.block(),
        "memories": "\n".join(f"- {m}" for m in picked),
        "date": day_text(ctx.now),
        "first_name": r.identity.first_name,
        "name": r.name,
    }
    none = sentinel(NewIdea)
    ans = await ask(ctx, r.name, MIND_WANDERING, vars, fallback=none)
    return None if ans is none else ans.idea


# ---------------------------------------------------------------------- rewriting around a reaction
_WORDS = re.compile(r"[a-z']+")


def _repeats(activity: str, inserted: str) -> bool:
    """Whether a re-planned activity just repeats the inserted one (most words shared)."""
    a, b = set(_WORDS.findall(activity.lower())), set(_WORDS.findall(inserted.lower()))
    return bool(a and b) and len(a & b) / min(len(a), len(b)) >= 0.75


async def rewrite_around(r: Mind, ctx: StepContext, inserted: str, minutes: int) -> None:
    """Insert ``inserted`` (lasting ``minutes``) now and let the model re-plan the rest of the
    window (the current hourly block, or two when it is short). Minutes are fixed by code; an
    unusable answer keeps the original plan after the insertion."""
    if not r.schedule:
        return
    start = min(minute_of_day(ctx.now) + (1 if ctx.now.second else 0), 1439)
    stop = min(start + max(1, minutes), 1440)
    w_start, w_end = rewrite_window(r.hourly, start, stop)
    after = [row for _m, row in slice_rows(r.schedule, stop, w_end)]
    remaining = w_end - stop
    if remaining > 0:
        original = [
            f"{clock(m)}-{clock(m + row.minutes)} {row.description}"
            for m, row in slice_rows(r.schedule, w_start, w_end)
        ]
        vars = {
            "persona": r.identity.block(),
            "name": r.name,
            "date": day_text(ctx.now),
            "window_start": clock(w_start),
            "window_end": clock(w_end),
            "original": "\n".join(original),
            "inserted": inserted,
            "insert_start": clock(start),
            "insert_minutes": stop - start,
            "remaining": remaining,
            "after": [[row.description, row.minutes] for row in after],
        }
        none = sentinel(ScheduleRewrite)
        ans = await ask(ctx, r.name, SCHEDULE_REWRITE, vars, fallback=none)
        if ans is not none and getattr(ans, "activities", None):
            kept = [
                (a.activity, int(a.minutes)) for a in ans.activities if not _repeats(a.activity, inserted)
            ]
            fitted = fit_rows(kept, remaining, REACT)
            if fitted:
                after = fitted
    new_rows = [Row(inserted, stop - start, REACT), *after]
    r.set_schedule(replace_span(r.schedule, start, start + sum(x.minutes for x in new_rows), new_rows))
