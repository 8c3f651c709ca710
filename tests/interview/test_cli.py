"""`aga interview`, `aga ask`, `aga metrics` and `reverie_offline.py -c / -q` on the scripted test model."""

from __future__ import annotations

import json
import sys

from aga.interview.snapshot import SimSnapshot

from .conftest import ROOT, aga, digest


def _one_line(stderr: str) -> str:
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, stderr
    return lines[0]


def test_interview_messages_as_json_and_the_store_unchanged(told_sim) -> None:
    folder, _ = told_sim
    before = digest(folder)
    proc = aga(
        folder.parent,
        "interview",
        folder.name,
        "Klaus Mueller",
        "--json",
        "-m",
        "Have you heard of a Valentine's Day party at Hobbs Cafe?",
        "-m",
        "Who is Maria Lopez?",
    )
    assert proc.returncode == 0, proc.stderr
    answers = json.loads(proc.stdout)
    assert [a["resident"] for a in answers] == ["Klaus Mueller", "Klaus Mueller"]
    assert "Hobbs Cafe" in answers[0]["answer"] and answers[0]["memory_ids"]
    assert digest(folder) == before
    metrics = aga(folder.parent, "metrics", folder.name)
    assert metrics.returncode == 0 and "interview_answer" in metrics.stdout


def test_unknown_resident_and_step_exit_2_with_one_line(told_sim) -> None:
    folder, _ = told_sim
    proc = aga(folder.parent, "interview", folder.name, "Kane Martinez", "-m", "hi")
    assert proc.returncode == 2
    assert "Kane Martinez" in _one_line(proc.stderr) and "Maria Lopez" in proc.stderr
    proc = aga(folder.parent, "interview", folder.name, "Maria Lopez", "--step", "500", "-m", "hi")
    assert proc.returncode == 2 and "0..11" in _one_line(proc.stderr)
    proc = aga(folder.parent, "ask", folder.name, "--questions", "diffusion", "--residents", "Nobody Here")
    assert proc.returncode == 2 and "Nobody Here" in _one_line(proc.stderr)


def test_interactive_commands_show_state_without_a_model_call(told_sim) -> None:
    folder, _ = told_sim
    ledger = folder / "interviews" / "ledger.jsonl"
    calls_before = ledger.read_text().count('"interview_answer"') if ledger.exists() else 0
    proc = aga(
        folder.parent, "interview", folder.name, "Klaus Mueller", stdin="/who\n/plan\n/memories party\n/bye\n"
    )
    assert proc.returncode == 0, proc.stderr
    assert "Name: Klaus Mueller" in proc.stdout and "Klaus Mueller is" in proc.stdout
    assert "plan for" in proc.stdout
    assert "heard that Isabella is hosting" in proc.stdout
    calls_after = ledger.read_text().count('"interview_answer"') if ledger.exists() else 0
    assert calls_after == calls_before


def test_remember_stores_one_chat_memory_at_the_step(sim_copy) -> None:
    with SimSnapshot(sim_copy) as snap:
        count = len(snap.store.memory_records("Maria Lopez"))
        when = snap.time_of(7).strftime("%Y-%m-%d %H:%M:%S")
    proc = aga(
        sim_copy.parent,
        "interview",
        sim_copy.name,
        "Maria Lopez",
        "--step",
        "7",
        "--remember",
        "-m",
        "What are you studying?",
    )
    assert proc.returncode == 0, proc.stderr
    with SimSnapshot(sim_copy) as snap:
        records = snap.store.memory_records("Maria Lopez")
        ledger = snap.store.ledger_rows()
    assert len(records) == count + 1
    new = records[-1]
    assert new["type"] == "chat" and new["object"] == "Interviewer" and new["created"] == when
    assert new["filling"][0] == ["Interviewer", "What are you studying?"]
    assert new["description"].startswith("Maria Lopez is talking with an interviewer")
    assert any(r["task"] == "interview_memory" for r in ledger)


