"""Serving benchmark: a fixed town for a fixed game span against an OpenAI-compatible endpoint.

Runs the residents of a generated town (``--residents``, default 25, seed 0, the same people on
every machine) from 08:00 for ``--steps`` steps (default 360: the busy game hour when everyone
wakes, plans and walks to work) with the model at ``--base-url`` (vLLM, SGLang, llama.cpp server,
Ollama, ...), and prints what the endpoint delivered: model calls per second, tokens per second
(prompt and completion), wall time per game hour, and tokens per agent-day (the tokens one resident
costs over a game day at this rate). The same figures can be read on any GPU.

    .venv/bin/python bench/serve.py --base-url http://gpu-box:8000/v1 --model Qwen/Qwen2.5-7B-Instruct \
        [--residents 25] [--steps 360] [--in-flight 64] [--embed embedded]
    .venv/bin/python bench/serve.py --fake 0.05     # the fake server (test double), 50 ms per answer

``--fake SECONDS`` starts the project's fake OpenAI-compatible server on loopback with that fixed
latency per answer (answers come from the scripted test model), to check the benchmark itself and
to see the engine's ceiling at a given latency.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path


def run(
    base_url: str, model: str, residents: int, steps: int, in_flight: int, embed: str
) -> dict[str, float]:
    """Fork the fixed town, run it against the endpoint, and return the figures."""
    from aga.bases.generate import generate_base
    from aga.runner.lifecycle import RunSettings, fork, open_simulation
    from aga.world import load_town
    from aga.world.generator import generate_plan
    from aga.world.layout import town_plan
    from aga.world.townfile import write_town_file

    os.environ["OPENAI_BASE_URL"] = base_url
    with tempfile.TemporaryDirectory(prefix="aga-serve-") as tmp:
        town_file = Path(tmp) / "town.yaml"
        homes = math.ceil(residents / 2) + 2
        write_town_file(
            generate_plan(town_plan(homes, name=f"serve_{residents}")),
            town_file,
            header="bench/serve.py",
            force=True,
        )
        base = generate_base(residents, load_town(town_file), town_ref=str(town_file), seed=0)
        base = base.model_copy(update={"start": datetime(2023, 2, 13, 8)})
        settings = RunSettings(llm=f"openai:{model}", embed=embed, max_in_flight=in_flight)
        sim = open_simulation(fork(base, Path(tmp) / "storage", "serve", settings=settings))
        t0 = time.perf_counter()
        asyncio.run(sim.run(steps))
        wall = time.perf_counter() - t0
        rows = [r for r in sim.store.ledger_rows() if r.get("kind", "llm") == "llm" and not r.get("cached")]
        sim.close()
    prompt = sum(int(r.get("prompt_tokens") or 0) for r in rows)
    completion = sum(int(r.get("completion_tokens") or 0) for r in rows)
    game_hours = steps * base.sec_per_step / 3600
    return {
        "calls": len(rows),
        "wall": wall,
        "calls_s": len(rows) / wall,
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "prompt_tok_s": prompt / wall,
        "completion_tok_s": completion / wall,
        "wall_per_game_hour": wall / game_hours,
        "tokens_per_agent_day": (prompt + completion) / residents * (24 / game_hours),
        "game_hours": game_hours,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--base-url",
        default=os.environ.get("OPENAI_BASE_URL"),
        help="the endpoint (default: OPENAI_BASE_URL)",
    )
    ap.add_argument("--model", default="served-model", help="model name the server knows")
    ap.add_argument("--residents", type=int, default=25)
    ap.add_argument("--steps", type=int, default=360, help="steps of 10 game seconds from 08:00")
    ap.add_argument("--in-flight", type=int, default=64, help="most model calls at once (the server's batch)")
    ap.add_argument("--embed", default="embedded", help="embedding model spec (default: the local MiniLM)")
    ap.add_argument(
        "--fake", type=float, metavar="SECONDS", help="run against the fake server with this latency"
    )
    args = ap.parse_args()
    server = None
    if args.fake is not None:
        from aga.testing.fake_openai import FakeOpenAIServer

        server = FakeOpenAIServer(latency=args.fake).start()
        args.base_url, args.embed = server.url, "hash"
        os.environ.setdefault("OPENAI_API_KEY", "fake-key")
    if not args.base_url:
        sys.exit("bench/serve.py: give --base-url (or set OPENAI_BASE_URL) or --fake SECONDS")
    try:
        r = run(args.base_url, args.model, args.residents, args.steps, args.in_flight, args.embed)
    finally:
        if server is not None:
            server.stop()
    where = f"fake server, {args.fake * 1000:g} ms per answer" if args.fake is not None else args.base_url
    print(
        f"serving benchmark: {args.residents} residents, {args.steps} steps ({r['game_hours']:g} game hours "
        f"from 08:00), model {args.model} at {where}, at most {args.in_flight} calls in flight"
    )
    rows = [
        ("model calls", f"{r['calls']}"),
        ("wall time", f"{r['wall']:.1f} s"),
        ("calls/s", f"{r['calls_s']:.1f}"),
        ("prompt tokens/s", f"{r['prompt_tok_s']:.0f}"),
        ("completion tokens/s", f"{r['completion_tok_s']:.0f}"),
        ("wall time per game hour", f"{r['wall_per_game_hour']:.1f} s"),
        ("tokens per agent-day", f"{r['tokens_per_agent_day']:.0f} (at this span's rate)"),
    ]
    for label, value in rows:
        print(f"  {label:<24} {value}")


if __name__ == "__main__":
    main()
