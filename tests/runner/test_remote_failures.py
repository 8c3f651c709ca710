"""`aga run` against a flaky, then a dead, OpenAI-compatible endpoint: real HTTP, the real SDK.

The endpoint is a test double (``FakeOpenAIServer`` on 127.0.0.1, extended here to aim faults
at named tasks and to go down on cue). The runs are real ``python -m aga.cli.main`` processes.
They check that transient failures and malformed answers are survived, counted and never
remembered, that a dead endpoint stops the run in one clear line at its last committed step, and
that continuing later gives exactly the run that never failed. No API key leaks anywhere.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from aga.runner.lifecycle import RunSettings, fork
from aga.store.sim_store import SimStore
from aga.testing.fake_openai import FakeOpenAIServer, dead_url

BASE3 = "base_the_ville_isabella_maria_klaus"
AGA = [sys.executable, "-m", "aga.cli.main"]
CHAT_MODEL = "fake-chat-model"
EMBED_MODEL = "fake-embed-model"
KEY = "aga-test-double-key-Zq7Wm3Lp9X"  # recognisable; not shaped like a real key, so only the env scrub hides it
TIMEOUT = 0.5  # AGA_LLM_TIMEOUT: the client gives up on an answer after this long
SLOW = 1.5  # a "slow" fault answers only after this long
RETRY_AFTER = 0.6  # what a "429" fault asks the client to wait
FIRST_DELAY = 0.02  # AGA_LLM_RETRY_DELAY: the client's own first backoff, much shorter than RETRY_AFTER
PROSE = "I would say the answer is fairly clear."  # the fake's invalid_json answer


@dataclass
class Arrival:
    """One request the test double received: when, for which task, its body, the fault it got."""

    t: float
    task: str
    body: dict[str, Any]
    fault: str | None = None


class TaskFaultServer(FakeOpenAIServer):
    """Test double: the fake OpenAI server, with faults aimed at tasks and an on-cue outage.

    ``plan`` maps a task name (the request's json_schema name; ``"embeddings"`` for embedding
    requests) to the faults its successive requests get. ``go_down_after(n)`` answers every
    request after the next ``n`` with HTTP 500, until ``recover()``. ``played`` lists
    ``(task, fault)`` in order; ``arrivals`` has one ``Arrival`` per request, in order.
    """

    def __init__(self, plan: Mapping[str, Iterable[str]] | None = None, **kw: Any) -> None:
        super().__init__(**kw)
        self.plan = {task: deque(faults) for task, faults in (plan or {}).items()}
        self.played: list[tuple[str, str]] = []
        self.arrivals: list[Arrival] = []
        self._serving = threading.local()
        self._plan_lock = threading.Lock()
        self._healthy_left: int | None = None

    def go_down_after(self, n: int) -> None:
        """Serve ``n`` more requests normally, then fail every request with HTTP 500."""
        with self._plan_lock:
            self._healthy_left = n

    def recover(self) -> None:
        """Serve normally again."""
        with self._plan_lock:
            self._healthy_left = None

    def next_fault(self) -> str | None:
        arrival: Arrival = self._serving.arrival
        task = arrival.task
        with self._plan_lock:
            if self._healthy_left is not None and self._healthy_left <= 0:
                fault: str | None = "500"
            else:
                if self._healthy_left is not None:
                    self._healthy_left -= 1
                queue = self.plan.get(task)
                fault = queue.popleft() if queue else None
            if fault:
                self.played.append((task, fault))
                self.faults_played.append(fault)
            arrival.fault = fault
        return fault

    def retry_of(self, arrival: Arrival) -> Arrival:
        """The next request with the same task and body: the client's retry of ``arrival``."""
        return next(
            a for a in self.arrivals if a.t > arrival.t and a.task == arrival.task and a.body == arrival.body
        )


