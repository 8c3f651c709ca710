"""The simulation store: one transaction per step, nothing half-written, everything readable back."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest

from aga.errors import StoreError
from aga.store.sim_store import SimStore, StepRecord


def _record(step: int, agents=("Ann Lee", "Bo Chan")) -> StepRecord:
    return StepRecord(
        step=step,
        next_time=f"t{step + 1}",
        states={a: {"tile": [step, 1], "name": a} for a in agents},
        memories={
            agents[0]: [{"id": step, "description": f"event {step}", "embedding_key": f"event {step}"}]
        },
        embeddings=[("hash", f"event {step}", np.full(4, step, dtype=np.float32))],
        movements={
            a: {
                "movement": [step, 2],
                "pronunciatio": "🚶",
                "description": "walking @ w:s:a:o",
                "chat": None,
            }
            for a in agents
        },
        ledger=[
            {"task": "event_importance", "agent": agents[0], "prompt_tokens": 10, "completion_tokens": 2}
        ],
        actions={agents[1]: [{"task": f"task {step}", "parent": "root", "is_new": True, "duration": 5}]},
    )


def test_create_refuses_existing_and_open_refuses_missing(tmp_path):
    SimStore.create(tmp_path / "sim", {"name": "sim"}).close()
    with pytest.raises(StoreError, match="already exists"):
        SimStore.create(tmp_path / "sim", {"name": "sim"})
    with pytest.raises(StoreError, match="no simulation here"):
        SimStore.open(tmp_path / "nothing")


def test_steps_round_trip(tmp_path):
    store = SimStore.create(tmp_path / "sim", {"name": "sim", "step": 0})
    for step in range(3):
        store.commit_step(_record(step))
    store.close()

    store = SimStore.open(tmp_path / "sim")
    meta = store.meta()
    assert meta["step"] == 3 and meta["curr_time"] == "t3"
    assert store.resident_states()["Ann Lee"]["tile"] == [2, 1]
    assert [r["id"] for r in store.memory_records("Ann Lee")] == [0, 1, 2]
    vecs = store.embeddings("hash", ["event 1", "event 2"])
    assert set(vecs) == {"event 1", "event 2"} and np.allclose(vecs["event 2"], 2.0)
    steps = list(store.movements())
    assert [s for s, _ in steps] == [0, 1, 2]
    assert steps[1][1]["Bo Chan"] == {
        "movement": [1, 2],
        "pronunciatio": "🚶",
        "description": "walking @ w:s:a:o",
        "chat": None,
    }
    assert len(store.ledger_rows()) == 3
    assert [r["task"] for r in store.action_logs()["Bo Chan"]] == ["task 0", "task 1", "task 2"]


def test_unchanged_state_is_not_rewritten(tmp_path):
    store = SimStore.create(tmp_path / "sim", {"name": "sim"})
    rec = _record(0)
    store.commit_step(rec)
    rec2 = _record(1)
    rec2.states["Bo Chan"] = rec.states["Bo Chan"]  # Bo did not change
    store.commit_step(rec2)
    conn = sqlite3.connect(tmp_path / "sim" / "sim.db")
    rows = dict(conn.execute("SELECT name, step FROM residents").fetchall())
    assert rows == {"Ann Lee": 1, "Bo Chan": 0}


def test_failed_step_leaves_previous_step_intact(tmp_path):
    store = SimStore.create(tmp_path / "sim", {"name": "sim"})
    store.commit_step(_record(0))
    bad = _record(1)
    bad.movements["Ann Lee"]["movement"] = ["not", "a number"]  # fails inside the transaction
    with pytest.raises(ValueError):
        store.commit_step(bad)
    assert store.meta()["step"] == 1
    assert [s for s, _ in store.movements()] == [0]
    assert len(store.memory_records("Ann Lee")) == 1
    assert len(store.ledger_rows()) == 1


def _parts_only(step: int, parts: dict) -> StepRecord:
    return StepRecord(step=step, next_time=f"t{step + 1}", state_parts=parts)


def test_state_parts_lay_over_the_full_row_and_only_changed_keys_are_written(tmp_path):
    from aga.store.read_only import open_read_only, state_steps
    from aga.store.reader import StoreReader

    store = SimStore.create(tmp_path / "sim", {"name": "sim", "step": 0})
    store.write_initial({"Ann Lee": {"tile": [0, 0], "action": "sleeping", "spatial": {"a": 1}}}, {})
    store.commit_step(_parts_only(0, {"Ann Lee": {"tile": "[1,0]"}}))
    store.commit_step(_parts_only(1, {"Ann Lee": {"tile": "[2,0]", "action": '"walking"'}}))
    rows = store._conn.execute("SELECT part, text, step FROM state_parts ORDER BY part").fetchall()
    assert rows == [("action", '"walking"', 1), ("tile", "[2,0]", 1)]  # the spatial map not rewritten
    want = {"tile": [2, 0], "action": "walking", "spatial": {"a": 1}}
    assert store.resident_states() == {"Ann Lee": want}
    store.close()
    assert SimStore.open(tmp_path / "sim").resident_states() == {"Ann Lee": want}  # a resumed run
    reader = StoreReader(tmp_path / "sim")
    assert reader.latest_state("Ann Lee") == (want, 1) and reader.latest_state("Bo Chan") is None
    reader.close()
    ro = open_read_only(tmp_path / "sim")
    assert ro.resident_states() == {"Ann Lee": want} and state_steps(ro) == {"Ann Lee": 1}
    ro.close()


def test_a_full_state_row_replaces_the_parts_written_before_it(tmp_path):
    store = SimStore.create(tmp_path / "sim", {"name": "sim", "step": 0})
    store.commit_step(StepRecord(step=0, next_time="t1", states={"Ann Lee": {"tile": [0, 0], "x": 1}}))
    store.commit_step(_parts_only(1, {"Ann Lee": {"tile": "[5,5]"}}))
    # the same full state as before: not skipped as unchanged, since the parts moved on from it
    store.commit_step(StepRecord(step=2, next_time="t3", states={"Ann Lee": {"tile": [0, 0], "x": 1}}))
    assert store.resident_states() == {"Ann Lee": {"tile": [0, 0], "x": 1}}
    assert store._conn.execute("SELECT COUNT(*) FROM state_parts").fetchone() == (0,)


def test_a_version_1_store_is_read_and_upgraded_when_opened_for_writing(tmp_path):
    from aga.store.read_only import open_read_only

    folder = tmp_path / "sim"
    SimStore.create(folder, {"name": "sim", "step": 0}).close()
    conn = sqlite3.connect(folder / "sim.db")  # what aga wrote before state_parts existed
    conn.execute("DROP TABLE state_parts")
    conn.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    conn.execute("""INSERT INTO residents VALUES ('Ann Lee', '{"tile":[3,4]}', 7)""")
    conn.commit()
    conn.close()
    ro = open_read_only(folder)
    assert ro.resident_states() == {"Ann Lee": {"tile": [3, 4]}} and ro.meta()["schema_version"] == 1
    ro.close()
    store = SimStore.open(folder)
    assert store.meta()["schema_version"] == 2
    store.commit_step(_parts_only(7, {"Ann Lee": {"tile": "[3,5]"}}))
    assert store.resident_states() == {"Ann Lee": {"tile": [3, 5]}}
    store.close()
    conn = sqlite3.connect(folder / "sim.db")
    conn.execute("UPDATE meta SET value = '3' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="schema version 3, this aga reads 1 and 2"):
        SimStore.open(folder)
