"""The compressed replay format: the original Generative Agents' ``compressed_storage`` layout.

A replay folder holds two files::

    master_movement.json   {"0": {name: entry, ...}, "1": {...}, ...}   one key per step, 0..last
    meta.json              the original's reverie meta (start_date, curr_time, sec_per_step,
                           maze_name, persona_names, step) plus aga's own keys (see below)

An *entry* is what a resident did in one step, in the original's movement format::

    {"movement": [x, y], "pronunciatio": "<emoji>", "description": "<action> @ <address>",
     "chat": null | [[speaker, line], ...]}

Step 0 holds every resident; a later step holds a resident only when one of the four fields
differs from that resident's previous entry (an empty ``{}`` when nobody changed). *Folding* the
steps 0..s (each entry replacing the resident's previous one) gives everyone's state at step s.

aga adds to meta.json ``"start"`` (ISO game time of step 0, exact to the second) and
``"aga_town"`` (the town to draw on: a bundled name, a path, or a file name inside the replay
folder). Readers of the original format ignore them; for an original run without them the start
is ``curr_time - step * sec_per_step`` and the town is ``maze_name``.
"""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from aga.errors import InputError, StoreError

REPLAY_DIR = "replay"
MASTER_FILE = "master_movement.json"
META_FILE = "meta.json"
GA_TIME = "%B %d, %Y, %H:%M:%S"
GA_DATE = "%B %d, %Y"
FIELDS = ("movement", "pronunciatio", "description", "chat")

Entry = dict[str, Any]
Frame = dict[str, Entry]


# ---------------------------------------------------------------------------------------- entries
def check_entry(value: Any, where: str) -> Entry:
    """A validated copy of one movement entry (movement as ``[int, int]``, chat as lists).

    Args:
        value: the decoded JSON value.
        where: names the file, step and resident for the error message.

    Raises:
        InputError: a field is missing or has the wrong type (names ``where`` and the field).
    """
    if not isinstance(value, dict):
        raise InputError(f"{where}: expected an object with {', '.join(FIELDS)}, got {type(value).__name__}")
    if len(value) < 4 or any(f not in value for f in FIELDS):
        missing = [f for f in FIELDS if f not in value]
        raise InputError(f"{where}: missing field {missing[0]!r}")
    move = value["movement"]
    if (
        not isinstance(move, (list, tuple))
        or len(move) != 2
        or type(move[0]) is not int
        or type(move[1]) is not int
        or move[0] < 0
        or move[1] < 0
    ):
        raise InputError(f"{where}: field 'movement' must be [x, y] with whole numbers >= 0, got {move!r}")
    for name in ("pronunciatio", "description"):
        if not isinstance(value[name], str):
            raise InputError(f"{where}: field {name!r} must be a string, got {value[name]!r}")
    chat = value["chat"]
    lines: list[list[str]] | None = None
    if chat is not None:
        if not isinstance(chat, (list, tuple)):
            raise InputError(f"{where}: field 'chat' must be null or a list of [speaker, line], got {chat!r}")
        lines = []
        for i, line in enumerate(chat):
            if (
                not isinstance(line, (list, tuple))
                or len(line) != 2
                or type(line[0]) is not str
                or type(line[1]) is not str
            ):
                raise InputError(
                    f"{where}: field 'chat' line {i}: expected [speaker, line] strings, got {line!r}"
                )
            lines.append([line[0], line[1]])
    return {
        "movement": [int(move[0]), int(move[1])],
        "pronunciatio": value["pronunciatio"],
        "description": value["description"],
        "chat": lines,
    }


def _same(a: Entry, b: Entry) -> bool:
    return all(a.get(f) == b.get(f) for f in FIELDS)


# ---------------------------------------------------------------------------------------- delta coding
def compress_frames(frames: Iterable[tuple[int, Mapping[str, Mapping[str, Any]]]]) -> list[Frame]:
    """Delta-code full per-step frames into the compressed layout.

    Args:
        frames: ``(step, {name: entry})`` in increasing step order (as ``SimStore.movements()``
            yields them). A resident absent from a step keeps its previous entry.

    Returns:
        One frame per step ``0..last``: step 0 (and a resident's first appearance) in full,
        afterwards only the residents whose entry changed. Steps missing from the input are ``{}``.
    """
    out: list[Frame] = []
    last: dict[str, Entry] = {}
    previous = -1
    for step, frame in frames:
        if step <= previous:
            raise StoreError(f"movements are not in step order: step {step} after step {previous}")
        out.extend({} for _ in range(step - previous - 1))
        changes: Frame = {}
        for name in sorted(frame):
            entry = check_entry(frame[name], f"step {step} resident {name!r}")
            if name not in last or not _same(last[name], entry):
                changes[name] = entry
                last[name] = entry
        out.append(changes)
        previous = step
    return out


