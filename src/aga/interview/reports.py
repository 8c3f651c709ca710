"""Answer files: ``<sim>/eval/questions-<set>-<step>.json`` and ``.md``, and ``<sim>_question.txt``."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from aga.interview.answer import AnswerRecord, records_by_resident
from aga.interview.snapshot import SimSnapshot

EVAL_DIR = "eval"


def memory_texts(folder: Path, records: Sequence[AnswerRecord]) -> dict[tuple[str, int], str]:
    """(resident, memory id) -> the memory's text, for the memories the answers used."""
    wanted: dict[str, set[int]] = {}
    for r in records:
        wanted.setdefault(r.resident, set()).update(r.memory_ids)
    out: dict[tuple[str, int], str] = {}
    with SimSnapshot(folder) as snap:
        for name, ids in wanted.items():
            for rec in snap.store.memory_records(name):
                if int(rec["id"]) in ids:
                    out[(name, int(rec["id"]))] = str(rec["description"])
    return out


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def report_data(
    folder: Path,
    set_name: str,
    step: int,
    records: Sequence[AnswerRecord],
    texts: Mapping[tuple[str, int], str],
) -> dict[str, Any]:
    """The JSON report: the set, the step and one entry per answer with the memories it used."""
    return {
        "sim": folder.name,
        "set": set_name,
        "step": step,
        "answers": [
            {
                **r.to_dict(),
                "memories": [{"id": i, "text": texts.get((r.resident, i), "")} for i in r.memory_ids],
            }
            for r in records
        ],
    }


def write_question_reports(
    folder: Path, set_name: str, step: int, records: Sequence[AnswerRecord]
) -> tuple[Path, Path]:
    """Write ``<sim>/eval/questions-<set>-<step>.json`` and ``.md``; returns both paths."""
    texts = memory_texts(folder, records)
    data = report_data(folder, set_name, step, records, texts)
    base = folder / EVAL_DIR / f"questions-{set_name}-{step}"
    json_path = _write(base.with_suffix(".json"), json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    lines = [f"# {folder.name}: question set `{set_name}` at step {step}", ""]
    for name, recs in records_by_resident(records).items():
        lines += [f"## {name}", ""]
        for r in recs:
            answer = r.answer or f"*(no answer: {r.error})*"
            lines += [f"**Q:** {r.question}", "", f"**A:** {answer}", ""]
            used = "; ".join(f"[{i}] {texts.get((name, i), '')}" for i in r.memory_ids[:5])
            lines += [
                f"<sub>model {r.model}, {r.prompt_tokens} tokens in / {r.completion_tokens} out;"
                f" memories used ({len(r.memory_ids)}): {used}</sub>",
                "",
            ]
    md_path = _write(base.with_suffix(".md"), "\n".join(lines))
    return json_path, md_path


def question_txt(records: Sequence[AnswerRecord]) -> str:
    """The affordable fork's ``<sim>_question.txt``: one block per resident, questions and answers."""
    blocks = []
    for name, recs in records_by_resident(records).items():
        lines = [f"=== {name} ==="]
        for r in recs:
            lines += [f"Q: {r.question}", f"A: {r.answer or '(no answer: ' + str(r.error) + ')'}"]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def write_question_txt(sim: str, records: Sequence[AnswerRecord], where: Path | None = None) -> Path:
    """Write ``<sim>_question.txt`` in ``where`` (default: the current folder)."""
    return _write((where or Path.cwd()) / f"{sim}_question.txt", question_txt(records))