class _TaskFaultHandler(FakeOpenAIServer.handler):  # type: ignore[name-defined, misc]
    """Notes which task the request being served belongs to, for ``TaskFaultServer.next_fault``."""

    def post(self, body: dict[str, Any]) -> None:
        fake: TaskFaultServer = self.fake  # type: ignore[assignment]
        if self.path.rstrip("/").endswith("/embeddings"):
            task = "embeddings"
        else:
            task = ((body.get("response_format") or {}).get("json_schema") or {}).get("name", "chat")
        arrival = Arrival(time.monotonic(), task, body)
        fake._serving.arrival = arrival
        fake.arrivals.append(arrival)
        super().post(body)


TaskFaultServer.handler = _TaskFaultHandler


# ---------------------------------------------------------------------- helpers


def aga_env(storage: Path, base_url: str, **extra: str) -> dict[str, str]:
    """The environment of a run: our storage, the fake endpoint and key, short timeouts."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "GOOGLE_", "GEMINI_", "AGA_"))}
    env.update(
        AGA_STORAGE=str(storage),
        OPENAI_BASE_URL=base_url,
        OPENAI_API_KEY=KEY,
        AGA_LLM_TIMEOUT=str(TIMEOUT),
        AGA_LLM_RETRY_DELAY=str(FIRST_DELAY),
        AGA_LLM_MAX_TRIES="4",
        COLUMNS="200",
    )
    env.update(extra)
    return env


def run_args(sim: str, steps: int, *, fork_base: bool) -> list[str]:
    args = [*AGA, "run", "-t", sim, "-s", str(steps), "--quiet"]
    if fork_base:
        args += ["-o", BASE3, "--llm", f"openai:{CHAT_MODEL}", "--embed", f"openai:{EMBED_MODEL}"]
    return args


def aga_run(
    env: dict[str, str], sim: str, steps: int, *, fork_base: bool = False
) -> subprocess.CompletedProcess:
    return subprocess.run(
        run_args(sim, steps, fork_base=fork_base),
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


def arrival_has_twin(server: TaskFaultServer, arrival: Arrival) -> bool:
    """Another resident sent the very same request within a moment of ``arrival``."""
    return any(
        a is not arrival and abs(a.t - arrival.t) < 0.5 and a.task == arrival.task and a.body == arrival.body
        for a in server.arrivals
    )


def snapshot(folder: Path) -> dict[str, Any]:
    """Everything a resumed run must reproduce: step, states, memories, movements, action logs."""
    store = SimStore.open(folder)
    try:
        meta = store.meta()
        states = store.resident_states()
        return {
            "step": meta["step"],
            "curr_time": meta["curr_time"],
            "states": states,
            "memories": {n: store.memory_records(n) for n in states},
            "movements": list(store.movements()),
            "actions": store.action_logs(),
        }
    finally:
        store.close()


def stored_steps(folder: Path) -> list[int]:
    """The step of every stored ledger row."""
    conn = sqlite3.connect(folder / "sim.db")
    try:
        return [int(r[0]) for r in conn.execute("SELECT step FROM ledger")]
    finally:
        conn.close()


def stored_ledger(folder: Path) -> list[dict[str, Any]]:
    store = SimStore.open(folder)
    try:
        return store.ledger_rows()
    finally:
        store.close()


def metrics(folder: Path, name: str) -> Any:
    return json.loads((folder / "metrics" / name).read_text())


def assert_every_step_once(snap: dict[str, Any], steps: int, residents: int = 3) -> None:
    assert [step for step, _ in snap["movements"]] == list(range(steps))
    assert all(len(moves) == residents for _, moves in snap["movements"])
    assert snap["step"] == steps


def assert_key_nowhere(storage: Path, *outputs: str) -> None:
    """The API key is in no output and in no byte of any stored file (sim.db and its WAL included)."""
    for text in outputs:
        assert KEY not in text
    files = [p for p in storage.rglob("*") if p.is_file()]
    assert any(p.name == "sim.db" for p in files)
    leaked = [str(p) for p in files if KEY.encode() in p.read_bytes()]
    assert leaked == []


def stop_lines(proc: subprocess.CompletedProcess) -> tuple[list[str], str]:
    """The failed-call warnings and the one stop line of a run that stopped on its endpoint."""
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip() and not ln.startswith("forked ")]
    assert "Traceback" not in proc.stderr
    assert lines and lines[-1].startswith("stopped: "), proc.stderr
    notes = lines[:-1]
    assert all(ln.startswith("warning: ") and " failed: " in ln for ln in notes), proc.stderr
    return notes, lines[-1]


def committed_step(folder: Path) -> int:
    """The store's committed step, read while another process may be writing (0 before it exists)."""
    if not (folder / "sim.db").is_file():
        return 0
    try:
        conn = sqlite3.connect(folder / "sim.db", timeout=30)
        try:
            row = conn.execute("SELECT value FROM meta WHERE key = 'step'").fetchone()
        finally:
            conn.close()
    except sqlite3.OperationalError:
        return 0
    return int(row[0]) if row else 0


