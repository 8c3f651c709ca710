"""Re-planning around a reaction: a chat or a wait is inserted now and the model re-plans the rest
of the window (the original's schedule rewrite). Used by :mod:`aga.minds.react` when the saving
``react_rules`` cannot settle it by only pausing the current activity.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from aga.minds.calls import ask
from aga.minds.schedule import REACT, Row, fit_rows, replace_span, rewrite_window, slice_rows
from aga.minds.text import activity_phrase, clock, day_text, minute_of_day
from aga.prompts.tasks import SCHEDULE_REWRITE

if TYPE_CHECKING:
    from aga.minds.context import StepContext
    from aga.minds.state import Mind

_WORDS = re.compile(r"[a-z']+")


def repeats(activity: str, inserted: str) -> bool:
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
        ans = await ask(ctx, r.name, SCHEDULE_REWRITE, vars)
        if ans is not None and getattr(ans, "activities", None):
            kept = [
                (activity_phrase(a.activity), int(a.minutes))
                for a in ans.activities
                if not repeats(a.activity, inserted)
            ]
            fitted = fit_rows(kept, remaining, REACT)
            if fitted:
                after = fitted
    new_rows = [Row(inserted, stop - start, REACT), *after]
    r.set_schedule(replace_span(r.schedule, start, start + sum(x.minutes for x in new_rows), new_rows))
