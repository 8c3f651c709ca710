"""Movement rows are written only when a resident's entry changed; reading fills every step in."""

from __future__ import annotations

import sqlite3

from aga.store.read_only import movement_at as ro_movement_at
from aga.store.read_only import open_read_only
from aga.store.reader import StoreReader
from aga.store.sim_store import SimStore, StepRecord

NAMES = ("Ann Lee", "Bo Chan")


def _entry(tile=(1, 1), emoji="😴", desc="sleeping @ w:home:room:bed", chat=None) -> dict:
    return {"movement": list(tile), "pronunciatio": emoji, "description": desc, "chat": chat}


def _frames() -> list[dict[str, dict]]:
    """Ten steps: Ann sleeps throughout; Bo changes one field at a time, then stands still."""
    bo = [
        _entry((5, 5)),
        _entry((5, 5)),
        _entry((6, 5)),  # tile
        _entry((6, 5), emoji="☕"),  # emoji
        _entry((6, 5), emoji="☕", desc="drinking @ w:cafe:cafe:counter"),  # description
        _entry((6, 5), emoji="☕", desc="drinking @ w:cafe:cafe:counter", chat=[["Bo Chan", "hi"]]),
        _entry((6, 5), emoji="☕", desc="drinking @ w:cafe:cafe:counter", chat=[["Bo Chan", "hi"]]),
        _entry((6, 5), emoji="☕", desc="drinking @ w:cafe:cafe:counter"),  # chat ended
        _entry((6, 5), emoji="☕", desc="drinking @ w:cafe:cafe:counter"),
        _entry((6, 5), emoji="☕", desc="drinking @ w:cafe:cafe:counter"),
    ]
    return [{"Ann Lee": _entry(), "Bo Chan": b} for b in bo]


def _commit(store: SimStore, frames: list[dict[str, dict]], first: int = 0) -> None:
    for i, frame in enumerate(frames):
        store.commit_step(StepRecord(step=first + i, next_time=f"t{first + i + 1}", movements=frame))


def _rows(folder) -> list[tuple]:
    conn = sqlite3.connect(folder / "sim.db")
    try:
        return conn.execute("SELECT * FROM movements ORDER BY step, agent").fetchall()
    finally:
        conn.close()


def test_a_resident_standing_still_gets_one_row_and_every_step_reads_back(tmp_path):
    frames = _frames()
    store = SimStore.create(tmp_path / "sim", {"name": "sim", "step": 0})
    _commit(store, frames)
    rows = _rows(tmp_path / "sim")
    assert [(s, a) for s, a, *_ in rows if a == "Ann Lee"] == [(0, "Ann Lee")]  # 10 steps, 1 row
    assert [s for s, a, *_ in rows if a == "Bo Chan"] == [0, 2, 3, 4, 5, 7]  # one per change
    assert store.count("movements") == 7

    # every step, every resident, exactly the frames committed (the last two steps have no row)
    assert list(store.movements()) == list(enumerate(frames))
    assert list(store.movements(6)) == list(enumerate(frames))[6:]
    assert list(store.movements(3, 5)) == [(3, frames[3]), (4, frames[4])]
    assert list(store.movements(9, 30)) == [(9, frames[9])]
    assert list(store.movements(10)) == []
    assert [list(f) for _, f in store.movements(1)] == [list(NAMES)] * 9  # name order
    store.close()

    reader = StoreReader(tmp_path / "sim")
    ro = open_read_only(tmp_path / "sim")
    try:
        for step, frame in enumerate(frames):
            for name in NAMES:
                got = reader.movement_at(name, step)
                assert got is not None
                want = frame[name]
                assert got["tile"] == want["movement"] and got["emoji"] == want["pronunciatio"]
                assert (got["description"], got["chat"]) == (want["description"], want["chat"])
                assert ro_movement_at(ro, name, step) == (want["description"], want["chat"])
    finally:
        reader.close()
        ro.close()


def test_reopened_store_writes_the_same_rows_as_an_unbroken_one(tmp_path):
    frames = _frames()
    whole = SimStore.create(tmp_path / "whole", {"name": "whole", "step": 0})
    _commit(whole, frames)
    whole.close()
    for cut in (1, 4, 6, 8):
        folder = tmp_path / f"cut{cut}"
        first = SimStore.create(folder, {"name": "cut", "step": 0})
        _commit(first, frames[:cut])
        first.close()
        again = SimStore.open(folder)  # a resumed run: the last rows are read back from the table
        _commit(again, frames[cut:], cut)
        assert list(again.movements()) == list(enumerate(frames))
        again.close()
        assert _rows(folder) == _rows(tmp_path / "whole"), f"cut at {cut}"


def test_failed_step_does_not_count_as_written(tmp_path):
    frames = _frames()
    store = SimStore.create(tmp_path / "sim", {"name": "sim", "step": 0})
    _commit(store, frames[:2])
    bad = {**frames[2], "Ann Lee": _entry(tile=("not", "a number"))}
    try:
        store.commit_step(StepRecord(step=2, next_time="t3", movements=bad))
    except ValueError:
        pass
    else:
        raise AssertionError("a bad tile should fail the step")
    _commit(store, frames[2:], 2)  # the same step again, this time good: Bo's change is written
    assert list(store.movements()) == list(enumerate(frames))
    assert [s for s, a, *_ in _rows(tmp_path / "sim") if a == "Bo Chan"] == [0, 2, 3, 4, 5, 7]
    store.close()


def test_dense_rows_of_older_stores_read_the_same(tmp_path):
    frames = _frames()
    store = SimStore.create(tmp_path / "sim", {"name": "sim", "step": 0})
    _commit(store, frames[:3])
    store.close()
    conn = sqlite3.connect(tmp_path / "sim" / "sim.db")
    with conn:  # what earlier versions wrote: a row for every resident at every step
        for step in range(3, len(frames)):
            for name, m in frames[step].items():
                chat = None if m["chat"] is None else '[["Bo Chan","hi"]]'
                conn.execute(
                    "INSERT INTO movements VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (step, name, *m["movement"], m["pronunciatio"], m["description"], chat),
                )
        conn.execute("UPDATE meta SET value = ? WHERE key = 'step'", (str(len(frames)),))
    conn.close()
    store = SimStore.open(tmp_path / "sim")
    assert list(store.movements()) == list(enumerate(frames))
    assert list(store.movements(5, 7)) == list(enumerate(frames))[5:7]
    # continuing such a store writes only what changed after its newest (dense) rows
    _commit(store, [frames[-1], frames[-1]], len(frames))
    assert store.count("movements") == 3 + 2 * 7
    store.close()
