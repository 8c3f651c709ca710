"""Gateway figures: its own overhead, the cache, embedding coalescing, concurrency, HTTP round trips,
and a busy game hour of 25 residents against a server with a fixed latency.

Run: ``.venv/bin/python bench/gateway.py`` (``--busy-only`` for the busy hour alone, ``--no-busy``
to skip it). Uses only test doubles (scripted model, hash embedder, fake OpenAI server on
loopback), so the figures are the gateway's cost, not a model's.

The busy hour: the 25-resident base is run on the scripted model up to 07:00 of its first day
(everyone wakes, plans and starts the day between 06:00 and 09:00), then the hour 07:00-08:00
(360 steps) is run from that same state through the real OpenAI SDK against the fake server,
which answers every chat call after a fixed latency (200 ms), once per ``--max-in-flight``
limit. Printed per limit: model calls, wall time, the ideal (calls x latency / limit: the time
the calls alone need when the bound is always full), the same hour on the instant scripted model
(the engine's own time), and the most calls seen in flight (gateway bound and server).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from pydantic import BaseModel

from aga.gateway import Gateway, LLMRequest, MemoryCache, RetryPolicy, SqliteCache, Task, build_gateway
from aga.testing import HashEmbedder, ScriptedBackend
from aga.testing.fake_openai import FakeOpenAIServer


class Answer(BaseModel):
    """A small answer: a rating and a phrase."""

    rating: int
    note: str


def _task(folder: Path) -> Task[Answer]:
    (folder / "bench_task.txt").write_text(
        "You rate things for a benchmark.\n---\nThing: $thing\nContext: $context\n"
    )
    return Task("bench_task", Answer, max_tokens=40, template_dir=folder)


async def overhead(task: Task[Answer], n: int) -> tuple[float, float]:
    """Microseconds per call: the bare scripted backend vs the same through gateway.ask."""
    backend = ScriptedBackend(rules={})
    gw = Gateway(backend, HashEmbedder())
    vars_ = [{"thing": f"item {i}", "context": "a quiet morning at the cafe " * 8} for i in range(n)]
    requests = [
        LLMRequest("bench_task", *task.render(v), task.json_schema(), None, 40, 0.0, v) for v in vars_
    ]
    t0 = time.perf_counter()
    for req in requests:
        await backend.complete(req)
    bare = (time.perf_counter() - t0) / n * 1e6
    t0 = time.perf_counter()
    for v in vars_:
        await gw.ask(task, v, agent="A", game_time=None)
    full = (time.perf_counter() - t0) / n * 1e6
    return bare, full


async def cache(task: Task[Answer], n: int, folder: Path) -> dict[str, float]:
    """Microseconds per call: first run vs rerun, memory and SQLite caches; calls made on rerun."""
    out: dict[str, float] = {}
    for name, make in (("memory", MemoryCache), ("sqlite", lambda: SqliteCache(folder / "bench_cache.db"))):
        store = make()
        timings = []
        for _ in range(2):
            backend = ScriptedBackend(rules={})
            gw = Gateway(backend, HashEmbedder(), cache=store)
            t0 = time.perf_counter()
            for i in range(n):
                await gw.ask(task, {"thing": f"item {i}", "context": "x"}, agent=None, game_time=None)
            timings.append((time.perf_counter() - t0) / n * 1e6)
        out[f"{name}_first_us"], out[f"{name}_rerun_us"] = timings
        out[f"{name}_rerun_backend_calls"] = len(backend.calls)
    return out


async def coalescing(callers: int, texts: int) -> tuple[int, int, float, float]:
    """Embedder calls and ms when ``callers`` ask for the same texts at once: gateway vs each caller alone."""
    gw = Gateway(ScriptedBackend(rules={}), HashEmbedder())
    batch = [f"memory number {i} about the party at Hobbs Cafe" for i in range(texts)]
    HashEmbedder().embed_sync(batch)  # warm the token-hash cache so both sides pay the same
    t0 = time.perf_counter()
    await asyncio.gather(*(gw.embed(batch) for _ in range(callers)))
    seconds = time.perf_counter() - t0
    alone = HashEmbedder()
    size = gw._embeddings.batch_size
    t0 = time.perf_counter()
    for _ in range(callers):
        for i in range(0, texts, size):
            await alone.embed(batch[i : i + size])
    return gw.embedder.calls, alone.calls, seconds * 1e3, (time.perf_counter() - t0) * 1e3


async def concurrency(task: Task[Answer], calls: int, delay: float) -> dict[int, float]:
    """Wall seconds for ``calls`` asks of a model that takes ``delay`` s, by max_in_flight."""
    out = {}
    for limit in (1, 4, 8):
        gw = Gateway(ScriptedBackend(rules={}, delay=delay), HashEmbedder(), max_in_flight=limit)
        t0 = time.perf_counter()
        await asyncio.gather(
            *(
                gw.ask(task, {"thing": str(i), "context": ""}, agent=None, game_time=None)
                for i in range(calls)
            )
        )
        out[limit] = time.perf_counter() - t0
    return out


async def http_round_trip(task: Task[Answer], n: int) -> tuple[float, float]:
    """Milliseconds per ask through the real OpenAI SDK to the fake server, one at a time and 4 at once."""
    with FakeOpenAIServer(backend=ScriptedBackend(rules={})) as server:
        os.environ["OPENAI_BASE_URL"] = server.url
        gw = build_gateway("openai:bench", embed="hash", retry=RetryPolicy(max_tries=2, base_delay=0.01))
        t0 = time.perf_counter()
        for i in range(n):
            await gw.ask(task, {"thing": str(i), "context": ""}, agent=None, game_time=None)
        serial = (time.perf_counter() - t0) / n * 1e3
        t0 = time.perf_counter()
        await asyncio.gather(
            *(gw.ask(task, {"thing": f"p{i}", "context": ""}, agent=None, game_time=None) for i in range(n))
        )
        parallel = (time.perf_counter() - t0) / n * 1e3
        await gw.aclose()
    return serial, parallel


def hash_embedder_speed(n: int) -> float:
    """Texts per second of the hash embedder test double, one batch."""
    emb = HashEmbedder()
    texts = [
        f"Isabella Rodriguez is planning a Valentine's Day party number {i} at Hobbs Cafe" for i in range(n)
    ]
    t0 = time.perf_counter()
    emb.embed_sync(texts)
    return n / (time.perf_counter() - t0)


BUSY_BASE = "base_the_ville_n25"
BUSY_FROM = 7 * 360  # 07:00 of the first day, in 10-second steps
BUSY_STEPS = 360  # one game hour


def _calls(rows: list) -> int:
    return sum(1 for r in rows if r.get("kind", "llm") == "llm" and not r.get("cached"))


def _chain(rows: list) -> int:
    """Sum over steps of the most calls one resident made in that step: the calls that must wait
    for each other if a resident's calls in a step run one after another."""
    per: dict[tuple[str, str], int] = {}
    for r in rows:
        if r.get("kind", "llm") == "llm" and not r.get("cached"):
            key = (str(r.get("game_time")), str(r.get("agent")))
            per[key] = per.get(key, 0) + 1
    most: dict[str, int] = {}
    for (when, _agent), n in per.items():
        most[when] = max(most.get(when, 0), n)
    return sum(most.values())


