"""Replay viewer figures: compression, chunk serving (store vs replay file), and playback in a browser.

    .venv/bin/python bench/viewer.py [--residents 25] [--days 2] [--browser-seconds 8]

1. A synthetic run is committed to a real store: residents rest for a while, then walk one tile
   per step to somewhere else (as the original's residents do), now and then chatting.
   Printed: the original's per-step movement files (indent=2) vs our master_movement.json, the
   resident entries stored, and the time to compress.
2. A server on loopback serves that run from its store and from its compressed replay: latency
   of the info call (cold = town drawn, warm) and of 360-step chunks, in play order and at random
   seeks, side by side.
3. If chromium and node (>= 20, for its WebSocket) are installed: the page plays the run for a
   few seconds at speeds 3 and 9 in headless chromium; printed: steps advanced vs expected,
   frames drawn, frames stalled waiting for steps, slowest frame, chunks fetched.
4. A scripted-model run (3 residents): latency of the inspector (a resident at a random step),
   the event timeline and the cost report, and of a committed step reaching the live stream.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import datetime
from pathlib import Path

from aga.store.sim_store import SimStore, StepRecord
from aga.viewer.convert import compress_simulation
from aga.viewer.server import make_server
from aga.world import load_town


def synthetic_run(folder: Path, residents: int, steps: int, seed: int = 7) -> None:
    """Commit ``steps`` steps of ``residents`` resting and walking on the Ville's walkable tiles."""
    town = load_town("the_ville")
    rng = random.Random(seed)
    walkable = [(x, y) for y in range(town.height) for x in range(town.width) if town.is_walkable((x, y))]
    names = [f"Resident {i:02d}" for i in range(residents)]
    store = SimStore.create(
        folder,
        {
            "name": folder.name,
            "town": "the_ville",
            "start": datetime(2023, 2, 13).isoformat(),
            "sec_per_step": 10,
            "step": 0,
            "persona_names": names,
        },
    )
    tile = {n: rng.choice(walkable) for n in names}
    path: dict[str, list[tuple[int, int]]] = {n: [] for n in names}
    rest = {n: rng.randint(50, 3000) for n in names}
    act = {n: "sleeping @ the Ville:home:room:bed" for n in names}
    chat: dict[str, list[list[str]] | None] = {n: None for n in names}
    for step in range(steps):
        moves = {}
        for n in names:
            if path[n]:
                tile[n] = path[n].pop(0)
            elif rest[n] > 0:
                rest[n] -= 1
            else:
                goal = rng.choice(walkable)
                path[n] = town.path(tile[n], goal)[1:120]
                rest[n] = rng.randint(60, 720)
                act[n] = f"doing task {step % 97} @ the Ville:{goal[0]}:{goal[1]}:thing"
            if rng.random() < 0.0005:
                chat[n] = [[n, f"hello at {step}"], [names[0], "hello to you"]]
            elif chat[n] is not None and rng.random() < 0.02:
                chat[n] = None
            moves[n] = {
                "movement": list(tile[n]),
                "pronunciatio": "🙂",
                "description": act[n],
                "chat": chat[n],
            }
        store.commit_step(StepRecord(step=step, next_time=f"t{step + 1}", movements=moves))
    store.close()


def get(url: str) -> tuple[float, int]:
    t = time.perf_counter()
    with urllib.request.urlopen(url, timeout=60) as res:
        size = len(res.read())
    return (time.perf_counter() - t) * 1000, size


def ms(values: list[float]) -> str:
    values = sorted(values)
    return f"median {statistics.median(values):6.1f} ms, p95 {values[int(len(values) * 0.95) - 1]:6.1f} ms"


_CDP = r"""
const [port, url, seconds] = process.argv.slice(1);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
(async () => {
  const target = await (await fetch(`http://127.0.0.1:${port}/json/new?${url}`, { method: "PUT" })).json();
  const ws = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((r) => ws.addEventListener("open", r));
  let id = 0; const waiting = new Map();
  ws.addEventListener("message", (e) => { const m = JSON.parse(e.data); if (waiting.has(m.id)) waiting.get(m.id)(m); });
  const call = (method, params) => new Promise((r) => { waiting.set(++id, r); ws.send(JSON.stringify({ id, method, params })); });
  const read = async () => (await call("Runtime.evaluate", { expression:
    "JSON.stringify(window.agaReplay ? {step: agaReplay.step, total: agaReplay.total, stats: agaReplay.stats} : null)",
    returnByValue: true })).result.result.value;
  let first = null;
  for (let i = 0; i < 100 && !(first && JSON.parse(first) && JSON.parse(first).stats.chunks > 0); i++) { await sleep(100); first = await read(); }
  const t0 = Date.now();
  await sleep(seconds * 1000);
  const last = await read();
  console.log(JSON.stringify({ first: JSON.parse(first), last: JSON.parse(last), seconds: (Date.now() - t0) / 1000 }));
  ws.close(); process.exit(0);
})();
"""


