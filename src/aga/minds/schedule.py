"""Schedule arithmetic: a day is a list of rows whose minutes always add up to 1440.

The model names activities; this module fixes every number. A row is
``Row(description, minutes, parent)`` where ``parent`` is ``"root"`` for an item of the day's
plan, the root activity's text for a subtask of a decomposition, and ``"react"`` for rows
written when a reaction (chat, waiting) rewrote part of the day.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

DAY_MINUTES = 1440
SLEEPING = "sleeping"
ROOT = "root"
REACT = "react"

AT_HOME = "relaxing at home"
"""What a resident does after a one-hour dinner until the plan's next item."""
_ANY_MEAL = re.compile(r"\b(breakfast|brunch|lunch|dinner|supper)\b", re.IGNORECASE)
_SLEEP_WORDS = re.compile(r"\b(sleep|sleeps|sleeping|asleep|in bed|go(?:es|ing)? to bed|nap|napping)\b")
_NOT_YET = re.compile(r"\b(ready for|prepar\w*|wind(?:s|ing)? down)\b")
_BED_OR_SLEEP = re.compile(r"sleep|bed")
_FIRMLY_ASLEEP = re.compile(r"sleeping|asleep|in bed")


def is_sleep_text(text: str) -> bool:
    """Whether an activity text means the resident is asleep ("sleeping", "going to bed")."""
    low = text.lower()
    return bool(_SLEEP_WORDS.search(low)) and not _NOT_YET.search(low)


def is_meal_text(text: str) -> bool:
    """Whether an activity text is a meal ("having lunch at the cafe")."""
    return bool(_ANY_MEAL.search(text))


def should_decompose(description: str, minutes: int) -> bool:
    """The original's rule: split activities of an hour or more, except sleep."""
    if minutes < 60:
        return False
    low = description.lower()
    if not _BED_OR_SLEEP.search(low):
        return True
    if _FIRMLY_ASLEEP.search(low):
        return False
    return minutes <= 60


@dataclass(slots=True)
class Row:
    """One schedule entry."""

    description: str
    minutes: int
    parent: str = ROOT

    def to_state(self) -> list[object]:
        """``[description, minutes, parent]``."""
        return [self.description, self.minutes, self.parent]

    @classmethod
    def from_state(cls, item: Sequence[object]) -> Row:
        """Inverse of :meth:`to_state` (a two-item list is a root row)."""
        parent = str(item[2]) if len(item) > 2 else ROOT
        return cls(str(item[0]), int(item[1]), parent)  # type: ignore[call-overload]


def total(rows: Sequence[Row]) -> int:
    """Sum of the rows' minutes."""
    return sum(r.minutes for r in rows)


def index_at(rows: Sequence[Row], minute: int) -> int:
    """Index of the row running at ``minute`` of the day (the last row if past the end)."""
    acc = 0
    for i, row in enumerate(rows):
        acc += row.minutes
        if acc > minute:
            return i
    return len(rows) - 1


def span(rows: Sequence[Row], index: int) -> tuple[int, int]:
    """(start, end) minute of row ``index``."""
    start = sum(r.minutes for r in rows[:index])
    return start, start + rows[index].minutes


def merge_repeats(rows: Sequence[Row]) -> list[Row]:
    """Merge consecutive rows with the same text and parent; drop rows of zero minutes."""
    out: list[Row] = []
    for row in rows:
        if row.minutes <= 0:
            continue
        if out and out[-1].description == row.description and out[-1].parent == row.parent:
            out[-1] = Row(row.description, out[-1].minutes + row.minutes, row.parent)
        else:
            out.append(Row(row.description, row.minutes, row.parent))
    return out


LATEST_BED_MINUTE = 23 * 60 + 30
"""The latest a day's sleep begins when the plan has none: Maria, who goes to bed "around 12 am",
studied at Hobbs Cafe until 24:00 in an embedded whole-day run and never went to bed that day."""


WORK_UNTIL_HOUR = 17
"""A meal before this hour on a day with work is followed by the work, not by time at home."""