def text_fields(record: Any) -> Iterable[str]:
    """Every string inside a JSON-like value."""
    if isinstance(record, str):
        yield record
    elif isinstance(record, Mapping):
        for value in record.values():
            yield from text_fields(value)
    elif isinstance(record, (list, tuple)):
        for value in record:
            yield from text_fields(value)


def memory_texts(snap: dict[str, Any]) -> list[str]:
    return [text for records in snap["memories"].values() for text in text_fields(records)]


def plan_items(snap: dict[str, Any]) -> dict[str, list[str]]:
    """Each resident's plan for the day, as its state holds it."""
    return {name: list(state.get("daily_req") or []) for name, state in snap["states"].items()}


def reason_kind(reason: str) -> str:
    """A failure reason of the metrics, as the fault that caused it."""
    if "HTTP 429" in reason:
        return "429"
    if "HTTP 500" in reason:
        return "500"
    if "timeout" in reason:
        return "slow"
    if reason.startswith("invalid answer"):
        return "malformed"
    return reason


# ---------------------------------------------------------------------- a flaky endpoint

FLAKY_PLAN = {  # at most two malformed answers per task, so no call ever needs its fallback
    # (the tasks asked in the first 300 steps, while the residents sleep: with the plan rules a
    # sleeper's bed is taken without asking for the object)
    "daily_plan": ["500", "truncated", "invalid_json"],
    "thought_importance": ["invalid_json", "429", "slow"],
    "action_details": ["500", "invalid_json", "truncated"],
    "embeddings": ["500", "429", "slow"],
}


def test_flaky_endpoint_300_steps_complete_with_failures_counted_and_nothing_bad_remembered(tmp_path):
    storage = tmp_path / "storage"
    with TaskFaultServer(FLAKY_PLAN, api_key=KEY, retry_after=RETRY_AFTER, slow_seconds=SLOW) as server:
        proc = aga_run(aga_env(storage, server.url), "flaky", 300, fork_base=True)
    assert proc.returncode == 0, proc.stderr
    folder = storage / "flaky"
    snap = snapshot(folder)
    assert_every_step_once(snap, 300)

    # every planned fault reached the task it was aimed at, over real HTTP with the key sent
    assert all(not queue for queue in server.plan.values()), server.plan
    assert Counter(server.played) == Counter((t, f) for t, faults in FLAKY_PLAN.items() for f in faults)
    assert {auth for auth in (r["auth"] for r in server.requests)} == {f"Bearer {KEY}"}

    # the server's Retry-After was obeyed (not the client's much shorter backoff), and a slow
    # answer was given up at the client's timeout, long before it would have come
    # (two residents may send the very same request at once, so a retry is any later identical
    # request at the expected distance)
    for arrival in server.arrivals:
        gaps = [
            a.t - arrival.t
            for a in server.arrivals
            if a.t > arrival.t and a.task == arrival.task and a.body == arrival.body
        ]
        if arrival.fault == "429":
            assert any(g >= RETRY_AFTER * 0.9 for g in gaps), gaps
            assert not any(g < RETRY_AFTER * 0.9 for g in gaps) or arrival_has_twin(server, arrival), gaps
        if arrival.fault == "slow":
            assert any(TIMEOUT * 0.9 <= g < SLOW for g in gaps), gaps

    # a malformed answer was asked again, quoting it, and the repaired call then succeeded
    later_inputs = [json.dumps(a.body["messages"]) for a in server.arrivals if a.task != "embeddings"]
    assert any(PROSE in text for text in later_inputs)

    # the failures are counted, per task, with their reasons; nothing was defaulted
    fail_count = metrics(folder, "function_name_fail_count.json")
    reasons = metrics(folder, "function_name_fail_reason.json")
    count = metrics(folder, "function_name_count.json")
    expected: Counter[tuple[str, str]] = Counter()
    for task, fault in server.played:
        kind = "malformed" if fault in ("truncated", "invalid_json") else fault
        expected[("embed" if task == "embeddings" else task, kind)] += 1
    seen = Counter((task, reason_kind(r)) for task, rs in reasons.items() for r in rs)
    for (task, kind), n in expected.items():
        assert seen[(task, kind)] >= n, (task, kind, reasons)
        assert count[task] >= 1
    assert {kind for _, kind in seen} <= {"429", "500", "slow", "malformed"}, reasons
    assert sum(fail_count.values()) == sum(seen.values()) >= len(server.played)
    detail = metrics(folder, "detail_info.json")
    assert sum(1 for row in detail if not row["ok"]) == sum(fail_count.values())
    ledger = stored_ledger(folder)
    assert not any(row["defaulted"] for row in ledger)
    assert not any(row["defaulted"] for row in detail)

    # no malformed answer, raw JSON or canned text reached memory; the valid plan did
    texts = memory_texts(snap)
    assert not any(PROSE in t or '{"' in t for t in texts)
    for name, items in plan_items(snap).items():
        assert items, name
        assert any(items[0] in t for t in texts), f"{name}'s plan is not remembered"

    assert_key_nowhere(storage, proc.stdout, proc.stderr)


