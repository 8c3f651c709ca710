"""`aga export --format ga`: the original folder layout, readable back by our importer of that format."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

from aga.bases import load_base
from aga.store.sim_store import SimStore

from .conftest import fork_and_run

AGA = [sys.executable, "-m", "aga.cli.main"]


def test_export_writes_the_original_layout_and_round_trips(tmp_path):
    storage = tmp_path / "storage"
    folder = fork_and_run(storage, "exp", 400)
    out = tmp_path / "out" / "exp"
    env = {**os.environ, "AGA_STORAGE": str(storage)}
    proc = subprocess.run(
        [*AGA, "export", "exp", "--format", "ga", str(out)], env=env, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr

    meta = json.loads((out / "reverie" / "meta.json").read_text())
    assert meta["step"] == 400 and meta["sec_per_step"] == 10
    assert meta["curr_time"] == "February 13, 2023, 01:06:40"
    assert sorted(meta["persona_names"]) == ["Isabella Rodriguez", "Klaus Mueller", "Maria Lopez"]
    assert len(list((out / "movement").glob("*.json"))) == 400
    move = json.loads((out / "movement" / "399.json").read_text())
    assert set(move) == {"persona", "meta"}
    isabella = move["persona"]["Isabella Rodriguez"]
    assert set(isabella) == {"movement", "pronunciatio", "description", "chat"}
    assert " @ " in isabella["description"]
    assert "\\u" in (out / "movement" / "399.json").read_text() or isabella["pronunciatio"].isascii()

    store = SimStore.open(folder)
    last = dict(store.movements(399))[399]
    store.close()
    env_last = json.loads((out / "environment" / "400.json").read_text())
    assert {n: [v["x"], v["y"]] for n, v in env_last.items()} == {n: m["movement"] for n, m in last.items()}

    for name in meta["persona_names"]:
        root = out / "personas" / name / "bootstrap_memory"
        scratch = json.loads((root / "scratch.json").read_text())
        assert scratch["name"] == name and scratch["curr_tile"] == last[name]["movement"]
        nodes = json.loads((root / "associative_memory" / "nodes.json").read_text())
        assert all(
            set(n) >= {"node_count", "type", "description", "poignancy", "filling"} for n in nodes.values()
        )
        assert json.loads((root / "spatial_memory.json").read_text())

    again = load_base(out)  # the exported run is a valid original-format base
    assert sorted(p.name for p in again.residents) == sorted(meta["persona_names"])
    assert {p.name: list(p.start_tile) for p in again.residents} == {
        n: m["movement"] for n, m in last.items()
    }


def test_export_refuses_to_overwrite(tmp_path):
    storage = tmp_path / "storage"
    fork_and_run(storage, "exp", 5)
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    env = {**os.environ, "AGA_STORAGE": str(storage)}
    proc = subprocess.run([*AGA, "export", "exp", str(out)], env=env, capture_output=True, text=True)
    assert proc.returncode != 0 and "--force" in proc.stderr
    assert (out / "keep.txt").read_text() == "mine"


def _compress_like_the_original(run: Path, out: Path) -> None:
    """The original's compress step (GA_NOTES 5.5), as a test helper: ``movement/<step>.json`` of
    an exported run into ``master_movement.json`` (step 0 in full, later steps only residents whose
    entry changed) next to a copy of ``reverie/meta.json``."""
    meta = json.loads((run / "reverie" / "meta.json").read_text())
    master: dict[str, dict] = {}
    last: dict[str, dict] = {}
    for step in range(int(meta["step"])):
        frame = json.loads((run / "movement" / f"{step}.json").read_text())["persona"]
        changed = {n: e for n, e in frame.items() if last.get(n) != e}
        last.update(changed)
        master[str(step)] = changed
    out.mkdir(parents=True)
    (out / "master_movement.json").write_text(json.dumps(master))
    (out / "meta.json").write_text(json.dumps(meta))


def test_export_round_trips_through_the_viewers_import_and_scratch_holds_the_real_state(tmp_path):
    from aga.minds.state import ResidentState
    from aga.runner.lifecycle import fork, open_simulation
    from aga.viewer.replay import fold, read_master
    from aga.world import load_town

    from .conftest import BASE3, scripted_settings

    storage = tmp_path / "storage"
    folder = fork(BASE3, storage, "day", settings=scripted_settings())
    sim = open_simulation(folder)

    async def until_a_chat() -> None:  # run into the morning until two residents are talking
        while sim.step < 7000:
            await sim.step_once()
            if sim.step > 3000 and any(r.chatting_with for r in sim.residents.values()):
                return

    try:
        asyncio.run(until_a_chat())
    finally:
        sim.close()
    out = tmp_path / "out" / "day"
    env = {**os.environ, "AGA_STORAGE": str(storage)}
    proc = subprocess.run(
        [*AGA, "export", "day", "--format", "ga", str(out)], env=env, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr

    store = SimStore.open(folder)
    moves = dict(store.movements())
    states = {n: ResidentState.from_json(s) for n, s in store.resident_states().items()}
    steps = int(store.meta()["step"])
    store.close()
    assert any(s.chatting_with for s in states.values()), "the run should end in a chat"

    # positions and actions at every step: our export -> the original's compression -> the viewer's import
    compressed = tmp_path / "compressed" / "day"
    _compress_like_the_original(out, compressed)
    proc = subprocess.run(
        [
            *AGA,
            "replay",
            "import-ga",
            str(compressed),
            "--name",
            "back",
            "--storage",
            str(tmp_path / "viewer"),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    master = read_master(tmp_path / "viewer" / "back" / "replay")
    assert len(master) == steps
    frame: dict = {}
    for step in range(steps):
        for name, entry in master[step].items():
            frame[name] = entry
        assert frame == moves[step], f"step {step} differs after the round trip"
        env_next = json.loads((out / "environment" / f"{step + 1}.json").read_text())
        assert {n: [v["x"], v["y"]] for n, v in env_next.items()} == {
            n: m["movement"] for n, m in moves[step].items()
        }
    assert fold(master, steps - 1) == moves[steps - 1]

    town = load_town("the_ville")
    visited: dict[str, set[str]] = {n: set() for n in states}
    for step_moves in moves.values():
        for name, m in step_moves.items():
            if sector := town.address(tuple(m["movement"]), "sector"):
                visited[name].add(sector.split(":")[-1])
    last = moves[steps - 1]
    for name, state in states.items():
        root = out / "personas" / name / "bootstrap_memory"
        scratch = json.loads((root / "scratch.json").read_text())
        assert scratch["daily_req"] and scratch["daily_req"] == state.daily_req
        assert sum(m for _d, m in scratch["f_daily_schedule"]) == 1440
        assert sum(m for _d, m in scratch["f_daily_schedule_hourly_org"]) == 1440
        assert f"{scratch['act_description']} @ {scratch['act_address']}" == last[name]["description"]
        assert scratch["act_pronunciatio"] == last[name]["pronunciatio"]
        assert scratch["act_event"][0] == name and scratch["act_event"][1]
        assert scratch["curr_tile"] == last[name]["movement"]
        assert scratch["chat"] == last[name]["chat"]
        if scratch["chatting_with"] is not None:
            other = scratch["chatting_with"]
            assert other in scratch["relationship"] and scratch["relationship"][other]["relationship"]
            assert scratch["chatting_end_time"] and scratch["chatting_with_buffer"][other] > 0
        spatial = json.loads((root / "spatial_memory.json").read_text())
        assert list(spatial) == ["the Ville"]
        assert visited[name] <= set(spatial["the Ville"]), (name, visited[name] - set(spatial["the Ville"]))
