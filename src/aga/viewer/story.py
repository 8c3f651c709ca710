"""``aga story``: each resident's day as a readable timeline, written to ``<sim>/story.md``.

Built from the store alone (read only):

- the *movement rows*: every change of what a resident is doing (``"<action> @ <place>"``) gives
  a line with its game time and place; a run of sleeping steps is one line, and the first
  activity after sleep is "woke up";
- the *chat memories*: whom they talked to, what about (the chat's summary) and its first line;
- the *thoughts* formed during the run (reflections and what a chat left them thinking):
  "concluded";
- the *daily plan* thoughts: the plan they made for the day.

The short form (:func:`short_story`) is one paragraph per resident: when they woke, their first
activity, the places they went to, whom they talked to and about what.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from aga.errors import InputError
from aga.store.sim_store import DB_NAME
from aga.viewer.inspector import TIME, connect, meta, step_time

STORY_FILE = "story.md"


@dataclass
class Line:
    """One line of a resident's day."""

    when: datetime
    kind: str  # "woke", "do", "went", "chat", "thought", "plan", "sleep"
    text: str


@dataclass
class Day:
    """One resident's run, as lines in time order, with the facts the short form needs."""

    name: str
    lines: list[Line] = field(default_factory=list)
    woke: datetime | None = None
    first_activity: str | None = None
    places: list[str] = field(default_factory=list)
    chats: list[tuple[datetime, str, str]] = field(default_factory=list)  # (when, with whom, about)
    thoughts: list[str] = field(default_factory=list)


def _short_place(place: str) -> str:
    if place.startswith("<persona>"):
        return "with " + place.removeprefix("<persona>").strip()
    parts = [p for p in place.split(":") if p]
    return " › ".join(parts[1:] if len(parts) > 1 else parts)


def _plain(action: str) -> str:
    """``"x (x)"`` (a subtask named like its plan item) as ``"x"``."""
    head, sep, tail = action.partition(" (")
    return head if sep and tail.rstrip(")").strip().lower() == head.strip().lower() else action


def _asleep(action: str) -> bool:
    a = action.lower()
    return "sleep" in a or "asleep" in a or a.startswith("in bed")


def _building(place: str) -> str:
    parts = [p for p in place.split(":") if p]
    return parts[1] if len(parts) > 1 else (parts[0] if parts else "")


def resident_days(folder: Path, only: str | None = None) -> tuple[dict[str, object], list[Day]]:
    """The run's meta and every resident's :class:`Day` (or only ``only``'s).

    Raises:
        InputError: ``folder`` holds no store, or ``only`` is not one of its residents.
    """
    if not (folder / DB_NAME).is_file():
        raise InputError(f"{folder}: no simulation here (missing {DB_NAME})")
    with connect(folder) as conn:
        m = meta(conn)
        names = list(m.get("persona_names") or [])
        if only is not None and only not in names:
            raise InputError(
                f"simulation {folder.name!r} has no resident {only!r}; it has: {', '.join(names)}"
            )
        total = int(m.get("step", 0))
        start = step_time(m, 0)
        end = step_time(m, total)
        days = []
        for name in [only] if only else names:
            day = Day(name)
            last_action = last_place = None
            sleeping_since: datetime | None = None
            was_asleep = False
            home: set[str] = set()  # where they slept: not "went to"
            for step, desc in conn.descriptions(name):
                action, _, place = desc.partition(" @ ")
                action, place = _plain(action.strip()), place.strip()
                if action == last_action and place == last_place:
                    continue
                when = step_time(m, step)
                asleep = _asleep(action)
                if asleep:
                    home.add(_building(place))
                    if not was_asleep:
                        sleeping_since = when
                        day.lines.append(Line(when, "sleep", f"asleep ({_short_place(place) or 'in bed'})"))
                    was_asleep = True
                    last_action, last_place = action, place
                    continue
                where = _short_place(place)
                if was_asleep or (day.woke is None and sleeping_since is None and last_action is None):
                    if was_asleep and day.woke is None:
                        day.woke = when
                    if day.first_activity is None:
                        day.first_activity = action
                    kind = "woke" if was_asleep else "do"
                    text = f"woke up and started {action}" if was_asleep else action
                    day.lines.append(Line(when, kind, f"{text} — {where}" if where else text))
                elif _building(place) != _building(last_place or "") and not place.startswith("<persona>"):
                    day.lines.append(Line(when, "went", f"went to {_building(place)}: {action} — {where}"))
                elif action != last_action:
                    day.lines.append(Line(when, "do", f"{action} — {where}" if where else action))
                b = _building(place)
                if b and not place.startswith("<persona>") and b not in day.places and b not in home:
                    day.places.append(b)
                was_asleep = False
                last_action, last_place = action, place
            stamp_lo, stamp_hi = start.strftime(TIME), end.strftime(TIME)
            seen_chat: set[str] = set()
            for r in conn.memories_between(name, stamp_lo, stamp_hi):
                when = datetime.strptime(r["created"], TIME)
                if r["type"] == "chat":
                    other = str(r.get("object") or "someone")
                    lines = r.get("filling") or []
                    first = next((f'{s}: "{u}"' for s, u in lines if isinstance(u, str)), "")
                    key = f"{r['created']}{other}"
                    if key in seen_chat:
                        continue
                    seen_chat.add(key)
                    about = r["description"]
                    day.chats.append((when, other, about))
                    day.lines.append(
                        Line(when, "chat", f"talked with {other}: {about}" + (f" — {first}" if first else ""))
                    )
                elif r["type"] == "thought" and r.get("predicate") == "plan":
                    day.lines.append(Line(when, "plan", r["description"]))
                elif r["type"] == "thought" and (r.get("filling") or when > start):  # not the seed memories
                    day.thoughts.append(r["description"])
                    day.lines.append(Line(when, "thought", f"concluded: {r['description']}"))
            day.lines.sort(key=lambda ln: ln.when)
            days.append(day)
    return {**m, "_start": start, "_end": end, "_total": total}, days


