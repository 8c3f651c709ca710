"""The page's own logic (static/core.js) run under node: chunk folding, caching, clock, speeds.

Needs node (``.ci/run`` installs it where it is missing); without it the tests fail, they never
skip. The browser is never needed.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from importlib import resources
from pathlib import Path

from aga.viewer.sources import Library

from .conftest import make_store

NODE = shutil.which("node") or "node"  # a missing node fails the tests (FileNotFoundError), never skips them
STATIC = Path(str(resources.files("aga.viewer").joinpath("static")))


def _node(script: str, data: object) -> object:
    program = (
        f"const C = require({json.dumps(str(STATIC / 'core.js'))});\n"
        f"const data = {json.dumps(data)};\n"
        f"const out = (() => {{ {script} }})();\n"
        "process.stdout.write(JSON.stringify(out));\n"
    )
    done = subprocess.run([NODE, "-e", program], check=False, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_page_scripts_parse():
    for name in ("core.js", "replay.js"):
        done = subprocess.run(
            [NODE, "--check", str(STATIC / name)], check=False, capture_output=True, text=True, timeout=30
        )
        assert done.returncode == 0, done.stderr


def test_chunks_expand_to_the_servers_states(tmp_path):
    make_store(tmp_path / "walk", 400, seed=6).close()
    source = Library(tmp_path).source("walk")
    chunk = source.chunk(300, 100).to_json()
    frames = _node("return C.expandChunk(data);", chunk)
    assert len(frames) == 100
    for i in (0, 1, 50, 99):
        assert frames[i] == source.chunk(300 + i, 1).state


def test_chunk_cache_fetch_plan_and_eviction():
    out = _node(
        """
        const cache = new C.ChunkCache(10);
        const chunk = (start, stop) => ({start, stop, total: stop, state: {A: {movement: [start, 0]}},
                                         changes: Array.from({length: stop - start - 1}, () => ({}))});
        const first = cache.wanted(0, 25, 100);          // steps 0..25 -> chunks 0, 1, 2
        cache.put(chunk(0, 10)); cache.put(chunk(10, 20));
        cache.pending.add(2);
        const second = cache.wanted(5, 25, 100);         // 2 is being fetched, 3 is new
        cache.put(chunk(20, 24));                        // a live run's short last chunk
        const live = [cache.wanted(20, 5, 24), cache.wanted(20, 5, 30)];
        const frame = cache.frame(15), missing = cache.frame(24);
        for (let i = 3; i < 9; i++) cache.put(chunk(i * 10, i * 10 + 10));
        cache.evict(50, 70, 4);
        return {first, second, live, frame, missing, kept: [...cache.chunks.keys()].sort((a, b) => a - b)};
        """,
        None,
    )
    assert out["first"] == [0, 1, 2]
    assert out["second"] == [3]
    assert out["live"] == [[], [2]]  # refetched once the run has gone past it
    assert out["frame"] == {"A": {"movement": [10, 0]}} and out["missing"] is None
    assert out["kept"] == [5, 6, 7]


def test_clock_speeds_descriptions_and_motion():
    out = _node(
        """
        return {
          speeds: C.SPEEDS.map(C.stepsPerSecond),
          clock: C.gameTime("2023-02-13T00:00:00", 10, 8655),
          morning: C.gameTime("2023-02-13T07:50:00", 10, 61),
          split: C.splitDescription("sleeping @ the Ville:Dorm for Oak Hill College:Klaus Mueller's room:bed"),
          plain: C.splitDescription("idle"),
          place: C.shortPlace("the Ville:Hobbs Cafe:cafe:piano"),
          partner: C.shortPlace("<persona> Maria Lopez"),
          initials: [C.initials("Klaus Mueller"), C.initials("Jo"), C.initials("Mei Ling Lin")],
          glide: C.position([10, 5], [11, 5], 0.25),
          jump: C.position([10, 5], [30, 9], 0.75),
          fit: C.fitView(1000, 500, 3360, 2400),
        };
        """,
        None,
    )
    assert out["speeds"][:6] == [1.875, 3.75, 7.5, 15, 30, 60]  # the original's 1..32 px per frame
    assert out["speeds"][6:] == [120, 240, 480]
    assert out["clock"] == "Tuesday, February 14, 2023, 00:02:30"
    assert out["morning"] == "Monday, February 13, 2023, 08:00:10"
    assert out["split"] == {
        "action": "sleeping",
        "place": "the Ville:Dorm for Oak Hill College:Klaus Mueller's room:bed",
    }
    assert out["plain"] == {"action": "idle", "place": ""}
    assert out["place"] == "Hobbs Cafe › cafe › piano" and out["partner"] == "with Maria Lopez"
    assert out["initials"] == ["KM", "JO", "ML"]
    assert out["glide"] == {"x": 10.25, "y": 5}
    assert out["jump"] == {"x": 10, "y": 5}
    fit = out["fit"]
    assert 3360 * fit["scale"] <= 1000 + 1e-9 and 2400 * fit["scale"] <= 500 + 1e-9
    assert fit["x"] >= 0 and abs(fit["y"]) < 1e-9
