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
from aga.minds.calls import ask, embed
from aga.minds.grounding import (
    arena_options,
    choose_place,
    ground_action,
    is_work_text,
    sector_options,
    workplace,
)
from aga.minds.plan_checks import (
    EXAMPLE_ACTIVITY,
    clean_activity,
    example_copies,
    fullest_plan,
    plan_problem,
    salvage_plan,
    tidy_plan,
)
from aga.minds.replan import repeats
from aga.minds.retrieve import merge_unique, retrieve
from aga.minds.schedule import (
    REACT,
    ROOT,
    Row,
    build_day,
    decomposed_rows,
    index_at,
    is_meal_text,
    is_sleep_text,
    replace_span,
    should_decompose,
    span,
)
from aga.minds.spatial import is_others_private
from aga.minds.state import ActionLogEntry
from aga.minds.text import activity_phrase, clock, day_text, midnight, minute_of_day
from aga.minds.wandering import wander
from aga.prompts.tasks import (
    DAILY_PLAN,
    HOURLY_SCHEDULE,
    NEW_DAY_REVIEW,
    NEW_DAY_REVISION,
    WAKE_UP_HOUR,
    DailyPlan,
    TaskDecomp,
    WakeUpHour,
    decomposition,
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


def day_work(items: list[tuple[int, str]]) -> str | None:
    """The plan's first item that is work or study (not a meal, not sleep), or None."""
    for _hour, text in sorted(items):
        if is_work_text(text) and not is_sleep_text(text) and not is_meal_text(text):
            return text
    return None


async def start_day(r: Mind, ctx: StepContext) -> None:
    """Plan a new day: (on later days) revise status, then wake-up hour, plan and schedule."""
    first = r.day is None
    if not first:
        await revise_identity(r, ctx)
    wake = await wake_up_hour(r, ctx)
    idea = await wander(r, ctx) if ctx.config.mind_wandering else None
    items, defaulted = await daily_plan(r, ctx, wake, idea)
    if ctx.config.original_pipeline:
        items = await hour_by_hour(r, ctx, wake, items)
    work = day_work(items) if ctx.config.plan_rules and workplace(r) else None
    rows = build_day(wake, items, WAKE_ACTIVITY, bed_hour_from_lifestyle(r.identity.lifestyle), work)
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
        "first_name": r.identity.first_name,
        "daily_req": r.identity.daily_plan_req or "none",
        "plan_note": "\n".join(notes),
        "places": "; ".join(places),
        "date": day_text(ctx.now),
        "wake_hour": wake,
        "home": r.home_sector,  # the task's declared hint (test doubles only)
    }
    seen: list[DailyPlan] = []

    def check(answer: DailyPlan) -> str | None:
        seen.append(answer)
        return plan_problem(tidy_plan(answer, wake), wake, r.identity.first_name, len(answer.items))

    ans = await ask(ctx, r.name, replace(DAILY_PLAN, check=check), vars)
    if ans is not None:
        ans = tidy_plan(ans, wake)
    elif seen:  # the model's fullest plan, without what its check refused
        ans = salvage_plan(tidy_plan(fullest_plan(seen, wake), wake), wake)
    if ans is None or not getattr(ans, "items", None):
        return fallback_plan(wake), True
    by_hour: dict[int, str] = {}
    for item in ans.items:
        text = clean_activity(item.activity)
        if text:
            by_hour.setdefault(int(item.hour), text)
    return sorted(by_hour.items()), False


async def hour_by_hour(
    r: Mind, ctx: StepContext, wake: int, items: list[tuple[int, str]]
) -> list[tuple[int, str]]:
    """The original pipeline: one ``hourly_schedule`` call per waking hour, each seeing the broad
    plan and the hours before it. An hour the model fails keeps the broad plan's item for it
    (what was planned, not a made-up activity)."""
    broad = ", ".join(f"{a} at {h}:00" for h, a in sorted(items)) or "none"
    planned = dict(items)
    out: list[tuple[int, str]] = []
    so_far: list[str] = [f"{clock(h * 60)} sleeping" for h in range(wake)]
    current = planned.get(wake, WAKE_ACTIVITY)
    checked = replace(
        HOURLY_SCHEDULE, check=lambda a: None if clean_activity(a.activity) else "only a clock time"
    )
    for hour in range(wake, 24):
        current = planned.get(hour, current)
        vars = {
            "persona": r.identity.block(),
            "daily_req": broad,
            "so_far": "\n".join(so_far[-8:]) or "(none yet)",
            "first_name": r.identity.first_name,
            "hour": clock(hour * 60),
            "next_hour": clock((hour + 1) * 60),
        }
        ans = await ask(ctx, r.name, checked, vars)
        text = current if ans is None else clean_activity(ans.activity)
        out.append((hour, text))
        so_far.append(f"{clock(hour * 60)} {text}")
    return out


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
            r.memory,
            await embed(ctx, focal),
            ctx.now,
            ctx.config.retrieve_count,
            r.params.weights,
            unique=not ctx.config.original_pipeline,
        )
    else:
        groups = []
    statements = [n.embedding_key for n in merge_unique(groups)]
    if not statements:
        return
    persona = r.identity.block()
    review = await ask(
        ctx,
        r.name,
        NEW_DAY_REVIEW,
        {"persona": persona, "statements": "\n".join(statements), "date": date},
    )
    if review is None:
        return
    r.set_plan_note(review.plan_note)
    revision = await ask(
        ctx,
        r.name,
        NEW_DAY_REVISION,
        {
            "persona": persona,
            "plan_note": review.plan_note,
            "feelings": review.feelings,
            "date": date,
        },
    )
    if revision is not None:
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