def browser(url: str, seconds: float) -> dict | None:
    """Play ``url`` in headless chromium for ``seconds``; the page's figures before and after."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    node = shutil.which("node")
    if not (chromium and node):
        return None
    port = 9339
    profile = tempfile.mkdtemp(prefix="aga-bench-chromium-")
    proc = subprocess.Popen(
        [
            chromium,
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            f"--remote-debugging-port={port}",
            f"--user-data-dir={profile}",
            "--window-size=1400,850",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/json/version", timeout=1).read()
                break
            except OSError:
                time.sleep(0.1)
        done = subprocess.run(
            [node, "--experimental-websocket", "-e", _CDP, str(port), url, str(seconds)],
            capture_output=True,
            text=True,
            timeout=seconds + 60,
            check=False,
        )
        if done.returncode != 0:
            print(f"  (browser run failed: {done.stderr.strip()[:300]})")
            return None
        return json.loads(done.stdout.strip().splitlines()[-1])
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(profile, ignore_errors=True)


def inspector_figures(storage: Path, base: str, steps: int) -> None:
    """Part 4: the inspector, timeline, cost and live stream on a scripted-model run (3 residents)."""
    import asyncio
    from urllib.parse import quote

    from aga.bases import load_base
    from aga.runner.lifecycle import RunSettings, fork, open_simulation

    print(f"\n4. inspector, timeline, cost, live: scripted run of 3 residents, {steps} steps from 07:50")
    ville = load_base("base_the_ville_isabella_maria_klaus").model_copy(
        update={"start": datetime(2023, 2, 13, 7, 50)}
    )
    folder = fork(ville, storage, "scripted", settings=RunSettings(llm="scripted"))
    t = time.perf_counter()
    sim = open_simulation(folder)
    asyncio.run(sim.run(steps))
    print(f"   ran it in {time.perf_counter() - t:.1f} s")
    rng = random.Random(5)
    api = f"{base}/api/sims/scripted"
    probes = [(rng.choice(ville.residents).name, rng.randrange(steps)) for _ in range(30)]
    insp = [get(f"{api}/residents/{quote(n)}?step={s}") for n, s in probes]
    print(
        f"   inspector (resident at a step): {ms([x[0] for x in insp])}, {statistics.mean(x[1] for x in insp) / 1024:.1f} KiB"
    )
    for name in ("events", "cost"):
        res = [get(f"{api}/{name}") for _ in range(5)]
        print(f"   {name:<8} {ms([x[0] for x in res])}, {res[0][1] / 1024:.1f} KiB")
    # live: from a committed step to its server-sent event
    req = urllib.request.urlopen(f"{api}/live", timeout=10)
    seen = []

    def read() -> None:
        try:
            for raw in req:
                line = raw.decode().strip()
                if line.startswith("data: "):
                    seen.append((time.perf_counter(), json.loads(line[6:])["total"]))
        except (OSError, ValueError, AttributeError):  # the stream is closed at the end
            pass

    threading.Thread(target=read, daemon=True).start()
    time.sleep(1.5)
    lags = []
    for _ in range(5):
        t = time.perf_counter()
        asyncio.run(sim.run(1))
        want = sim.store.meta()["step"]
        while not any(total >= want for _, total in seen) and time.perf_counter() - t < 10:
            time.sleep(0.01)
        lags.append(1000 * (next(w for w, total in seen if total >= want) - t))
    sim.store.close()
    req.close()
    print(
        f"   live: step committed -> its event in the browser's stream: {ms(lags)} (the server checks every 0.5 s)"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--residents", type=int, default=25)
    ap.add_argument("--days", type=float, default=2.0)
    ap.add_argument("--browser-seconds", type=float, default=8.0)
    ap.add_argument("--scripted-steps", type=int, default=720, help="steps of the scripted run of part 4")
    args = ap.parse_args()
    steps = int(args.days * 8640)
    root = Path(tempfile.mkdtemp(prefix="aga-bench-viewer-"))
    storage = root / "storage"
    try:
        print(f"1. compression: {args.residents} residents x {steps} steps ({args.days:g} game days)")
        t = time.perf_counter()
        synthetic_run(storage / "run", args.residents, steps)
        print(f"   committed the run in {time.perf_counter() - t:.1f} s")
        store = SimStore.open(storage / "run")
        frames = [m for _, m in store.movements()]
        per_step = sum(
            len(json.dumps({"persona": m, "meta": {"curr_time": "February 13, 2023, 00:00:00"}}, indent=2))
            for m in frames
        )
        rows = sum(len(m) for m in frames)  # entries of every step (the store writes changed ones only)
        store.close()
        t = time.perf_counter()
        done = compress_simulation(storage / "run")
        took = time.perf_counter() - t
        size = (done.folder / "master_movement.json").stat().st_size
        print(
            f"   entries:  {rows:>10,} per step (store) vs {done.changes:>9,} compressed  = {rows / done.changes:5.1f}x fewer"
        )
        print(
            f"   bytes:    {per_step:>10,} movement/<step>.json vs {size:>9,} master_movement.json = {per_step / size:5.1f}x smaller"
        )
        print(f"   compress: {took:.2f} s ({steps / took:,.0f} steps/s)")

        shutil.copytree(done.folder, storage / "run_replay" / "replay")
        server = make_server(storage, "127.0.0.1", 0)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        base = server.url
        print("\n2. serving (loopback)                      store (live-capable)      replay file")
        cold = [get(f"{base}/api/sims/{s}")[0] for s in ("run", "run_replay")]
        warm = [
            statistics.median(get(f"{base}/api/sims/{s}")[0] for _ in range(10))
            for s in ("run", "run_replay")
        ]
        print(f"   info, first call (draws the town)   {cold[0]:10.1f} ms          {cold[1]:10.1f} ms")
        print(f"   info, warm                          {warm[0]:10.1f} ms          {warm[1]:10.1f} ms")
        rng = random.Random(3)
        seeks = [rng.randrange(steps) for _ in range(30)]
        for label, starts in (
            ("360-step chunks in play order", list(range(0, steps, 360))),
            ("random seeks (360 steps)", seeks),
        ):
            res = {}
            for s in ("run", "run_replay"):
                times, sizes = [], []
                for start in starts:
                    ms_, size_ = get(f"{base}/api/sims/{s}/steps?start={start}&count=360")
                    times.append(ms_)
                    sizes.append(size_)
                res[s] = (times, sizes)
            print(
                f"   {label}: {len(starts)} requests, {statistics.mean(res['run'][1]) / 1024:.0f} KiB each on average"
            )
            print(f"      store  {ms(res['run'][0])}      replay  {ms(res['run_replay'][0])}")
        town_ms, town_size = get(f"{base}/api/sims/run/town.png")
        print(f"   town.png (cached): {town_ms:.1f} ms, {town_size / 1024:.0f} KiB")

        print("\n3. playback in headless chromium")
        for speed in (3, 9):
            out = browser(f"{base}/demo/run/0/{speed}", args.browser_seconds)
            if out is None:
                print("   (chromium or node not installed: skipped)")
                break
            a, b = out["first"], out["last"]
            rate = 60 * 2 ** (speed - 1) / 32
            advanced = b["step"] - a["step"]
            frames = b["stats"]["frames"] - a["stats"]["frames"]
            stalled = b["stats"]["stalledFrames"] - a["stats"]["stalledFrames"]
            print(
                f"   speed {speed} ({rate:g} steps/s): advanced {advanced:,.0f} steps in {out['seconds']:.1f} s "
                f"(expected {rate * out['seconds']:,.0f}); {frames / out['seconds']:.0f} frames/s, "
                f"{stalled} of {frames} frames waiting for steps, slowest frame {b['stats']['slowestFrameMs']:.1f} ms, "
                f"{b['stats']['chunks']} chunks ({b['stats']['bytes'] / 1024:.0f} KiB)"
            )
        inspector_figures(storage, base, args.scripted_steps)
        server.shutdown()
        server.server_close()
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