def test_answers_malformed_past_the_attempts_use_a_marked_default_that_memory_never_holds(tmp_path):
    storage = tmp_path / "storage"
    plan = {"daily_plan": ["invalid_json", "truncated", "invalid_json"] * 3}  # every attempt of all three
    with TaskFaultServer(plan, api_key=KEY) as server:
        proc = aga_run(aga_env(storage, server.url), "defaulted", 300, fork_base=True)
    assert proc.returncode == 0, proc.stderr
    folder = storage / "defaulted"
    snap = snapshot(folder)
    assert_every_step_once(snap, 300)
    assert not any(server.plan.values())

    # the ledger and the metrics mark the three defaulted calls, one per resident, each after
    # its failed attempts
    ledger = [r for r in stored_ledger(folder) if r["task"] == "daily_plan"]
    defaulted = [r for r in ledger if r["defaulted"]]
    assert sorted(r["agent"] for r in defaulted) == sorted(snap["states"])
    for row in defaulted:
        attempts = [r for r in ledger if r["agent"] == row["agent"]]
        assert len(attempts) == 3 and not any(r["ok"] for r in attempts)
    detail = [r for r in metrics(folder, "detail_info.json") if r["function_name"] == "daily_plan"]
    assert sum(1 for r in detail if r["defaulted"]) == 3
    assert metrics(folder, "function_name_fail_count.json")["daily_plan"] == 9

    # the stand-in plan drives the day, but no memory holds it, nor any malformed answer
    texts = memory_texts(snap)
    for name, items in plan_items(snap).items():
        assert items, name
        assert not any(item in t for item in items for t in texts), f"{name}'s default plan reached memory"
    assert not any(PROSE in t or '{"' in t for t in texts)
    assert_key_nowhere(storage, proc.stdout, proc.stderr)


# ---------------------------------------------------------------------- a dead endpoint


