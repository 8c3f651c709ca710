"""`aga export --format ga`: the original folder layout, readable back by our importer of that format."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from aga.bases import load_base
from aga.store.sim_store import SimStore

from .conftest import fork_and_run

AGA = [sys.executable, "-m", "aga.cli.main"]


def test_export_writes_the_original_layout_and_round_trips(tmp_path):
    storage = tmp_path / "storage"
    folder = fork_and_run(storage, "exp", 400)
    out = tmp_path / "out" / "exp"
    env = {**os.environ, "AGA_STORAGE": str(storage)}
    proc = subprocess.run([*AGA, "export", "exp", "--format", "ga", str(out)], env=env, capture_output=True, text=True)
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
        assert all(set(n) >= {"node_count", "type", "description", "poignancy", "filling"} for n in nodes.values())
        assert json.loads((root / "spatial_memory.json").read_text())

    again = load_base(out)  # the exported run is a valid original-format base
    assert sorted(p.name for p in again.residents) == sorted(meta["persona_names"])
    assert {p.name: list(p.start_tile) for p in again.residents} == {n: m["movement"] for n, m in last.items()}


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
