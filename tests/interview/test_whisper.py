"""Whispers: from the command line, from the original's history CSV, and right after a fork."""

from __future__ import annotations

import pytest

from aga.errors import InputError
from aga.interview.snapshot import SimSnapshot
from aga.interview.whisper import parse_whispers

from .conftest import BASE3, PARTY, aga, digest, fork_scripted

NAMES = ["Isabella Rodriguez", "Klaus Mueller", "Maria Lopez"]


def test_the_original_history_file_is_read(tmp_path) -> None:
    path = tmp_path / "history.csv"
    path.write_text(
        "Name,Whisper\n"
        "Maria Lopez,You like jazz; You and Klaus Mueller are classmates\n"
        '"Klaus Mueller","Hobbs Cafe, on the corner, is open late"\n'
        "\n"
        "Maria Lopez,You run in the park\n"
        "Klaus Mueller,For planning, you study in the library\n"
    )
    got = [(w.name, w.text, w.where.rsplit(":", 1)[1]) for w in parse_whispers(path, NAMES)]
    assert got == [
        ("Maria Lopez", "You like jazz", "2"),
        ("Maria Lopez", "You and Klaus Mueller are classmates", "2"),
        ("Klaus Mueller", "Hobbs Cafe, on the corner, is open late", "3"),
        ("Maria Lopez", "You run in the park", "5"),
        ("Klaus Mueller", "For planning, you study in the library", "6"),
    ]


@pytest.mark.parametrize(
    "content, message",
    [
        ("Name,Whisper\nKane Martinez,hello\n", ":2: unknown resident 'Kane Martinez'"),
        ("Klaus Mueller\n", ":1: expected 2 columns (Name,Whisper), got 1"),
        ("Maria Lopez;hello\n", ":1: expected 2 columns (Name,Whisper), got 1"),
        ("Maria Lopez, ; \n", ":1: empty whisper for 'Maria Lopez'"),
    ],
)
def test_bad_lines_name_the_file_and_line(tmp_path, content, message) -> None:
    path = tmp_path / "w.csv"
    path.write_text(content)
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")) as info:
        parse_whispers(path, NAMES)
    assert str(info.value).startswith(str(path))


def test_whisper_command_stores_a_rated_embedded_thought(tmp_path) -> None:
    storage = tmp_path / "storage"
    folder = fork_scripted(storage, "w", 3)
    proc = aga(storage, "whisper", "w", "Klaus Mueller", PARTY)
    assert proc.returncode == 0, proc.stderr
    with SimSnapshot(folder) as snap:
        rec = snap.store.memory_records("Klaus Mueller")[-1]
        vectors = snap.store.embeddings(snap.store.embedding_models()[0], [rec["description"]])
        ledger = [r["task"] for r in snap.store.ledger_rows()]
        when = snap.time_of(snap.last_step).strftime("%Y-%m-%d %H:%M:%S")
    assert rec["type"] == "thought" and rec["predicate"] == "was told" and "whisper" in rec["keywords"]
    assert rec["description"].startswith("I heard that Isabella is hosting")
    assert rec["created"] == when and 1 <= rec["poignancy"] <= 10
    assert rec["description"] in vectors
    assert "whisper_thought" in ledger and "whisper_importance" in ledger
    assert '"function_name": "whisper_thought"' in (folder / "metrics" / "detail_info.json").read_text()


def test_bad_whisper_file_stores_nothing(tmp_path) -> None:
    storage = tmp_path / "storage"
    folder = fork_scripted(storage, "w", 2)
    path = tmp_path / "bad.csv"
    path.write_text("Klaus Mueller,fine\nKane Martinez,who?\n")
    before = digest(folder)
    proc = aga(storage, "whisper", "w", "--file", str(path))
    assert proc.returncode == 1
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and f"{path}:2" in lines[0] and "Kane Martinez" in lines[0]
    assert digest(folder) == before


def test_run_with_whispers_tells_them_right_after_the_fork(tmp_path) -> None:
    storage = tmp_path / "storage"
    path = tmp_path / "history.csv"
    path.write_text(f"Name,Whisper\nKlaus Mueller,{PARTY}\n")
    proc = aga(
        storage,
        "run",
        "-o",
        BASE3,
        "-t",
        "told",
        "-s",
        "2",
        "--llm",
        "scripted",
        "--quiet",
        "--whispers",
        str(path),
    )
    assert proc.returncode == 0, proc.stderr
    with SimSnapshot(storage / "told") as snap:
        told = [r for r in snap.store.memory_records("Klaus Mueller") if "whisper" in r["keywords"]]
        start = snap.time_of(0).strftime("%Y-%m-%d %H:%M:%S")
    assert len(told) == 1 and told[0]["created"] == start
    bad = tmp_path / "bad.csv"
    bad.write_text("Klaus Mueller\n")
    proc = aga(
        storage,
        "run",
        "-o",
        BASE3,
        "-t",
        "other",
        "-s",
        "2",
        "--llm",
        "scripted",
        "--quiet",
        "--whispers",
        str(bad),
    )
    assert proc.returncode == 1 and f"{bad}:1" in proc.stderr
    assert not (storage / "other").exists()


def test_the_originals_own_history_file_parses() -> None:
    from reference_data import FRONTEND, require

    path = require(
        FRONTEND / "static_dirs" / "assets" / "the_ville" / "agent_history_init_n3.csv", "history CSV"
    )
    whispers = parse_whispers(path, NAMES)
    by_name = {n: [w.text for w in whispers if w.name == n] for n in NAMES}
    assert [len(by_name[n]) for n in NAMES] == [5, 5, 5]
    assert any("Valentine's Day party" in t for t in by_name["Isabella Rodriguez"])
