"""Whispers: telling residents something, so that the simulation goes on with them knowing it.

A whisper becomes a thought in the resident's memory, as in the original's history loading:
the ``whisper_thought`` task rewrites what was told as the resident's own first-person thought,
``whisper_importance`` rates it, it is embedded with the simulation's embedding model, and it is
stored at the simulation's current step (the last committed one; step 0 on a fresh fork), with
its source marked: predicate ``was told`` and keyword ``whisper``. All whispers of a call are
stored in one transaction with the ledger rows of the calls that made them; when anything fails
(a bad file line, an unknown name, an answer the model could not give) nothing is stored.

Whisper files are the original's history CSV (``agent_history_init_n3.csv``): an optional header
``Name,Whisper``, then ``<Full Name>,<whisper>`` lines, where one whisper cell may hold several
statements separated by ``;``; a resident may have several lines. Everything after the first
comma is the whisper (the original's own file has an unquoted comma in one).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np

from aga.errors import InputError, ModelAnswerError
from aga.gateway import Gateway
from aga.interview.answer import child_gateway, gateway_for, rewrite_metrics
from aga.interview.snapshot import SimSnapshot
from aga.minds.memory import TIME_FORMAT
from aga.minds.text import proper_nouns
from aga.prompts.tasks import WHISPER_IMPORTANCE, WHISPER_THOUGHT, Importance, WhisperThought
from aga.store.side_ledger import append_side_rows
from aga.store.sim_store import SimStore

SOURCE_KEYWORD = "whisper"
PREDICATE = "was told"
THOUGHT_DAYS = 30


@dataclass(frozen=True)
class Whisper:
    """Something a resident is told; ``where`` is ``file:line`` for whispers read from a file."""

    name: str
    text: str
    where: str = ""


@dataclass(frozen=True)
class Told:
    """A stored whisper: the resident, what was told, the thought it became, its rating and memory id."""

    name: str
    text: str
    thought: str
    importance: int
    memory_id: int
    step: int


def parse_whispers(path: Path, names: Sequence[str]) -> list[Whisper]:
    """The whispers of a history CSV, checked against the residents' ``names``.

    Raises:
        InputError: unreadable file, a line without exactly two columns, an unknown name or an
            empty whisper (one line naming the file, the line and the name).
    """
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except OSError as err:
        raise InputError(f"{path}: cannot read the whisper file ({err.strerror})") from None
    known = set(names)
    out: list[Whisper] = []
    rows = csv.reader(io.StringIO(text))
    try:
        for row in rows:
            line = rows.line_num
            if not row or all(not cell.strip() for cell in row):
                continue
            if len(out) == 0 and [c.strip().lower() for c in row] == ["name", "whisper"]:
                continue
            if len(row) < 2:
                raise InputError(
                    f"{path}:{line}: expected 2 columns (Name,Whisper), got 1 in line starting {row[0].strip()[:40]!r}"
                )
            # an unquoted comma inside the whisper (the original's own file has one) stays in it
            name, cell = row[0].strip(), ",".join(row[1:])
            if name not in known:
                raise InputError(
                    f"{path}:{line}: unknown resident {name!r}; residents: {', '.join(sorted(known))}"
                )
            statements = [s.strip() for s in cell.split(";") if s.strip()]
            if not statements:
                raise InputError(f"{path}:{line}: empty whisper for {name!r}")
            out.extend(Whisper(name, s, f"{path}:{line}") for s in statements)
    except csv.Error as err:
        raise InputError(f"{path}:{rows.line_num}: not a CSV line ({err})") from None
    if not out:
        raise InputError(f"{path}: no whispers in the file (expected lines 'Full Name,whisper')")
    return out


async def whisper(
    sim_dir: Path, whispers: Sequence[Whisper], *, llm: str | None = None, gateway: Gateway | None = None
) -> list[Told]:
    """Tell each resident their whispers (see the module text); returns what was stored.

    Raises:
        ResidentError: a name is not a resident.
        ModelAnswerError: the model gave no usable thought or rating (nothing is stored).
        BackendUnavailable: the model endpoint failed past its retry budget (nothing is stored).
    """
    sim_dir = Path(sim_dir)
    if not whispers:
        return []
    with SimSnapshot(sim_dir) as snap:
        snap.check_names(sorted({w.name for w in whispers}))
        step = snap.last_step
        gw = gateway or gateway_for(snap, llm)
        people = {n: snap.resident(n, step, gw.embed_model) for n in sorted({w.name for w in whispers})}
    child = child_gateway(gw)
    try:
        made: list[tuple[Whisper, str, int]] = []
        for w in whispers:
            who = people[w.name]
            persona = who.identity.block()
            none = WhisperThought.model_construct()
            ans = await child.ask(
                WHISPER_THOUGHT,
                {"persona": persona, "name": w.name, "whisper": w.text},
                agent=w.name,
                game_time=who.now,
                fallback=none,
            )
            if ans is None or ans is none or not getattr(ans, "thought", ""):
                raise ModelAnswerError(
                    WHISPER_THOUGHT.name, "", f"no usable thought for the whisper to {w.name!r}"
                )
            thought = " ".join(str(ans.thought).split())
            no_rating = Importance.model_construct()
            rating = await child.ask(
                WHISPER_IMPORTANCE,
                {"persona": persona, "name": w.name, "thought": thought},
                agent=w.name,
                game_time=who.now,
                fallback=no_rating,
            )
            if rating is None or rating is no_rating:
                raise ModelAnswerError(
                    WHISPER_IMPORTANCE.name, "", f"no usable rating for the whisper to {w.name!r}"
                )
            made.append((w, thought, int(rating.rating)))
        vectors = np.asarray(await child.embed([t for _, t, _ in made]), dtype=np.float32)
    except BaseException:
        append_side_rows(sim_dir, [r.to_dict() for r in child.ledger.drain()])  # real calls, nothing stored
        rewrite_metrics(sim_dir)
        raise
    finally:
        if gateway is None:
            await gw.aclose()
    store = SimStore.open(sim_dir)
    try:
        next_id = {n: max((int(r["id"]) for r in store.memory_records(n)), default=0) + 1 for n in people}
        records: dict[str, list[dict[str, Any]]] = {}
        told: list[Told] = []
        for (w, thought, importance), _vec in zip(made, vectors):
            now = people[w.name].now
            mid = next_id[w.name]
            next_id[w.name] += 1
            records.setdefault(w.name, []).append(_record(mid, w, thought, importance, now))
            told.append(Told(w.name, w.text, thought, importance, mid, step))
        embeddings = [(gw.embed_model, t, v) for (_, t, _), v in zip(made, vectors)]
        store.add_memories(step, records, embeddings, [r.to_dict() for r in child.ledger.drain()])
    finally:
        store.close()
    rewrite_metrics(sim_dir)
    return told


def _record(mid: int, w: Whisper, thought: str, importance: int, now: Any) -> dict[str, Any]:
    when = now.strftime(TIME_FORMAT)
    keywords = [w.name.lower(), SOURCE_KEYWORD, *proper_nouns(f"{w.text} {thought}")]
    return {
        "id": mid,
        "type": "thought",
        "depth": 0,
        "created": when,
        "expiration": (now + timedelta(days=THOUGHT_DAYS)).strftime(TIME_FORMAT),
        "last_accessed": when,
        "subject": w.name,
        "predicate": PREDICATE,
        "object": w.text[:60],
        "description": thought,
        "embedding_key": thought,
        "poignancy": importance,
        "keywords": list(dict.fromkeys(keywords)),
        "filling": [],
    }


def whisper_sync(sim_dir: Path, whispers: Sequence[Whisper], **kw: Any) -> list[Told]:
    """:func:`whisper` without an event loop."""
    import asyncio

    return asyncio.run(whisper(sim_dir, whispers, **kw))
