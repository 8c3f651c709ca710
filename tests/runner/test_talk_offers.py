"""Talk offers (the ``react_rules`` saving): a resident does not ask whether to talk to someone who,
earlier in the runner's order, already chose to talk to them in the same step; the chat still
starts. Checked through the real step loop on the scripted test model (a test double), with the
base's seed 1, whose first meeting (12:06) has two residents see each other in the same step."""

from __future__ import annotations

import json
import re
import sqlite3
from collections import defaultdict
from pathlib import Path

from aga.bases import load_base

from .conftest import BASE3, fork_and_run

STEPS = 4400  # to 12:13, past the first meeting
ASK = re.compile(r"Does (.+) start a conversation with (.+)\?")


def _run(storage: Path, name: str, **kw) -> Path:  # type: ignore[no-untyped-def]
    return fork_and_run(storage, name, STEPS, base=load_base(BASE3).model_copy(update={"seed": 1}), **kw)


def _ledger(folder: Path) -> list[tuple[int, dict]]:
    """(step, row) of every ledger row, in the order they were logged."""
    conn = sqlite3.connect(folder / "sim.db")
    try:
        return [
            (step, json.loads(raw)) for step, raw in conn.execute("SELECT step, row FROM ledger ORDER BY seq")
        ]
    finally:
        conn.close()


def _asks(rows: list[tuple[int, dict]]) -> dict[int, list[tuple[str, str, str]]]:
    """(asker, other, answer) of every decide_to_talk call, by step."""
    out: dict[int, list[tuple[str, str, str]]] = defaultdict(list)
    for step, row in rows:
        if row["task"] == "decide_to_talk":
            asker, other = ASK.findall(row["prompt"])[-1]
            out[step].append((asker, other, json.loads(row["answer"])["answer"]))
    return out


def _mirrored(asks: dict[int, list[tuple[str, str, str]]]) -> list[int]:
    """Steps where B asked about A although A, first in name order, said yes about B."""
    return [
        step
        for step, calls in asks.items()
        for a, b, ans in calls
        if ans == "yes" and a < b and any((x, y) == (b, a) for x, y, _ in calls)
    ]


def test_nobody_asks_about_someone_who_already_chose_to_talk_to_them(storage) -> None:  # type: ignore[no-untyped-def]
    without = _asks(_ledger(_run(storage, "without", disabled_savings=["react_rules"])))
    mirrored = _mirrored(without)
    assert mirrored, "the fixture lost its same-step meeting: both sides should ask without the rule"
    rows = _ledger(_run(storage, "with"))
    asks = _asks(rows)
    assert _mirrored(asks) == []
    chats = {step for step, row in rows if row["task"] == "conversation_turn"}
    # at each step where the first in order said yes, that resident's chat happened
    yes_steps = [s for s, calls in asks.items() if any(ans == "yes" for *_x, ans in calls)]
    assert yes_steps and all(s in chats for s in yes_steps)
    # the one saved question is the mirror of a yes: the first meeting is asked once, not twice
    first = min(mirrored)
    assert len(without[first]) == 2 and len(asks[first]) == 1