def test_dead_endpoint_stops_cleanly_at_the_last_step_and_a_later_run_resumes(tmp_path):
    storage = tmp_path / "storage"
    url = dead_url()
    proc = aga_run(aga_env(storage, url, AGA_LLM_MAX_TRIES="3"), "dead", 300, fork_base=True)
    assert proc.returncode == 3, proc.stderr

    # one clear line: backend, model, the connection error, what to do, the exact resume command
    notes, stop = stop_lines(proc)
    assert len(notes) == 1 and "cannot connect" in notes[0]  # told once, however many calls failed
    assert "openai-local" in stop and f"'{CHAT_MODEL}'" in stop
    assert "cannot connect to " + url in stop and "gave up after 3 tries" in stop
    assert "check that the endpoint is running" in stop
    assert "`aga run -t dead -s 300`" in stop and "saved at step 0" in stop

    # the store is the fork, untouched: no step, no movement, residents and memories as forked
    folder = storage / "dead"
    snap = snapshot(folder)
    assert snap["step"] == 0 and snap["movements"] == [] and not any(snap["actions"].values())
    fresh = snapshot(fork(BASE3, tmp_path / "reference", "fresh", settings=RunSettings(llm="scripted")))
    assert snap["states"] == fresh["states"] and snap["memories"] == fresh["memories"]

    # the failed attempts are in the metrics
    reasons = metrics(folder, "function_name_fail_reason.json")
    failed = [r for rs in reasons.values() for r in rs]
    assert len(failed) >= 3 and all("cannot connect" in r for r in failed)
    assert_key_nowhere(storage, proc.stdout, proc.stderr)

    # the endpoint is back: the run continues from step 0 to the end
    with TaskFaultServer(api_key=KEY) as server:
        again = aga_run(aga_env(storage, server.url), "dead", 300)
    assert again.returncode == 0, again.stderr
    assert_every_step_once(snapshot(folder), 300)
    assert_key_nowhere(storage, again.stdout, again.stderr)


STEPS = 2640  # to 7:20 am: the residents wake (at 7 with this test double) and call the model again


