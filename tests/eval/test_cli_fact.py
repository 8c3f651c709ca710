"""``aga eval --fact NAME=words`` follows a fact the base does not declare (one told with aga whisper)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from aga.cli.main import app

from .test_cli import KLAUS, hand_store

runner = CliRunner()


def test_extra_fact_is_followed(tmp_path: Path) -> None:
    folder = hand_store(tmp_path / "hand")
    result = runner.invoke(
        app, ["eval", "hand", "--storage", str(tmp_path), "--no-interview", "--fact", "lunch=love|thanks"]
    )
    assert result.exit_code == 0, result.output
    facts = {d["fact"]: d for d in json.loads((folder / "eval" / "report.json").read_text())["diffusion"]}
    assert sorted(facts) == ["lunch", "party"]
    # Klaus said "I'd love to, thanks!" himself: Isabella keeps no chat memory, so nobody heard it
    assert facts["lunch"]["known_by"] == 0
    bad = runner.invoke(app, ["eval", "hand", "--storage", str(tmp_path), "--fact", "nowords"])
    assert bad.exit_code == 2 and "NAME=word,word" in bad.output
    assert KLAUS in facts["party"]["knowers"]


def test_bad_replay_entry_is_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "broken" / "replay"
    folder.mkdir(parents=True)
    (folder / "meta.json").write_text(
        json.dumps({"persona_names": ["A B"], "sec_per_step": 10, "start": "2023-02-13T00:00:00"})
    )
    (folder / "master_movement.json").write_text(json.dumps({"0": {"A B": {"movement": [1, 2]}}}))
    result = runner.invoke(app, ["eval", "broken", "--storage", str(tmp_path), "--no-interview"])
    assert result.exit_code != 0
    assert "step 0, A B: not a movement entry" in str(result.exception)
