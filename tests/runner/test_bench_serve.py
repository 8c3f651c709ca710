"""bench/serve.py against the fake OpenAI-compatible server (a test double on loopback answering
with the scripted model after a fixed latency) prints its table (issue 14's check)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

SERVE = Path(__file__).resolve().parents[2] / "bench" / "serve.py"


def test_the_serving_bench_prints_its_table_against_the_fake_server() -> None:
    run = subprocess.run(
        [sys.executable, str(SERVE), "--fake", "0.01", "--residents", "3", "--steps", "3"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert "3 residents, 3 steps" in out and "10 ms per answer" in out
    figures = {}
    for label in ("model calls", "calls/s", "prompt tokens/s", "completion tokens/s"):
        found = re.search(rf"^\s*{re.escape(label)}\s+([\d.]+)\s*$", out, re.M)
        assert found, (label, out)
        figures[label] = float(found.group(1))
    assert figures["model calls"] > 0 and figures["calls/s"] > 0 and figures["prompt tokens/s"] > 0
    assert re.search(r"wall time per game hour\s+[\d.]+ s", out)
    assert re.search(r"tokens per agent-day\s+\d+", out)