def build_day(
    wake_hour: int,
    items: Sequence[tuple[int, str]],
    wake_activity: str,
    bed_hour: int = 23,
    work: str | None = None,
) -> list[Row]:
    """The hourly schedule of a day from the plan's (hour, activity) items.

    Sleep until ``wake_hour``; ``wake_activity`` at the wake hour unless the plan has an item
    there; each item lasts until the next item's hour; items before waking are dropped and
    repeated hours keep the first item. A meal lasts one hour (a small model's plan often jumps
    from lunch at 12 to dinner at 18, which read as six hours of lunch): after lunch the activity
    before it carries on; after breakfast, or a lunch with nothing worth going back to, the
    day's ``work`` (the plan's item that is work or study, when given) fills the time until the
    next item, up to 17:00 (Maria's breakfast at 8 and lunch at 12 came before her
    lectures, planned at 17 "until 5 pm", and she spent the morning over breakfast and the
    afternoon at home); otherwise, and after dinner, the resident spends it at home. Without any sleep item, the
    last item lasts until ``bed_hour`` (at least 30 minutes) and the resident sleeps from then
    on; a bedtime of midnight or later (24) is taken as 23:30, so that the day ends in bed (the
    next day's plan begins asleep anyway). The result covers 1440 minutes with no empty rows.
    """
    wake = min(max(int(wake_hour), 0), 23)
    by_hour: dict[int, str] = {}
    for hour, activity in sorted(items, key=lambda it: it[0]):
        text = " ".join(str(activity).split())
        if 0 <= hour <= 23 and hour >= wake and text and hour not in by_hour:
            by_hour[hour] = text
    by_hour.setdefault(wake, wake_activity)
    hours = sorted(by_hour)
    rows: list[Row] = [Row(SLEEPING, wake * 60)] if wake > 0 else []
    before = ""  # the last activity worth going back to after lunch
    for i, hour in enumerate(hours):
        end = hours[i + 1] if i + 1 < len(hours) else 24
        text = by_hour[hour]
        meal = _ANY_MEAL.search(text)
        if meal and end - hour > 1 and not is_sleep_text(text):
            rows.append(Row(text, 60))
            kind = meal.group(1).lower()
            after = before if kind == "lunch" and before else None
            if (
                after is None
                and work
                and kind in ("breakfast", "brunch", "lunch")
                and hour + 1 < WORK_UNTIL_HOUR
            ):
                until = min(end, WORK_UNTIL_HOUR)  # the work ends by 17:00, then home
                rows.append(Row(work, (until - hour - 1) * 60))
                rows.append(Row(AT_HOME, (end - until) * 60))
                continue
            rows.append(Row(after or AT_HOME, (end - hour - 1) * 60))
            continue
        rows.append(Row(text, (end - hour) * 60))
        if hour != wake and not _ANY_MEAL.search(text):
            before = text
    planned = rows[1:] if wake > 0 else rows
    if planned and not any(is_sleep_text(r.description) for r in planned):
        last = rows[-1]
        start = DAY_MINUTES - last.minutes
        bed = min(max(int(bed_hour), 1) * 60, LATEST_BED_MINUTE)
        keep = max(30, bed - start)
        if last.minutes > keep:
            rows[-1] = Row(last.description, keep, last.parent)
            rows.append(Row(SLEEPING, last.minutes - keep))
    return merge_repeats(rows)


def split_minutes(weights: Sequence[int], total_minutes: int, unit: int = 5) -> list[int]:
    """Share ``total_minutes`` among items in proportion to ``weights``.

    Every share is a positive multiple of ``unit`` except that the remainder of
    ``total_minutes / unit`` goes to the last share; the shares always sum to ``total_minutes``.
    When there are more items than units, only the first items get a share (the result is
    shorter than ``weights``).
    """
    if total_minutes <= 0 or not weights:
        return []
    units = total_minutes // unit
    if units == 0:
        return [total_minutes]
    count = min(len(weights), units)
    w = [max(float(x), 1.0) for x in weights[:count]]
    spare = units - count  # every item gets one unit first
    raw = [spare * x / sum(w) for x in w]
    extra = [int(r) for r in raw]
    left = spare - sum(extra)
    for i in sorted(range(count), key=lambda i: (-(raw[i] - extra[i]), i))[:left]:
        extra[i] += 1
    shares = [(1 + e) * unit for e in extra]
    shares[-1] += total_minutes - units * unit
    return shares