def test_endpoint_dying_mid_run_stops_at_a_committed_step_and_resuming_equals_a_run_that_never_failed(
    tmp_path,
):
    storage = tmp_path / "storage"
    with TaskFaultServer(api_key=KEY) as server:
        env = aga_env(storage, server.url, AGA_LLM_MAX_TRIES="3")
        proc = subprocess.Popen(
            run_args("broken", STEPS, fork_base=True),
            env=env,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 120
        while committed_step(storage / "broken") < 1 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        assert proc.poll() is None, "the run ended before the endpoint went down"
        before = len(server.arrivals)
        server.go_down_after(5)  # the next model calls (at wake-up) get a few answers, then only HTTP 500
        out, err = proc.communicate(timeout=120)

        # one clear line: backend, model, status, the server's own message, the resume command
        assert proc.returncode == 3, f"no model call after step 0 in {STEPS} steps? {err}"
        notes, stop = stop_lines(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
        assert len(notes) == 1 and "HTTP 500" in notes[0]
        folder = storage / "broken"
        k = committed_step(folder)
        assert 1 <= k < STEPS
        assert "openai-local" in stop and f"'{CHAT_MODEL}'" in stop and "HTTP 500" in stop
        assert "The server had an error while processing your request (test double)" in stop
        assert "the server is failing: wait a little" in stop
        assert f"`aga run -t broken -s {STEPS - k}`" in stop and f"saved at step {k}" in stop
        assert_key_nowhere(storage, out, err)

        # five calls of step k were answered before the outage; that half step was not saved
        after = server.arrivals[before:]
        assert [a.fault for a in after[:5]] == [None] * 5 and {a.fault for a in after[5:]} == {"500"}
        stopped = snapshot(folder)
        assert_every_step_once(stopped, k)
        # the failed step's attempts are stored (they were real calls) and nothing later
        assert max(stored_steps(folder)) == k
        assert any(not r["ok"] and "500" in (r["error"] or "") for r in stored_ledger(folder))
        reasons = metrics(folder, "function_name_fail_reason.json")
        assert any("HTTP 500" in r for rs in reasons.values() for r in rs)

        # the store is exactly a run of k steps that never failed (in its own storage folder, so
        # it starts from a cold public policy store as the broken run did)
        server.recover()
        ref_storage = tmp_path / "reference_storage"
        ref_env = aga_env(ref_storage, server.url, AGA_LLM_MAX_TRIES="3")
        ok = aga_run(ref_env, "reference", k, fork_base=True)
        assert ok.returncode == 0, ok.stderr
        assert stopped == snapshot(ref_storage / "reference")

        # the endpoint is back: continuing gives exactly the run that never failed, each step once
        resumed = aga_run(env, "broken", STEPS - k)
        assert resumed.returncode == 0, resumed.stderr
        ok = aga_run(ref_env, "reference", STEPS - k)
        assert ok.returncode == 0, ok.stderr
    final = snapshot(folder)
    assert_every_step_once(final, STEPS)
    assert final == snapshot(ref_storage / "reference")
    assert_key_nowhere(storage, resumed.stdout, resumed.stderr)


def test_rejected_key_stops_at_once_and_the_echoed_key_is_masked_everywhere(tmp_path):
    storage = tmp_path / "storage"
    with TaskFaultServer({"thought_importance": ["401"]}, api_key=KEY) as server:
        proc = aga_run(aga_env(storage, server.url), "badkey", 300, fork_base=True)
    assert proc.returncode == 3, proc.stderr
    assert server.played == [("thought_importance", "401")]
    notes, stop = stop_lines(proc)
    assert len(notes) == 1 and "HTTP 401" in notes[0]
    assert "HTTP 401" in stop and "Incorrect API key provided: ***" in stop
    assert "check OPENAI_API_KEY" in stop and "`aga run -t badkey -s 300`" in stop
    assert sum(1 for a in server.arrivals if a.fault == "401") == 1  # not retried
    assert committed_step(storage / "badkey") == 0
    reasons = metrics(storage / "badkey", "function_name_fail_reason.json")
    assert any("Incorrect API key provided: ***" in r for r in reasons["thought_importance"])
    assert_key_nowhere(storage, proc.stdout, proc.stderr)


def test_a_malformed_retry_variable_is_refused_before_anything_is_created(tmp_path):
    storage = tmp_path / "storage"
    env = aga_env(storage, dead_url(), AGA_LLM_MAX_TRIES="lots")
    proc = aga_run(env, "never", 10, fork_base=True)
    assert proc.returncode == 1
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert lines == ["error: AGA_LLM_MAX_TRIES='lots' is not a whole number"]
    assert not storage.exists() or not any(storage.iterdir())


# ---------------------------------------------------------------------- the same, in process


def test_a_failed_step_cancels_its_other_calls_and_the_simulation_must_be_reopened(tmp_path):
    """In process (scripted test double): the failing step leaves no call running, its attempts
    are in the pending ledger, the half-stepped object refuses to go on, a reopened one goes on."""
    from aga.errors import BackendUnavailable, StoreError
    from aga.gateway import Gateway, RetryPolicy, TransientBackendError
    from aga.runner.lifecycle import open_simulation
    from aga.testing import HashEmbedder, ScriptedBackend

    folder = fork(BASE3, tmp_path / "storage", "inproc", settings=RunSettings(llm="scripted"))
    backend = ScriptedBackend(
        delay=0.05, faults=[None, TransientBackendError(503, "overloaded (test double)")]
    )
    gateway = Gateway(backend, HashEmbedder(), retry=RetryPolicy(max_tries=1))
    sim = open_simulation(folder, gateway=gateway)

    async def fail_one_step() -> set[asyncio.Task]:
        try:
            await sim.step_once()
        except BackendUnavailable as err:
            assert err.status == 503 and "overloaded (test double)" in str(err)
        else:
            raise AssertionError("the step did not fail")
        return {t for t in asyncio.all_tasks() if t is not asyncio.current_task()}

    try:
        assert asyncio.run(fail_one_step()) == set()  # no sibling call left running
        assert backend.in_flight == 0 and len(backend.calls) >= 2
        assert sim.step == 0 and committed_step(folder) == 0
        assert any(not row.ok and "overloaded" in (row.error or "") for row in gateway.ledger.pending())
        with pytest.raises(StoreError, match="step 0 of inproc failed and was not saved"):
            asyncio.run(sim.step_once())
    finally:
        sim.store.close()
    again = open_simulation(folder)
    try:
        asyncio.run(again.run(3))
    finally:
        again.store.close()
    assert_every_step_once(snapshot(folder), 3)