def _clock(when: datetime, start: datetime) -> str:
    extra = (when.date() - start.date()).days
    return when.strftime("%H:%M") + (f" (day {extra + 1})" if extra else "")


def full_story(folder: Path, only: str | None = None) -> str:
    """The Markdown story of the run (every resident, or only ``only``)."""
    m, days = resident_days(folder, only)
    start, end = m["_start"], m["_end"]
    assert isinstance(start, datetime) and isinstance(end, datetime)
    out = [
        f"# The story of {folder.name}",
        "",
        f"_{start.strftime('%A %B %d, %Y, %H:%M')} to {end.strftime('%A %B %d, %H:%M')} "
        f"({m['_total']} steps of {m.get('sec_per_step')} s)_",
        "",
    ]
    for day in days:
        out += [f"## {day.name}", ""]
        out += [_summary(day, start), ""]
        if not day.lines:
            out += ["_Nothing recorded yet._", ""]
        for ln in day.lines:
            out.append(f"- **{_clock(ln.when, start)}** {ln.text}")
        out.append("")
    return "\n".join(out)


def _summary(day: Day, start: datetime) -> str:
    bits = []
    if day.woke is not None:
        bits.append(f"{day.name} woke at {_clock(day.woke, start)} and started with {day.first_activity}")
    elif day.first_activity:
        bits.append(f"{day.name} was up already, {day.first_activity}")
    else:
        bits.append(f"{day.name} slept through")
    if day.places:
        bits.append("went to " + ", ".join(day.places[:6]))
    elif day.first_activity:
        bits.append("stayed at home")
    if day.chats:
        talks = []
        for _, other, about in day.chats[:4]:
            talks.append(f"{other} ({about})")
        bits.append("talked with " + "; ".join(talks))
    else:
        bits.append("talked with no one")
    return "; ".join(bits) + "."


def short_story(folder: Path) -> str:
    """One paragraph per resident (the tail of ``make demo``)."""
    m, days = resident_days(folder)
    start = m["_start"]
    assert isinstance(start, datetime)
    return "\n".join(_summary(d, start) for d in days)


def write_story(folder: Path, only: str | None = None, *, out: Path | None = None) -> Path:
    """Write ``<sim>/story.md`` (or ``out``), replacing an earlier story, and return its path."""
    text = full_story(folder, only)
    path = out if out is not None else folder / STORY_FILE
    tmp = path.with_suffix(".md.tmp")
    tmp.write_text(text + "\n", encoding="utf-8")
    tmp.replace(path)
    return path