def _undivided(current: Row, later: Row) -> bool:
    """Whether ``current`` is the first hour of ``later``'s activity left undivided."""
    return current.parent == current.description == later.description


def decomposable(row: Row) -> bool:
    """A plan item (or a re-planned one that is not already a subtask) of an hour or more that
    is not sleep."""
    if row.parent == REACT and row.description.rstrip().endswith(")"):
        return False
    return row.parent in (ROOT, REACT) and should_decompose(row.description, row.minutes)


CHUNK_MINUTES = 180
"""A longer activity is decomposed a piece of this length at a time (the rest stays a plan item
and is decomposed when it comes near), so every step stays short."""
STEP_MINUTES = 20
"""The typical length of a step asked for (steps of 5-30 minutes, as in the original)."""
ORIGINAL_STEP_MINUTES = 10
"""With the original pipeline: the original asked for 5-minute steps of the whole block."""


def step_count(minutes: int, original: bool = False) -> int:
    """How many steps to ask for an activity of ``minutes``: grows with its length."""
    size = ORIGINAL_STEP_MINUTES if original else STEP_MINUTES
    return max(3, min(24 if original else 10, round(minutes / size)))


async def decompose_ahead(r: Mind, ctx: StepContext, minute: int) -> None:
    """Decompose the current row and the row an hour ahead, when they call for it.

    A row longer than :data:`CHUNK_MINUTES` is decomposed a piece at a time (not with the original
    pipeline). When the model gives no usable steps, the first hour stays undivided (marked so it
    is not asked again) and the rest is asked again when it comes near.
    """
    targets = [minute]
    if ctx.now.hour < 23 and minute + 60 < 1440:
        targets.append(minute + 60)
    original = ctx.config.original_pipeline
    for m in targets:
        i = index_at(r.schedule, m)
        row = r.schedule[i]
        if not decomposable(row):
            continue
        if m != minute and _undivided(r.schedule[index_at(r.schedule, minute)], row):
            continue  # its first hour just failed: try the rest when it begins, not at once
        start, end = span(r.schedule, i)
        piece = row.minutes if original or row.minutes <= CHUNK_MINUTES else CHUNK_MINUTES
        if row.minutes - piece < 60:
            piece = row.minutes  # no stub of less than an hour left over
        rows = await decompose_activity(r, ctx, row.description, piece, start)
        if len(rows) == 1 and rows[0].parent == ROOT:  # no usable steps
            first = min(60, row.minutes)
            rows = [Row(row.description, first, row.description)]
            piece = first
        if piece < row.minutes:
            rows = [*rows, Row(row.description, row.minutes - piece, ROOT)]
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
    count = step_count(minutes, ctx.config.original_pipeline)
    vars = {
        "persona": r.identity.block(),
        "date": day_text(ctx.now),
        "context": "; ".join(around) or "nothing else planned",
        "task": task,
        "minutes": minutes,
        "start": clock(start),
        "end": clock(start + minutes),
        "count": count,
        "step_minutes": max(5, minutes // count),
    }
    others = [row.description for row in hourly if row.description != task]
    checked = replace(decomposition(count), check=lambda a: decomposition_problem(a, task, others, count))
    ans = await ask(ctx, r.name, checked, vars)
    if ans is None or not getattr(ans, "subtasks", None):
        return [Row(task, minutes, ROOT)]
    steps = [
        (activity_phrase(s.activity), int(s.minutes))
        for s in ans.subtasks
        if not _copied_step(s.activity, others)
    ]
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


def decomposition_problem(answer: TaskDecomp, task: str, other_items: list[str], count: int) -> str | None:
    """Why a decomposition is wrong in a way the schema cannot say (half or more of its steps are
    other items of the day, far too few steps for the activity's length), or None when it is fine
    (a few copied steps are dropped by the caller)."""
    copied = [sub.activity for sub in answer.subtasks if _copied_step(sub.activity, other_items)]
    if copied and 2 * len(copied) >= len(answer.subtasks):  # a few copies are just dropped
        return (
            f"the step '{copied[0]}' is another part of the day, not a step of '{task}'; "
            f"list only what happens during '{task}', without clock times"
        )
    from_example = example_copies([sub.activity for sub in answer.subtasks], task)
    if len(from_example) >= 2 and 2 * len(from_example) >= len(answer.subtasks):
        return (
            f"the steps '{from_example[0]}' and '{from_example[1]}' are the example's ({EXAMPLE_ACTIVITY}), "
            f"not steps of '{task}'; write what '{task}' itself involves"
        )
    least = max(2, count // 3)
    if len(answer.subtasks) < least:
        return f"only {len(answer.subtasks)} steps; give about {count} steps (at least {least}), each 5-30 minutes"
    return None


def _copied_step(step: str, other_items: list[str]) -> bool:
    """Whether a 'step' is another item of the day copied in (small models list the neighbouring
    plan items, times and all, as steps: 'Go to bed at 11:00 PM' as a step of 'go to work')."""
    return bool(_CLOCK.search(step)) or any(repeats(step, item) for item in other_items)
