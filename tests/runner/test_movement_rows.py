"""A scripted morning: the store writes a movement row only when a resident's entry changed, and
every reader (the GA export, the viewer's steps, eval's records, the inspector's lookups) still
sees every resident at every step exactly as the engine handed them over; a resume in the middle
writes the same rows as an unbroken run."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from datetime import datetime
from pathlib import Path

from aga.bases import load_base
from aga.eval.load import load
from aga.runner.lifecycle import fork, open_simulation
from aga.store.ga_export import export_ga
from aga.store.reader import StoreReader
from aga.store.sim_store import SimStore, as_record
from aga.viewer.sources import StoreSource

from .conftest import BASE3, scripted_settings

STEPS = 300  # 08:00-08:50: waking, planning, walking, standing at work


def _fork(storage: Path, name: str) -> Path:
    base = load_base(BASE3).model_copy(update={"start": datetime(2023, 2, 13, 8)})
    return fork(base, storage, name, settings=scripted_settings())


def _run(folder: Path, steps: int, handed: list[tuple[int, dict]] | None = None) -> None:
    sim = open_simulation(folder)
    if handed is not None:  # record what the engine hands the store (what it used to write in full)
        commit = sim.store.commit_step

        def recording(rec):
            frame = {a: as_record(m) for a, m in rec.movements.items()}
            handed.append((rec.step, json.loads(json.dumps(frame, ensure_ascii=False))))
            commit(rec)

        sim.store.commit_step = recording  # type: ignore[method-assign]
    try:
        asyncio.run(sim.run(steps))
    finally:
        sim.store.close()


def _rows(folder: Path) -> list[tuple]:
    conn = sqlite3.connect(folder / "sim.db")
    try:
        return conn.execute("SELECT * FROM movements ORDER BY step, agent").fetchall()
    finally:
        conn.close()


def test_rows_only_for_changes_and_every_reader_sees_every_step(tmp_path):
    folder = _fork(tmp_path / "storage", "morning")
    handed: list[tuple[int, dict]] = []
    _run(folder, STEPS, handed)
    frames = [f for _, f in handed]
    names = sorted(frames[0])
    assert [s for s, _ in handed] == list(range(STEPS)) and all(sorted(f) == names for f in frames)

    changes = sum(1 for i, f in enumerate(frames) for n in names if i == 0 or frames[i - 1][n] != f[n])
    rows = _rows(folder)
    assert len(rows) == changes < STEPS * len(names) / 3  # most resident-steps change nothing

    store = SimStore.open(folder)
    try:
        assert list(store.movements()) == list(enumerate(frames))
        assert list(store.movements(137, 190)) == list(enumerate(frames))[137:190]
        out = export_ga(store, tmp_path / "export")
    finally:
        store.close()

    # the original's movement/<step>.json: every resident in every step, as the engine had them
    for step, frame in enumerate(frames):
        written = json.loads((out / "movement" / f"{step}.json").read_text())
        assert written["persona"] == frame, f"movement/{step}.json"
        env = json.loads((out / "environment" / f"{step + 1}.json").read_text())
        assert {n: [v["x"], v["y"]] for n, v in env.items()} == {n: frame[n]["movement"] for n in names}

    # the viewer's steps: a chunk's full state and its changes rebuild every frame
    source = StoreSource("morning", folder)
    for start, count in ((0, STEPS), (150, 100), (299, 1)):
        chunk = source.chunk(start, count)
        state = dict(chunk.state)
        assert state == frames[start]
        for i, delta in enumerate(chunk.changes):
            state.update(delta)
            assert state == frames[start + 1 + i], f"viewer step {start + 1 + i}"

    # the inspector's lookups: the newest row at or before a step is that step's entry
    reader = StoreReader(folder)
    try:
        for step in range(0, STEPS, 7):
            for n in names:
                got = reader.movement_at(n, step)
                assert got is not None and got["tile"] == frames[step][n]["movement"]
                assert got["description"] == frames[step][n]["description"]
    finally:
        reader.close()

    # eval's records: one move per resident and step
    moves = load(folder, town=False).moves
    for n in names:
        assert [(m.step, list(m.tile), m.emoji, m.description) for m in moves[n]] == [
            (s, f[n]["movement"], f[n]["pronunciatio"], f[n]["description"]) for s, f in enumerate(frames)
        ]
        assert [[list(x) for x in m.chat] if m.chat else None for m in moves[n]] == [
            f[n]["chat"] for f in frames
        ]


def test_resume_in_the_middle_writes_the_rows_of_an_unbroken_run(tmp_path):
    whole = _fork(tmp_path / "a", "whole")
    _run(whole, 200)
    split = _fork(tmp_path / "b", "split")
    _run(split, 83)
    _run(split, 117)  # reopened: the store reads each resident's last row back
    assert _rows(split) == _rows(whole)