def clean_names(names: Sequence[str]) -> list[str]:
    """Trim, collapse spaces, drop empties and consecutive repeats (case-insensitive)."""
    out: list[str] = []
    for name in names:
        text = " ".join(str(name).split()).strip(" .;,")
        if text and (not out or out[-1].lower() != text.lower()):
            out.append(text)
    return out


def decomposed_rows(
    task: str, subtasks: Sequence[tuple[str, int]], minutes: int, parent: str = ROOT
) -> list[Row]:
    """Rows ``"<task> (<subtask>)"`` whose minutes add up to ``minutes`` exactly.

    The model's minutes are only weights. With no usable subtask the task stays one row.
    """
    pairs: list[tuple[str, int]] = []
    for name, mins in subtasks:
        cleaned = clean_names([name])
        if not cleaned:
            continue
        if pairs and pairs[-1][0].lower() == cleaned[0].lower():
            pairs[-1] = (pairs[-1][0], pairs[-1][1] + max(int(mins), 1))
        else:
            pairs.append((cleaned[0], max(int(mins), 1)))
    shares = split_minutes([m for _, m in pairs], minutes)
    if not shares:
        return [Row(task, minutes, parent)]
    return [Row(f"{task} ({name})", share, task) for (name, _), share in zip(pairs, shares)]


def slice_rows(rows: Sequence[Row], start: int, end: int) -> list[tuple[int, Row]]:
    """The rows covering minutes ``[start, end)``, cut at the edges, with their start minute."""
    out: list[tuple[int, Row]] = []
    acc = 0
    for row in rows:
        r_start, r_end = acc, acc + row.minutes
        acc = r_end
        lo, hi = max(r_start, start), min(r_end, end)
        if hi > lo:
            out.append((lo, Row(row.description, hi - lo, row.parent)))
    return out


def replace_span(rows: Sequence[Row], start: int, end: int, new_rows: Sequence[Row]) -> list[Row]:
    """Replace minutes ``[start, end)`` of the schedule with ``new_rows``.

    Rows overlapping the edges are cut. ``new_rows`` must add up to ``end - start``.
    """
    if not 0 <= start <= end <= total(rows):
        raise ValueError(f"span [{start}, {end}) is outside the schedule of {total(rows)} minutes")
    if total(new_rows) != end - start:
        raise ValueError(f"new rows add up to {total(new_rows)} minutes, the span has {end - start}")
    before: list[Row] = []
    after: list[Row] = []
    acc = 0
    for row in rows:
        r_start, r_end = acc, acc + row.minutes
        acc = r_end
        if r_start < start:
            before.append(Row(row.description, min(r_end, start) - r_start, row.parent))
        if r_end > end:
            after.append(Row(row.description, r_end - max(r_start, end), row.parent))
    return merge_repeats([*before, *new_rows, *after])


def fit_rows(names_minutes: Sequence[tuple[str, int]], minutes: int, parent: str = REACT) -> list[Row]:
    """Rows for ``names_minutes`` rescaled to fill exactly ``minutes`` (empty if nothing fits)."""
    pairs = [(n, m) for n, m in ((clean_names([n]), m) for n, m in names_minutes) if n]
    flat = [(n[0], max(int(m), 1)) for n, m in pairs]
    shares = split_minutes([m for _, m in flat], minutes)
    return [Row(name, share, parent) for (name, _), share in zip(flat, shares)]


def rewrite_window(hourly: Sequence[Row], minute: int, least_end: int) -> tuple[int, int]:
    """The part of the day a reaction may rewrite: the current hourly block, plus the next one
    when the current block is shorter than two hours, extended to at least ``least_end``.
    """
    if not hourly:
        return minute, min(max(least_end, minute), DAY_MINUTES)
    i = index_at(hourly, minute)
    start, end = span(hourly, i)
    if end - start < 120 and i + 1 < len(hourly):
        end = span(hourly, i + 1)[1]
    return start, min(max(end, least_end), DAY_MINUTES)
