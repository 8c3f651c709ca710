"""The interview check on a scripted run, through aga.interview: answers cached, claims graded."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from typer.testing import CliRunner

from aga.cli.main import app
from aga.runner.lifecycle import RunSettings, fork, open_simulation

ISA, MARIA, KLAUS = "Isabella Rodriguez", "Maria Lopez", "Klaus Mueller"
runner = CliRunner()


def test_interviews_graded_and_cached(tmp_path: Path) -> None:
    folder = fork(
        "base_the_ville_isabella_maria_klaus", tmp_path, "talk", settings=RunSettings(llm="scripted")
    )
    sim = open_simulation(folder)
    try:
        asyncio.run(sim.run(30))
    finally:
        sim.close()
    result = runner.invoke(app, ["eval", "talk", "--storage", str(tmp_path), "--max-others", "2"])
    assert result.exit_code == 0, result.output
    iv = json.loads((folder / "eval" / "report.json").read_text())["interviews"]
    assert iv["step"] == 29  # the last committed step
    assert len(iv["answers"]) == 3 * (1 + 2)  # the party question + two others each
    (party,) = iv["diffusion"]
    assert party["asked"] == 3
    # the scripted double answers from the memories it is shown: only Isabella's seed carries the party
    assert party["claimed"] == [ISA] and party["hallucinated"] == []
    rel = iv["relationships"]
    know = [a for a in iv["answers"] if a["question"].startswith("Do you know")]
    assert rel["asked"] == len(know) == 6
    assert rel["claims"] == sum(not a["answer"].startswith("I have not heard") for a in know)
    assert rel["unsupported"] == 0
    assert all(not a["cached"] for a in iv["answers"])
    again = runner.invoke(app, ["eval", "talk", "--storage", str(tmp_path), "--max-others", "2"])
    assert again.exit_code == 0, again.output
    iv2 = json.loads((folder / "eval" / "report.json").read_text())["interviews"]
    assert all(a["cached"] for a in iv2["answers"]) and iv2["tokens"] == 0
    assert [a["answer"] for a in iv2["answers"]] == [a["answer"] for a in iv["answers"]]
