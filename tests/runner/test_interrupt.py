"""Ctrl-C (SIGINT) and SIGTERM stop ``aga run`` cleanly: exit 130, "interrupted; saved at step N"
with the command that continues, metrics written; continuing gives exactly the uninterrupted run,
metrics files included."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

from aga.runner.lifecycle import fork

from .conftest import BASE3, scripted_settings
from .test_resume import _committed_step, _snapshot

STEPS = 1200
AGA = [sys.executable, "-m", "aga.cli.main"]
METRICS = ("function_name_count.json", "function_name_token.json", "model_count.json", "model_token.json")
SAVED = re.compile(r"interrupted; saved at step (\d+); continue with `(aga run [^`]+)`")


def _start(storage: Path, args: list[str]) -> subprocess.Popen:
    env = {**os.environ, "AGA_STORAGE": str(storage)}
    return subprocess.Popen(
        [*AGA, *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )


def _metrics(folder: Path) -> dict[str, object]:
    out: dict[str, object] = {name: json.loads((folder / "metrics" / name).read_text()) for name in METRICS}
    for path in sorted((folder / "metrics").glob("* *.json")):  # the action logs, "<Full Name>.json"
        out[path.name] = json.loads(path.read_text())
    return out


def _interrupt(storage: Path, args: list[str], at: int, signals: list[signal.Signals]) -> tuple[int, str]:
    """Run ``aga <args>``, send ``signals`` once step ``at`` is committed; returns the saved step and the command."""
    proc = _start(storage, args)
    deadline = time.monotonic() + 300
    while _committed_step(storage / "cut") < at and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    assert proc.poll() is None, f"the run ended before step {at}: {proc.stderr.read() if proc.stderr else ''}"
    for sig in signals:
        proc.send_signal(sig)
        time.sleep(0.01)
    code = proc.wait(timeout=120)
    err = proc.stderr.read() if proc.stderr else ""
    assert code == 130, err
    found = SAVED.search(err)
    assert found, err
    saved, command = int(found.group(1)), found.group(2)
    assert (
        saved == _committed_step(storage / "cut") >= at
    )  # nothing committed is lost, nothing half-done is kept
    assert (storage / "cut" / "metrics" / "function_name_count.json").is_file()
    return saved, command


def test_sigint_and_sigterm_stop_cleanly_and_continuing_equals_the_uninterrupted_run(tmp_path):
    whole_storage, storage = tmp_path / "whole_storage", tmp_path / "storage"
    fork(BASE3, whole_storage, "whole", settings=scripted_settings())
    fork(BASE3, storage, "cut", settings=scripted_settings())
    proc = _start(whole_storage, ["run", "-t", "whole", "-s", str(STEPS), "--quiet"])
    assert proc.wait(timeout=600) == 0, proc.stderr.read() if proc.stderr else ""

    args = ["run", "-t", "cut", "-s", str(STEPS), "--quiet"]
    seen = []
    for at, sigs in ((250, [signal.SIGINT]), (500, [signal.SIGINT, signal.SIGINT]), (800, [signal.SIGTERM])):
        saved, command = _interrupt(storage, args, at, sigs)
        left = int(command.split("-s ")[1].split()[0])
        assert saved + left == STEPS, command  # the command continues exactly to the planned end
        args = shlex.split(command)[1:] + ["--quiet"]
        seen.append(saved)
    proc = _start(storage, args)
    assert proc.wait(timeout=600) == 0, proc.stderr.read() if proc.stderr else ""
    assert seen == sorted(seen) and len(set(seen)) == 3

    whole, cut = _snapshot(whole_storage / "whole"), _snapshot(storage / "cut")
    assert cut["step"] == whole["step"] == STEPS
    for key in ("states", "memories", "movements", "actions", "ledger"):
        assert cut[key] == whole[key], f"{key} differ after the interruptions"
    assert _metrics(storage / "cut") == _metrics(
        whole_storage / "whole"
    )  # metrics after resumes equal one run's


def test_a_second_ctrl_c_stops_at_once_during_a_slow_model_call(tmp_path):
    """With a model call in flight (a loopback fake that takes 4 s per answer), the first Ctrl-C
    waits for the step; the second one stops at once, saving the steps committed before it."""
    from aga.testing.fake_openai import FakeOpenAIServer

    storage = tmp_path / "storage"
    latency = 4.0
    with FakeOpenAIServer(latency=latency) as server:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "GOOGLE_", "GEMINI_"))}
        env.update(AGA_STORAGE=str(storage), OPENAI_BASE_URL=server.url, OPENAI_API_KEY="test-double-key",
                   AGA_LLM_TIMEOUT="60")  # fmt: skip
        args = ["run", "-o", BASE3, "-t", "slow", "-s", "50", "--quiet",
                "--llm", "openai:fake-chat-model", "--embed", "openai:fake-embed-model"]  # fmt: skip
        proc = subprocess.Popen(
            [*AGA, *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        deadline = time.monotonic() + 120
        while server.in_flight == 0 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert proc.poll() is None and server.in_flight > 0, proc.stderr.read() if proc.stderr else ""
        proc.send_signal(signal.SIGINT)
        time.sleep(0.3)
        assert proc.poll() is None  # the first Ctrl-C lets the step in progress finish
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=60)
        took = time.monotonic() - sent
    err = proc.stderr.read() if proc.stderr else ""
    assert code == 130, err
    assert took < latency - 1, f"the second Ctrl-C took {took:.1f} s"  # did not wait for the answer
    found = SAVED.search(err)
    assert found, err
    saved = int(found.group(1))
    assert saved == _committed_step(storage / "slow")
    assert found.group(2) == f"aga run -t slow -s {50 - saved}"
    assert (storage / "slow" / "metrics" / "function_name_count.json").is_file()


def test_a_signal_after_the_stop_began_does_not_kill_the_exit() -> None:
    """Ctrl-C twice in quick succession can land after the run loop has let go of its handlers
    (while metrics are written): once a stop is under way such a signal is counted, not fatal."""
    import asyncio

    from aga.runner.interrupt import StopSignals

    before = signal.getsignal(signal.SIGINT)

    async def run() -> StopSignals:
        with StopSignals() as signals:
            os.kill(os.getpid(), signal.SIGINT)  # the first: stop after this step
            await asyncio.sleep(0.05)
        return signals

    try:
        signals = asyncio.run(run())
        assert signals.count == 1
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN  # kept through the interpreter's exit
        os.kill(os.getpid(), signal.SIGINT)  # the late one: no KeyboardInterrupt, no death by signal
        time.sleep(0.05)
    finally:
        signal.signal(signal.SIGINT, before)