async def _hour(folder: Path, overrides: dict) -> tuple[int, float, int, int]:
    """Run the busy hour on a copy of the 07:00 simulation: (model calls, wall seconds, most in
    flight, the longest per-step chains summed)."""
    from aga.runner.lifecycle import open_simulation

    sim = open_simulation(folder, overrides)
    before = len(sim.store.ledger_rows())
    t0 = time.perf_counter()
    try:
        await sim.run(BUSY_STEPS)
        wall = time.perf_counter() - t0
        rows = sim.store.ledger_rows()[before:]
        most = sim.gateway.bound.most_in_flight
    finally:
        await sim.gateway.aclose()
        sim.close()
    return _calls(rows), wall, most, _chain(rows)


async def busy_hour(limits: tuple[int, ...] = (4, 8, 16), latency: float = 0.2) -> None:
    """25 residents, 07:00-08:00, against a fake server answering after ``latency`` seconds."""
    from aga.runner.lifecycle import RunSettings, fork

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        folder = fork(BUSY_BASE, root, "morning", settings=RunSettings(llm="scripted"))
        await _hour_prefix(folder)
        print(
            f"busy hour: {BUSY_BASE} run to 07:00 on the scripted model in {time.perf_counter() - t0:.0f} s"
        )
        copy = root / "instant" / "morning"  # each run in its own storage: a cold policy store
        shutil.copytree(folder, copy)
        calls, wall, most, chain = await _hour(copy, {})
        print(
            f"busy hour 07:00-08:00 on the instant scripted model: {calls} model calls in {wall:.1f} s "
            f"(the engine's own time; max_in_flight 4, most in flight {most}); per-step chains: {chain} calls"
        )
        engine = wall
        for limit in limits:
            with FakeOpenAIServer(backend=ScriptedBackend(), latency=latency) as server:
                os.environ["OPENAI_BASE_URL"] = server.url
                os.environ.pop("OPENAI_API_KEY", None)
                copy = root / f"limit{limit}" / "morning"
                shutil.copytree(folder, copy)
                overrides = {"llm": "openai:bench", "embed": "hash", "max_in_flight": limit}
                calls, wall, most, chain = await _hour(copy, overrides)
                ideal = calls * latency / limit
                print(
                    f"busy hour, {latency * 1000:.0f} ms server, --max-in-flight {limit}: {calls} model calls in "
                    f"{wall:.1f} s; ideal {ideal:.1f} s (calls x latency / limit), wall/ideal {wall / ideal:.2f}, "
                    f"wall minus engine {wall - engine:.1f} s; most in flight {most} (gateway), "
                    f"{server.most_in_flight} (server); chain bound {max(ideal, chain * latency):.1f} s "
                    f"({chain} calls in per-step chains x latency)"
                )