def apply_changes(state: Frame, changes: Mapping[str, Entry]) -> None:
    """Fold one compressed step into ``state`` (in place)."""
    for name, entry in changes.items():
        state[name] = entry


def fold(master: Sequence[Mapping[str, Entry]], step: int) -> Frame:
    """Everyone's entry at ``step``: steps ``0..step`` of ``master`` folded in order."""
    if not 0 <= step < len(master):
        raise InputError(f"step {step} is outside the replay (steps 0..{len(master) - 1})")
    state: Frame = {}
    for changes in master[: step + 1]:
        apply_changes(state, changes)
    return state


# ---------------------------------------------------------------------------------------- meta
@dataclass(frozen=True)
class ReplayMeta:
    """What a viewer needs from a replay's meta.json."""

    names: list[str]
    start: datetime
    sec_per_step: int
    steps: int
    town: str
    fork_sim_code: str | None


def _load_json(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(f"{path}: cannot read it: {err}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise InputError(f"{path} line {err.lineno} column {err.colno}: not valid JSON: {err.msg}") from None


def read_meta(folder: Path) -> ReplayMeta:
    """Read and check ``folder/meta.json`` (original keys, plus aga's ``start`` / ``aga_town``).

    Raises:
        InputError: the file is missing, not JSON, or a field is missing or malformed (named).
    """
    path = folder / META_FILE
    raw = _load_json(path)
    if not isinstance(raw, dict):
        raise InputError(f"{path}: expected a JSON object")

    def need(key: str, kind: type) -> Any:
        if key not in raw:
            raise InputError(f"{path}: missing field {key!r}")
        value = raw[key]
        if not isinstance(value, kind) or isinstance(value, bool):
            raise InputError(f"{path}: field {key!r} must be {kind.__name__}, got {value!r}")
        return value

    names = need("persona_names", list)
    if not names or not all(isinstance(n, str) and n for n in names):
        raise InputError(f"{path}: field 'persona_names' must be a non-empty list of names")
    sec = need("sec_per_step", int)
    if sec <= 0:
        raise InputError(f"{path}: field 'sec_per_step' must be positive, got {sec}")
    steps = need("step", int)
    if steps < 0:
        raise InputError(f"{path}: field 'step' must be >= 0, got {steps}")
    start = _start_time(raw, path, steps, sec)
    town = raw.get("aga_town") or raw.get("maze_name") or "the_ville"
    if not isinstance(town, str):
        raise InputError(f"{path}: field 'aga_town'/'maze_name' must be a string, got {town!r}")
    fork = raw.get("fork_sim_code")
    return ReplayMeta(list(names), start, sec, steps, town, fork if isinstance(fork, str) else None)


def _start_time(raw: Mapping[str, Any], path: Path, steps: int, sec: int) -> datetime:
    if isinstance(raw.get("start"), str):
        try:
            return datetime.fromisoformat(raw["start"])
        except ValueError:
            raise InputError(f"{path}: field 'start' is not an ISO date-time: {raw['start']!r}") from None
    if isinstance(raw.get("curr_time"), str):
        try:
            return datetime.strptime(raw["curr_time"], GA_TIME) - timedelta(seconds=steps * sec)
        except ValueError:
            raise InputError(
                f"{path}: field 'curr_time' {raw['curr_time']!r} is not like 'February 13, 2023, 00:00:00'"
            ) from None
    if isinstance(raw.get("start_date"), str):
        try:
            return datetime.strptime(raw["start_date"], GA_DATE)
        except ValueError:
            raise InputError(
                f"{path}: field 'start_date' {raw['start_date']!r} is not like 'February 13, 2023'"
            ) from None
    raise InputError(f"{path}: needs 'curr_time' or 'start_date' to know the game time")


def make_meta(
    *,
    names: Sequence[str],
    start: datetime,
    sec_per_step: int,
    steps: int,
    maze_name: str,
    town: str,
    fork_sim_code: str | None,
) -> dict[str, Any]:
    """A meta.json in the original's layout, plus aga's ``start`` and ``aga_town``."""
    return {
        "fork_sim_code": fork_sim_code,
        "start_date": start.strftime(GA_DATE),
        "curr_time": (start + timedelta(seconds=steps * sec_per_step)).strftime(GA_TIME),
        "sec_per_step": sec_per_step,
        "maze_name": maze_name,
        "persona_names": list(names),
        "step": steps,
        "start": start.isoformat(),
        "aga_town": town,
    }


def town_ref(folder: Path, meta: ReplayMeta) -> str:
    """The town reference of a replay: a file inside the replay folder wins over a name."""
    inside = folder / meta.town
    if "/" not in meta.town and inside.is_file():
        return str(inside)
    return meta.town


# ---------------------------------------------------------------------------------------- master file
def read_master(folder: Path, names: Sequence[str] | None = None) -> list[Frame]:
    """Read and check ``folder/master_movement.json``; one frame per step, missing steps ``{}``.

    Args:
        folder: the replay folder.
        names: if given, step 0 must hold exactly these residents.

    Raises:
        InputError: not JSON (file, line, column), a key that is not a step number, or an entry
            with a missing or malformed field (file, step, resident, field).
    """
    path = folder / MASTER_FILE
    raw = _load_json(path)
    if not isinstance(raw, dict):
        raise InputError(f"{path}: expected a JSON object keyed by step number")
    steps: dict[int, Any] = {}
    for key, frame in raw.items():
        if not (isinstance(key, str) and key.isdigit()):
            raise InputError(f"{path}: key {key!r} is not a step number")
        steps[int(key)] = frame
    if 0 not in steps:
        raise InputError(f'{path}: has no step "0" (the first step must list every resident)')
    out: list[Frame] = [{} for _ in range(max(steps) + 1)]
    for step, frame in steps.items():
        if not isinstance(frame, dict):
            raise InputError(
                f"{path} step {step}: expected an object of residents, got {type(frame).__name__}"
            )
        out[step] = {
            name: check_entry(entry, f"{path} step {step} resident {name!r}") for name, entry in frame.items()
        }
    if names is not None:
        absent = [n for n in names if n not in out[0]]
        if absent:
            raise InputError(f"{path} step 0: resident {absent[0]!r} of meta.json persona_names is missing")
    return out


def dump_master(master: Sequence[Mapping[str, Entry]]) -> str:
    """The master_movement.json text: one line per step, ASCII-escaped like the original."""
    lines = [
        f"{json.dumps(str(i))}: {json.dumps(frame, ensure_ascii=True)}" for i, frame in enumerate(master)
    ]
    return "{\n" + ",\n".join(lines) + "\n}\n"


def write_replay(
    folder: Path,
    master: Sequence[Mapping[str, Entry]],
    meta: Mapping[str, Any],
    extra: Mapping[str, bytes] | None = None,
) -> Path:
    """Write ``folder`` (a replay folder) atomically: a new folder renamed into place.

    An existing replay folder is replaced only once the new one is complete; a crash leaves
    either the old or the new one (and, at worst, a hidden ``.replay-*`` leftover).

    Returns:
        ``folder``.
    """
    parent = folder.parent
    tag = uuid.uuid4().hex[:8]
    tmp = parent / f".{folder.name}-new-{tag}"
    old = parent / f".{folder.name}-old-{tag}"
    try:
        tmp.mkdir(parents=True)
        (tmp / MASTER_FILE).write_text(dump_master(master), encoding="utf-8")
        (tmp / META_FILE).write_text(json.dumps(meta, indent=2, ensure_ascii=True) + "\n", encoding="utf-8")
        for name, data in (extra or {}).items():
            (tmp / name).write_bytes(data)
        if folder.exists():
            folder.rename(old)
        tmp.rename(folder)
    except OSError as err:
        if old.exists() and not folder.exists():
            old.rename(folder)
        raise StoreError(f"{folder}: cannot write the replay: {err}") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)
    return folder
