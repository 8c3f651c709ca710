"""``aga story`` on scripted-model runs: who woke when and did what first, whom they talked to."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from aga.cli.main import app
from aga.errors import InputError
from aga.viewer.story import write_story

NAMES3 = ("Isabella Rodriguez", "Klaus Mueller", "Maria Lopez")


def _run(storage: Path, name: str, start: datetime, steps: int) -> Path:
    from aga.bases import load_base
    from aga.runner.lifecycle import RunSettings, fork, open_simulation

    base = load_base("base_the_ville_isabella_maria_klaus").model_copy(update={"start": start})
    folder = fork(base, storage, name, settings=RunSettings(llm="scripted"))
    sim = open_simulation(folder)
    try:
        asyncio.run(sim.run(steps))
    finally:
        sim.store.close()
    return folder


def _first_after_waking(folder: Path, name: str, start: datetime) -> tuple[str, str] | None:
    """(HH:MM, action) of the first movement that is not sleep after one that is, read from the store."""
    rows = (
        sqlite3.connect(folder / "sim.db")
        .execute("SELECT step, description FROM movements WHERE agent = ? ORDER BY step", (name,))
        .fetchall()
    )
    asleep = False
    for step, desc in rows:
        action = desc.split(" @ ")[0].strip()
        if "sleep" in action.lower():
            asleep = True
        elif asleep:
            return (start + timedelta(seconds=10 * step)).strftime("%H:%M"), action
    return None


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    storage = tmp_path_factory.mktemp("story") / "storage"
    storage.mkdir()
    return {
        "early": _run(storage, "early", datetime(2023, 2, 13, 5, 55), 450),  # Isabella 6:00, Klaus 7:00
        "late": _run(storage, "late", datetime(2023, 2, 13, 7, 55), 60),  # Maria wakes at 8:00
        "lunch": _run(storage, "lunch", datetime(2023, 2, 13, 11, 50), 240),  # chats
    }


def test_the_story_names_each_residents_first_activity_after_waking(runs):
    woke = {}
    for key, start, who in (
        ("early", datetime(2023, 2, 13, 5, 55), ("Isabella Rodriguez", "Klaus Mueller")),
        ("late", datetime(2023, 2, 13, 7, 55), ("Maria Lopez",)),
    ):
        text = write_story(runs[key]).read_text()
        for name in who:
            first = _first_after_waking(runs[key], name, start)
            assert first is not None, f"{name} wakes during the {key} run"
            woke[name] = first
            assert f"{name} woke at {first[0]} and started with {first[1]}" in text
            assert f"- **{first[0]}** woke up and started {first[1]}" in text
    assert sorted(woke) == sorted(NAMES3)
    assert woke["Isabella Rodriguez"][0] == "06:00" and woke["Klaus Mueller"][0] == "07:00"
    assert woke["Maria Lopez"][0] == "08:00"


def test_the_story_names_each_chat_partner_and_topic(runs):
    folder = runs["lunch"]
    chats = (
        sqlite3.connect(folder / "sim.db")
        .execute("SELECT agent, record FROM memories WHERE json_extract(record, '$.type') = 'chat'")
        .fetchall()
    )
    assert chats, "the residents talk over lunch"
    text = write_story(folder).read_text()
    sections = {s.split("\n", 1)[0]: s for s in text.split("\n## ")[1:]}
    for agent, rec in chats:
        r = json.loads(rec)
        assert f"talked with {r['object']}: {r['description']}" in sections[agent]
        assert f"{r['object']} ({r['description']})" in sections[agent].split("\n\n")[1]  # the summary line


def test_the_story_command_writes_story_md_and_prints_the_short_form(runs):
    folder = runs["early"]
    runner = CliRunner()
    result = runner.invoke(app, ["story", "early", "--storage", str(folder.parent), "--short"])
    assert result.exit_code == 0, result.output
    assert f"wrote {folder / 'story.md'}" in result.output
    assert "Isabella Rodriguez woke at 06:00" in result.output
    result = runner.invoke(app, ["story", str(folder), "--resident", "Klaus Mueller"])
    assert result.exit_code == 0, result.output
    text = (folder / "story.md").read_text()
    assert "## Klaus Mueller" in text and "## Isabella Rodriguez" not in text
    result = runner.invoke(app, ["story", "early", "--storage", str(folder.parent), "--resident", "Nobody"])
    assert isinstance(result.exception, InputError) and "has no resident 'Nobody'" in str(result.exception)
    result = runner.invoke(app, ["story", "ghost", "--storage", str(folder.parent)])
    assert isinstance(result.exception, InputError) and "no simulation 'ghost'" in str(result.exception)