async def _hour_prefix(folder: Path) -> None:
    from aga.runner.lifecycle import open_simulation

    sim = open_simulation(folder)
    try:
        await sim.run(BUSY_FROM)
    finally:
        sim.close()


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--busy-only", action="store_true", help="only the busy hour of 25 residents")
    ap.add_argument("--no-busy", action="store_true", help="skip the busy hour")
    args = ap.parse_args()
    if not args.busy_only:
        await small_figures()
    if not args.no_busy:
        await busy_hour()


async def small_figures() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        task = _task(folder)
        bare, full = await overhead(task, 2000)
        print(
            f"ask overhead: bare scripted backend {bare:.0f} us/call, through the gateway {full:.0f} us/call "
            f"(gateway adds {full - bare:.0f} us: render, validate, ledger)"
        )
        c = await cache(task, 1000, folder)
        print(
            f"cache, memory: first run {c['memory_first_us']:.0f} us/call, "
            f"rerun {c['memory_rerun_us']:.0f} us/call, "
            f"backend calls on rerun {c['memory_rerun_backend_calls']:.0f}"
        )
        print(
            f"cache, sqlite: first run {c['sqlite_first_us']:.0f} us/call, "
            f"rerun {c['sqlite_rerun_us']:.0f} us/call, "
            f"backend calls on rerun {c['sqlite_rerun_backend_calls']:.0f}"
        )
        together, alone, ms_together, ms_alone = await coalescing(8, 500)
        print(
            f"embedding coalescing, 8 concurrent callers x the same 500 texts: {together} embedder calls "
            f"in {ms_together:.1f} ms vs {alone} calls in {ms_alone:.1f} ms each alone "
            f"({alone / together:.0f}x fewer)"
        )
        print(f"hash embedder: {hash_embedder_speed(5000):,.0f} texts/s")
        walls = await concurrency(task, 40, 0.02)
        ratio = walls[1] / walls[4]
        print(
            "40 asks of a 20 ms model: "
            + ", ".join(f"max_in_flight={k}: {v:.2f} s" for k, v in walls.items())
            + f" (1 vs 4: {ratio:.1f}x)"
        )
        serial, parallel = await http_round_trip(task, 100)
        print(
            f"OpenAI SDK to the fake server on loopback: {serial:.1f} ms/ask serial, "
            f"{parallel:.1f} ms/ask 4 in flight"
        )


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