def test_ask_writes_the_report_files(told_sim) -> None:
    folder, _ = told_sim
    proc = aga(folder.parent, "ask", folder.name, "--questions", "diffusion", "--step", "9")
    assert proc.returncode == 0, proc.stderr
    data = json.loads((folder / "eval" / "questions-diffusion-9.json").read_text())
    assert data["step"] == 9 and len(data["answers"]) == 9
    klaus = [a for a in data["answers"] if a["resident"] == "Klaus Mueller"][0]
    assert "Hobbs Cafe" in klaus["answer"]
    assert any("Isabella is hosting" in m["text"] for m in klaus["memories"])
    md = (folder / "eval" / "questions-diffusion-9.md").read_text()
    assert "## Maria Lopez" in md and "**Q:**" in md


def test_reverie_offline_q_writes_question_txt_in_the_cwd(told_sim, tmp_path) -> None:
    import os
    import subprocess

    folder, _ = told_sim
    env = {**os.environ, "COLUMNS": "200"}
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "reverie_offline.py"),
            "-t",
            folder.name,
            "--storage",
            str(folder.parent),
            "-q",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    text = (tmp_path / f"{folder.name}_question.txt").read_text()
    blocks = text.strip().split("\n\n")
    assert [b.splitlines()[0] for b in blocks] == [
        "=== Isabella Rodriguez ===",
        "=== Klaus Mueller ===",
        "=== Maria Lopez ===",
    ]
    assert all(b.count("\nQ: ") == 3 and b.count("\nA: ") == 3 for b in blocks)


def test_reverie_offline_c_opens_the_interview(told_sim, tmp_path) -> None:
    import os
    import subprocess

    folder, _ = told_sim
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "reverie_offline.py"),
            "-t",
            folder.name,
            "--storage",
            str(folder.parent),
            "-c",
            "Klaus Mueller",
        ],
        cwd=tmp_path,
        env={**os.environ, "COLUMNS": "200"},
        input="Have you heard of the Valentine's Day party?\n",
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Interviewing Klaus Mueller" in proc.stderr and "Hobbs Cafe" in proc.stdout


def test_aga_run_has_no_short_q_any_more(tmp_path) -> None:
    proc = aga(tmp_path, "run", "-t", "x", "-s", "1", "-q")
    assert proc.returncode == 2 and "No such option: -q" in proc.stderr
    assert "--quiet" in aga(tmp_path, "run", "--help").stdout


def test_a_later_run_keeps_the_interview_calls_in_the_metrics(sim_copy) -> None:
    proc = aga(sim_copy.parent, "interview", sim_copy.name, "Maria Lopez", "-m", "How are you?")
    assert proc.returncode == 0, proc.stderr
    proc = aga(sim_copy.parent, "run", "-t", sim_copy.name, "-s", "1", "--quiet")
    assert proc.returncode == 0, proc.stderr
    detail = json.loads((sim_copy / "metrics" / "detail_info.json").read_text())
    tasks = [d["function_name"] for d in detail]
    assert "interview_answer" in tasks and tasks.index("interview_answer") > 0
    counts = json.loads((sim_copy / "metrics" / "function_name_count.json").read_text())
    assert counts["interview_answer"] >= 1


def test_reverie_offline_runs_the_steps_first_then_asks(tmp_path) -> None:
    import os
    import subprocess

    storage = tmp_path / "storage"
    args = ["-o", "base_the_ville_isabella_maria_klaus", "-t", "fresh", "-s", "2", "--llm", "scripted"]
    proc = subprocess.run(
        [sys.executable, str(ROOT / "reverie_offline.py"), *args, "--storage", str(storage), "--quiet", "-q"],
        cwd=tmp_path,
        env={**os.environ, "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    with SimSnapshot(storage / "fresh") as snap:
        assert snap.next_step == 2
    assert (storage / "fresh" / "eval" / "questions-diffusion-1.json").is_file()
    assert (tmp_path / "fresh_question.txt").read_text().count("=== ") == 3
