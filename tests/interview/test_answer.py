"""The answering path on the scripted test model: residents answer from their memories at step N."""

from __future__ import annotations

from datetime import datetime

import pytest

from aga.interview import DIFFUSION, answer_questions_sync, load_question_set
from aga.interview.snapshot import ResidentError, SimSnapshot, StepError
from aga.minds.memory import TIME_FORMAT
from aga.testing.scripted import ScriptedBackend

from .conftest import digest

PARTY_Q = DIFFUSION.texts[0]


def _created(folder, name: str) -> dict[int, datetime]:
    with SimSnapshot(folder) as snap:
        return {
            int(r["id"]): datetime.strptime(r["created"], TIME_FORMAT)
            for r in snap.store.memory_records(name)
        }


def test_told_resident_knows_and_others_do_not(told_sim) -> None:
    folder, _ = told_sim
    records = answer_questions_sync(folder, [PARTY_Q], residents=["Klaus Mueller", "Maria Lopez"])
    klaus, maria = records
    assert klaus.resident == "Klaus Mueller" and "Hobbs Cafe" in klaus.answer
    assert "heard that Isabella is hosting" in klaus.recalled
    assert "not heard" in maria.answer
    assert klaus.model == "scripted" and klaus.prompt_tokens > 50 and klaus.completion_tokens > 0
    with SimSnapshot(folder) as snap:
        assert klaus.step == snap.last_step


def test_an_earlier_step_never_sees_a_later_memory(told_sim) -> None:
    folder, told_step = told_sim
    created = _created(folder, "Klaus Mueller")
    with SimSnapshot(folder) as snap:
        whisper_id = max(
            i
            for i, r in ((int(r["id"]), r) for r in snap.store.memory_records("Klaus Mueller"))
            if "whisper" in r["keywords"]
        )
        before = told_step - 1
        limit = snap.time_of(before)
    [late] = answer_questions_sync(folder, [PARTY_Q], residents=["Klaus Mueller"])
    [early] = answer_questions_sync(folder, [PARTY_Q], residents=["Klaus Mueller"], step=before)
    assert whisper_id in late.memory_ids
    assert whisper_id not in early.memory_ids and early.step == before
    assert early.memory_ids and all(created[i] <= limit for i in early.memory_ids)
    assert "Hobbs Cafe" not in early.answer


def test_answers_leave_the_store_bytes_unchanged_and_count_in_the_metrics(told_sim) -> None:
    folder, _ = told_sim
    before = digest(folder)
    answer_questions_sync(folder, load_question_set("battery").texts[:3], residents=["Maria Lopez"])
    assert digest(folder) == before
    detail = (folder / "metrics" / "detail_info.json").read_text()
    assert '"function_name": "interview_answer"' in detail
    ledger = (folder / "interviews" / "ledger.jsonl").read_text().splitlines()
    assert sum('"task": "interview_answer"' in line for line in ledger) >= 3


def test_placeholders_are_filled_per_resident(told_sim) -> None:
    folder, _ = told_sim
    records = answer_questions_sync(folder, ["Who is {other}, {name}?"], record=False)
    assert [r.question for r in records] == [
        "Who is Klaus Mueller, Isabella Rodriguez?",
        "Who is Isabella Rodriguez, Klaus Mueller?",
        "Who is Isabella Rodriguez, Maria Lopez?",
    ]


def test_a_given_gateway_is_used_and_its_ledger_left_alone(told_sim) -> None:
    from aga.gateway import Gateway
    from aga.testing.hash_embedder import HashEmbedder

    folder, _ = told_sim
    backend = ScriptedBackend()
    gw = Gateway(backend, HashEmbedder())
    answer_questions_sync(folder, [PARTY_Q], residents=["Maria Lopez"], gateway=gw, record=False)
    assert [c.task for c in backend.calls] == ["interview_answer"]
    assert "What Maria Lopez remembers:" in backend.calls[0].user
    assert gw.ledger.drain() == []


def test_a_model_that_never_answers_gives_an_empty_answer_with_the_reason(told_sim) -> None:
    from aga.gateway import Gateway
    from aga.testing.hash_embedder import HashEmbedder

    folder, _ = told_sim
    gw = Gateway(ScriptedBackend(faults=["not json"] * 3), HashEmbedder())
    [rec] = answer_questions_sync(folder, [PARTY_Q], residents=["Maria Lopez"], gateway=gw, record=False)
    assert rec.answer == "" and rec.error and "no usable answer" in rec.error


def test_unknown_resident_and_step_name_the_known_ones(told_sim) -> None:
    folder, _ = told_sim
    with pytest.raises(ResidentError, match="residents: Isabella Rodriguez, Klaus Mueller, Maria Lopez"):
        answer_questions_sync(folder, [PARTY_Q], residents=["Kane Martinez"])
    with pytest.raises(StepError, match=r"its steps are 0\.\.11"):
        answer_questions_sync(folder, [PARTY_Q], step=12)
