"""The loader on a store written by hand, ``aga eval`` on it and on a scripted run (report and
charts), and ``aga eval compare`` printing both columns."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from aga.bases import load_base
from aga.cli.main import app
from aga.eval import load_sim
from aga.runner.lifecycle import RunSettings, fork, open_simulation
from aga.store.sim_store import SimStore, StepRecord
from aga.world import load_town

BASE3 = "base_the_ville_isabella_maria_klaus"
ISA, MARIA, KLAUS = "Isabella Rodriguez", "Maria Lopez", "Klaus Mueller"
runner = CliRunner()


def _mem(
    mid: int,
    kind: str,
    created: str,
    desc: str,
    *,
    subject: str,
    obj: str = "",
    predicate: str = "is",
    filling=(),
) -> dict:
    return {
        "id": mid,
        "type": kind,
        "depth": 0,
        "created": created,
        "expiration": None,
        "last_accessed": created,
        "subject": subject,
        "predicate": predicate,
        "object": obj,
        "description": desc,
        "embedding_key": desc,
        "poignancy": 3,
        "keywords": [],
        "filling": [list(x) for x in filling],
    }


def hand_store(folder: Path) -> Path:
    """Two steps of the 3-resident base at 11:00 on Feb 13: Klaus hears of the party in the cafe."""
    base = load_base(BASE3).model_copy(update={"start": datetime(2023, 2, 13, 11, 0)})
    town = load_town("the_ville")
    cafe = sorted(t for t in town.tiles("the Ville:Hobbs Cafe:cafe") if town.is_walkable(t))
    room = sorted(
        t for t in town.tiles("the Ville:Dorm for Oak Hill College:Maria Lopez's room") if town.is_walkable(t)
    )
    store = SimStore.create(
        folder,
        {
            "name": folder.name,
            "base": base.model_dump(mode="json"),
            "town": "the_ville",
            "start": "2023-02-13T11:00:00",
            "sec_per_step": 10,
            "seed": 0,
            "step": 0,
            "settings": {"llm": "scripted", "policy": True, "relationship": True},
        },
    )
    store.write_initial(
        {ISA: {"ties": {}}, MARIA: {"ties": {}}, KLAUS: {"ties": {ISA: {"relationship": "friendly"}}}},
        {
            ISA: [
                _mem(
                    1,
                    "thought",
                    "2023-02-13 11:00:00",
                    "Isabella Rodriguez is hosting a Valentine's Day party",
                    subject=ISA,
                    predicate="remembers",
                )
            ],
            MARIA: [
                _mem(
                    1,
                    "thought",
                    "2000-01-01 00:00:00",
                    "Maria Lopez is a friend of Klaus Mueller",
                    subject=MARIA,
                    predicate="remembers",
                )
            ],
            KLAUS: [],
        },
    )
    lines = [
        [ISA, "Hi Klaus! Come to my Valentine's Day party tomorrow at 5."],
        [KLAUS, "I'd love to, thanks!"],
    ]
    for step in (0, 1):
        chat = lines if step == 1 else None
        moves = {
            ISA: {
                "movement": list(cafe[0]),
                "pronunciatio": "",
                "description": "serving coffee @ the Ville:Hobbs Cafe:cafe:behind the cafe counter",
                "chat": chat,
            },
            KLAUS: {
                "movement": list(cafe[1]),
                "pronunciatio": "",
                "description": "eating lunch @ the Ville:Hobbs Cafe:cafe:cafe customer seating",
                "chat": chat,
            },
            MARIA: {
                "movement": list(room[0]),
                "pronunciatio": "",
                "description": "sleeping @ the Ville:Dorm for Oak Hill College:Maria Lopez's room:bed",
                "chat": None,
            },
        }
        mems = (
            {
                KLAUS: [
                    _mem(
                        1,
                        "chat",
                        "2023-02-13 11:00:10",
                        "chat with Isabella about a party",
                        subject=KLAUS,
                        obj=ISA,
                        predicate="chat with",
                        filling=lines,
                    )
                ]
            }
            if step == 1
            else {}
        )
        ledger = [
            {
                "task": "daily_plan",
                "agent": ISA,
                "game_time": "2023-02-13T11:00:00",
                "prompt_tokens": 300,
                "completion_tokens": 40,
                "kind": "llm",
                "ok": True,
            }
        ]
        store.commit_step(
            StepRecord(
                step=step,
                next_time=f"2023-02-13 11:00:{10 * (step + 1):02d}",
                memories=mems,
                movements=moves,
                ledger=ledger if step == 0 else [],
                actions={
                    ISA: [
                        {
                            "task": "go to the party",
                            "parent": None,
                            "duration": 60,
                            "time": "2023-02-13 11:00:00",
                            "chat": {},
                        }
                    ]
                }
                if step == 0
                else {},
            )
        )
    store.close()
    return folder


def test_loader_reads_a_hand_built_store(tmp_path: Path) -> None:
    rec = load_sim(hand_store(tmp_path / "hand"))
    assert (rec.kind, rec.steps, rec.residents) == ("aga", 2, [ISA, KLAUS, MARIA])
    assert [f.name for f in rec.facts] == ["party"] and rec.workplaces[ISA] == "Hobbs Cafe"
    assert rec.memories[ISA][0].seed and rec.memories[MARIA][0].seed
    assert rec.moves[KLAUS][0].place == "Hobbs Cafe:cafe"  # from the tile, through the town
    assert rec.moves[MARIA][0].asleep
    assert [c.speakers for c in rec.chats()] == [(ISA, KLAUS)]
    assert rec.plans[ISA][0].text == "go to the party"
    assert rec.ties[KLAUS] == {ISA: {"relationship": "friendly"}}
    assert len(rec.ledger) == 1
    early = load_sim(tmp_path / "hand", step=1)  # as it was at the start of step 1
    assert early.steps == 1 and early.memories[KLAUS] == []


def test_eval_writes_report_and_charts(tmp_path: Path) -> None:
    folder = hand_store(tmp_path / "hand")
    result = runner.invoke(app, ["eval", "hand", "--storage", str(tmp_path), "--no-interview"])
    assert result.exit_code == 0, result.output
    report = json.loads((folder / "eval" / "report.json").read_text())
    party = report["diffusion"][0]
    assert party["knowers"][KLAUS] == {
        "since": "2023-02-13 11:00:10",
        "via": "chat",
        "source": ISA,
        "memory": 1,
    }
    assert party["known_by"] == 2
    # Maria's seed names Klaus; Klaus's tie and chat make him know Isabella (she kept no memory of it)
    assert report["relationships"]["density_start"] == pytest.approx(1 / 6)
    assert report["relationships"]["density_end"] == pytest.approx(2 / 6)
    assert report["cost"]["calls"] == 1 and report["cost"]["tokens_in"] == 300
    for name in ("report.md", "diffusion.png", "day_2023-02-13.png"):
        assert (folder / "eval" / name).stat().st_size > 100
    assert (folder / "eval" / "diffusion.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "party: Klaus Mueller knows since" in result.output


def test_eval_errors_are_one_line(tmp_path: Path) -> None:
    result = runner.invoke(app, ["eval", "nothing-here", "--storage", str(tmp_path)])
    assert result.exit_code != 0
    assert "no simulation found" in str(result.exception)
    hand_store(tmp_path / "hand")
    result = runner.invoke(app, ["eval", "hand", "--storage", str(tmp_path), "--step", "9", "--no-interview"])
    assert "out of range" in str(result.exception)


def test_scripted_run_then_compare(tmp_path: Path) -> None:
    folder = fork(BASE3, tmp_path, "scripted", settings=RunSettings(llm="scripted"))
    sim = open_simulation(folder)
    try:
        asyncio.run(sim.run(2400))  # midnight to 06:40: Isabella gets up at 6
    finally:
        sim.close()
    result = runner.invoke(app, ["eval", "scripted", "--storage", str(tmp_path), "--no-interview"])
    assert result.exit_code == 0, result.output
    report = json.loads((folder / "eval" / "report.json").read_text())
    assert report["realism"]["2023-02-13"]["residents"][ISA]["wake"] is not None
    assert report["cost"]["calls"] > 0
    assert (folder / "eval" / "day_2023-02-13.png").is_file()
    hand_store(tmp_path / "hand")
    out = tmp_path / "table.md"
    result = runner.invoke(
        app, ["eval", "compare", "scripted", "hand", "--storage", str(tmp_path), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    header = result.output.splitlines()[0].split()
    assert header == ["measure", "scripted", "hand"]
    assert "network density start -> end" in result.output
    table = out.read_text()
    assert table.startswith("| measure | scripted | hand |")
    assert "| party: knowers at end | 1/3 (from memories) | 2/3 (from memories) |" in table
