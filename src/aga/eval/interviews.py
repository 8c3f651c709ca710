"""The interview checks: ask the residents (through :mod:`aga.interview`) and grade the claims.

- Diffusion: each fact's ``question`` at step N; an answer that claims to know the fact is a
  *hallucinated knower* when no memory of the resident (up to N) carries it.
- Relationships: "Do you know B? What do you know of them?" for ordered pairs; a claim is
  unsupported when no memory (or tie) of A names B.

Answers are cached in ``<sim>/eval/interviews.json`` by (step, resident, question, model), so a
second ``aga eval`` asks nothing new. With the report folder outside the simulation (``--out``),
nothing is written into the simulation (the calls are not added to its interview ledger). Grading is pure (:func:`grade_diffusion`,
:func:`grade_relationships`) so tests pass answers by hand.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from aga.eval.diffusion import knowers_from_memories
from aga.eval.records import SimRecords
from aga.eval.social import claims_knowledge, known_pairs, unsupported_share

CACHE_FILE = "interviews.json"
KNOW_QUESTION = "Do you know {other}? If you do, what do you know of them?"


def interview_available() -> bool:
    """Whether the interview module (issue 8) is installed in this tree."""
    try:
        import aga.interview  # noqa: F401
    except ImportError:
        return False
    return True


def relationship_questions(rec: SimRecords, max_others: int) -> dict[str, list[str]]:
    """Per resident, the 'do you know B' questions about up to ``max_others`` others (name order,
    starting after oneself, so every resident is asked about by someone)."""
    names = rec.residents
    out: dict[str, list[str]] = {}
    for i, a in enumerate(names):
        others = [names[(i + k) % len(names)] for k in range(1, len(names))][:max_others]
        out[a] = [KNOW_QUESTION.format(other=b) for b in others]
    return out


def _other_of(question: str) -> str:
    head = KNOW_QUESTION.split("{other}")[0]
    rest = question[len(head) :]
    return rest.split("?")[0]


def grade_diffusion(rec: SimRecords, answers: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Per fact: claimed knowers, those with a memory behind them and hallucinated ones.

    Args:
        rec: the records up to the interview step.
        answers: ``{"fact", "resident", "answer"}`` per answer.
    """
    out = []
    for fact in rec.facts:
        mine = [a for a in answers if a["fact"] == fact.name]
        if not mine:
            continue
        memory = knowers_from_memories(rec, fact.words)
        claimed = sorted(a["resident"] for a in mine if a.get("answer") and claims_knowledge(a["answer"]))
        out.append(
            {
                "fact": fact.name,
                "asked": len(mine),
                "claimed": claimed,
                "supported": sorted(r for r in claimed if r in memory),
                "hallucinated": sorted(r for r in claimed if r not in memory),
                "denied_but_known": sorted(
                    a["resident"]
                    for a in mine
                    if a["resident"] in memory and a.get("answer") and not claims_knowledge(a["answer"])
                ),
            }
        )
    return out


def grade_relationships(rec: SimRecords, answers: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Claims of knowing another resident, and the share of them no memory or tie supports.

    Args:
        answers: ``{"resident", "other", "answer"}`` per answer.
    """
    pairs = known_pairs(rec)
    claims = [
        {
            "claims": bool(a.get("answer")) and claims_knowledge(a["answer"]),
            "supported": (a["resident"], a["other"]) in pairs,
            "resident": a["resident"],
            "other": a["other"],
        }
        for a in answers
    ]
    summary = unsupported_share(claims)
    summary["unsupported_pairs"] = [
        [c["resident"], c["other"]] for c in claims if c["claims"] and not c["supported"]
    ]
    summary["asked"] = len(answers)
    return summary


def _load_cache(folder: Path) -> dict[str, dict[str, Any]]:
    path = folder / CACHE_FILE
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def _key(step: int, resident: str, question: str, model: str) -> str:
    return f"{step}|{resident}|{model}|{question}"


def ask(
    sim_dir: Path, out_dir: Path, per_resident: Mapping[str, Sequence[str]], step: int, llm: str | None
) -> list[dict[str, Any]]:
    """Ask each resident its questions at ``step`` (cached answers reused); returns answer dicts
    ``{"resident", "question", "answer", "memory_ids", "model", "tokens", "cached"}``."""
    from aga.interview import answer_questions_sync

    cache = _load_cache(out_dir)
    model = llm or "sim"
    out: list[dict[str, Any]] = []
    for resident, questions in per_resident.items():
        todo = [q for q in questions if _key(step, resident, q, model) not in cache]
        if todo:
            inside = out_dir.resolve().is_relative_to(
                sim_dir.resolve()
            )  # else nothing is written into the sim
            for r in answer_questions_sync(
                sim_dir, todo, residents=[resident], step=step, llm=llm, record=inside
            ):
                cache[_key(step, resident, r.question, model)] = {
                    "resident": r.resident,
                    "question": r.question,
                    "answer": r.answer,
                    "memory_ids": list(r.memory_ids),
                    "model": r.model,
                    "tokens": int(r.prompt_tokens) + int(r.completion_tokens),
                    "error": r.error,
                }
        for q in questions:
            hit = cache.get(_key(step, resident, q, model))
            if hit is not None:
                out.append({**hit, "cached": q not in todo})
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / CACHE_FILE).write_text(
        json.dumps(cache, ensure_ascii=False, indent=1, sort_keys=True), encoding="utf-8"
    )
    return out


def interview_report(
    rec: SimRecords, sim_dir: Path, out_dir: Path, *, step: int, llm: str | None, max_others: int = 3
) -> dict[str, Any]:
    """Ask the diffusion and relationship questions and grade them (the interview check)."""
    if rec.kind != "aga":
        return {"skipped": "an imported replay has no minds to ask"}
    if not interview_available():
        return {"skipped": "the interview module (aga.interview, issue 8) is not installed"}
    fact_q = {f.name: f.question for f in rec.facts if f.question}
    know_q = relationship_questions(rec, max_others)
    per = {a: [*fact_q.values(), *know_q[a]] for a in rec.residents}
    got = ask(sim_dir, out_dir, per, step, llm)
    by_q = {q: name for name, q in fact_q.items()}
    diffusion = [{"fact": by_q[a["question"]], **a} for a in got if a["question"] in by_q]
    relations = [{"other": _other_of(a["question"]), **a} for a in got if a["question"] not in by_q]
    return {
        "step": step,
        "answers": got,
        "diffusion": grade_diffusion(rec, diffusion),
        "relationships": grade_relationships(rec, relations),
        "tokens": sum(int(a.get("tokens") or 0) for a in got if not a.get("cached")),
    }
