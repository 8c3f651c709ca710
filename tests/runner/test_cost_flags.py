"""The cost switches of `aga run` really switch: --disable_policy, --disable_relationship,
--mind_wandering, --disable_saving; and two runs sharing one public policy store lose nothing.

Runs go through the CLI (subprocesses) on the scripted test model (a test double), to 12:30 of
the first day: residents wake, decompose and ground their activities, and the first chat
(about 12:07) happens.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from aga.minds.context import SAVINGS
from aga.policy import normalise
from aga.runner.lifecycle import open_simulation
from aga.store.sim_store import SimStore

AGA = [sys.executable, "-m", "aga.cli.main"]
BASE3 = "base_the_ville_isabella_maria_klaus"
STEPS = 4500  # to 12:30
SOCIAL_TASKS = {"social_summary", "relationship_update"}
"""Tasks only Social Memory asks."""


def aga_run(storage: Path, sim: str, steps: int, *flags: str) -> subprocess.Popen:
    env = {**os.environ, "AGA_STORAGE": str(storage)}
    args = [*AGA, "run", "-o", BASE3, "-t", sim, "-s", str(steps), "--llm", "scripted", "--quiet", *flags]
    return subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def finish(*procs: subprocess.Popen) -> None:
    for proc in procs:
        _out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err


class Run:
    """What a finished simulation left: its ledger tasks, stored embedding texts, action logs."""

    def __init__(self, storage: Path, sim: str) -> None:
        self.storage = storage
        store = SimStore.open(storage / sim)
        try:
            self.settings = store.meta()["settings"]
            calls = [r for r in store.ledger_rows() if r.get("kind", "llm") == "llm"]
            self.tasks = Counter(r["task"] for r in calls)
            self.answered = Counter(
                r["task"] for r in calls if r.get("ok", True)
            )  # re-asked answers left out
            self.embedded = {text for model in store.embedding_models() for text in store.embeddings(model)}
            self.actions = store.action_logs()
        finally:
            store.close()

    def activity_texts(self) -> set[str]:
        """Texts of planned activities the action logs name (actions and their parents)."""
        texts = {e["task"] for log in self.actions.values() for e in log if e.get("task")}
        texts |= {
            e["parent"]
            for log in self.actions.values()
            for e in log
            if e.get("parent") not in (None, "root", "react")
        }
        return texts


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Run]:  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("cost_flags")
    flags = {"on": (), "no_policy": ("--disable_policy",), "no_relationship": ("--disable_relationship",)}
    procs = [aga_run(root / name, name, STEPS, *f) for name, f in flags.items()]
    finish(*procs)
    return {name: Run(root / name, name) for name in flags}


def test_disable_policy_opens_no_public_store_and_embeds_no_key(runs) -> None:  # type: ignore[no-untyped-def]
    off, on = runs["no_policy"], runs["on"]
    assert off.settings["policy"] is False and on.settings["policy"] is True
    assert not (off.storage / "public").exists()  # not even created
    assert (on.storage / "public" / "policy-scripted.db").is_file()
    # with the policy, activity texts are embedded as keys; without it, none is
    assert on.activity_texts() & on.embedded
    assert not off.activity_texts() & off.embedded
    # and nothing is reused: every action was grounded by the model
    assert all(e["is_new"] for log in off.actions.values() for e in log)
    assert on.tasks["task_decomp"] and off.tasks["task_decomp"]


def test_disable_relationship_uses_the_original_conversation_path(runs) -> None:  # type: ignore[no-untyped-def]
    off, on = runs["no_relationship"], runs["on"]
    assert off.settings["relationship"] is False
    assert off.tasks["conversation_turn"] > 0 and on.tasks["conversation_turn"] > 0  # they talked
    assert not SOCIAL_TASKS & set(off.tasks)
    # the original path: a retrieval-based relationship summary before every utterance (a line
    # re-asked for a checkable fault is one utterance: it gets no second summary)
    assert off.answered["relationship_summary"] == off.answered["conversation_turn"]
    assert SOCIAL_TASKS <= set(on.tasks) and on.tasks["relationship_summary"] == 0


def test_mind_wandering_asks_on_a_new_day_only_when_on(tmp_path) -> None:  # type: ignore[no-untyped-def]
    finish(aga_run(tmp_path, "wander", 2, "--mind_wandering"), aga_run(tmp_path, "plain", 2))
    wander, plain = Run(tmp_path, "wander"), Run(tmp_path, "plain")
    assert wander.tasks["mind_wandering"] == 3  # one per resident, before the day's plan
    assert "mind_wandering" not in plain.tasks


def test_each_saving_can_be_switched_off_from_the_cli(tmp_path) -> None:  # type: ignore[no-untyped-def]
    off = ["action_details", "plan_rules"]
    finish(aga_run(tmp_path, "s", 2300, *[a for name in off for a in ("--disable_saving", name)]))
    sim = open_simulation(tmp_path / "s")
    try:
        config = sim.config
    finally:
        sim.close()
    assert all(getattr(config, name) is (name not in off) for name in SAVINGS)
    tasks = Run(tmp_path, "s").tasks
    # the five-call details and the asked wake-up hour are back
    assert tasks["wake_up_hour"] == 3 and tasks["object_state"] > 0 and "action_details" not in tasks


def test_an_unknown_saving_is_refused_before_anything_is_created(tmp_path) -> None:  # type: ignore[no-untyped-def]
    proc = aga_run(tmp_path, "bad", 5, "--disable_saving", "free_lunch")
    _out, err = proc.communicate(timeout=120)
    assert proc.returncode == 1
    assert "free_lunch" in err and "action_details" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "bad").exists()


def test_two_runs_sharing_the_public_store_at_once_lose_no_entry(tmp_path) -> None:  # type: ignore[no-untyped-def]
    finish(aga_run(tmp_path, "a", 2700), aga_run(tmp_path, "b", 2700))  # side by side, to 07:30
    import sqlite3

    conn = sqlite3.connect(tmp_path / "public" / "policy-scripted.db")
    try:
        plans = {(a, n) for a, n in conn.execute("SELECT agent, norm FROM keys WHERE kind = 'plan'")}
        groundings = {(a, n) for a, n in conn.execute("SELECT agent, norm FROM groundings")}
        sims = {s for (s,) in conn.execute("SELECT DISTINCT sim FROM groundings")}
    finally:
        conn.close()
    assert sims <= {"a", "b"} and sims
    for sim in ("a", "b"):
        for agent, log in Run(tmp_path, sim).actions.items():
            for e in log:
                parent = e.get("parent")
                if parent in (None, "root", "react"):
                    continue
                # every decomposition a run used is stored (by it, or by the other run first) ...
                assert (agent, normalise(parent)) in plans, (sim, agent, parent)
                # ... and so is every subtask it grounded itself
                if e["is_new"]:
                    assert (agent, normalise(e["task"])) in groundings, (sim, agent, e["task"])


def test_a_later_run_takes_seed_and_own_activity_ratings_from_the_store(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import sqlite3

    finish(aga_run(tmp_path, "first", 2700))  # to 07:30: seed memories and the morning's activities rated
    conn = sqlite3.connect(tmp_path / "public" / "policy-scripted.db")
    try:
        stored = Counter(kind for (kind,) in conn.execute("SELECT kind FROM ratings"))
        others = conn.execute(
            "SELECT COUNT(*) FROM ratings WHERE kind = 'event' AND text NOT LIKE agent || ' is %'"
        )
        assert others.fetchone()[0] == 0  # of events, only one's own activities are kept
    finally:
        conn.close()
    first = Run(tmp_path, "first").tasks
    assert stored["thought"] == first["thought_importance"] > 0 and stored["event"] > 0
    finish(
        aga_run(tmp_path, "again", 2700),
        aga_run(tmp_path, "asked", 2700, "--disable_saving", "stored_ratings"),
    )
    again, asked = Run(tmp_path, "again").tasks, Run(tmp_path, "asked").tasks
    assert "thought_importance" not in again and asked["thought_importance"] == first["thought_importance"]
    rated = ("event_ratings", "event_importance")
    assert sum(again[t] for t in rated) < sum(asked[t] for t in rated)
