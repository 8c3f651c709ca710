"""The real embedded model: a whispered fact diffuses to the resident told, and only to them.

Forks the 3-resident base on the embedded model, whispers Isabella's party to Klaus right after
the fork (his memory then holds it at step 0), and asks Klaus and Maria the diffusion set
through the same path as ``aga ask``. Loads the 1.5B model once; eight short calls.
Deselect with ``-m "not embedded"``.
"""

from __future__ import annotations

import asyncio
import re

import pytest

from aga.gateway import build_gateway
from aga.interview import DIFFUSION, answer_questions
from aga.interview.whisper import Whisper, whisper
from aga.runner.lifecycle import RunSettings, fork

from .conftest import BASE3, PARTY

# eight real calls take 1-2 minutes on an idle 2-core machine; a loaded one needs far more
pytestmark = [pytest.mark.embedded, pytest.mark.timeout(1800)]

DETAILS = ("hobbs cafe", "february 14", "5 to 7", "5 pm", "5pm")
DENIAL = re.compile(r"\b(not|no|never|nothing|unaware)\b|n't\b", re.IGNORECASE)


def first_sentence(text: str) -> str:
    return re.split(r"(?<=[.!?])\s", text.strip(), maxsplit=1)[0]


def claims_to_know(answer: str) -> bool:
    """The answer names a detail of the party and its first sentence does not deny knowing."""
    low = answer.lower()
    return any(d in low for d in DETAILS) and not DENIAL.search(first_sentence(answer))


@pytest.fixture(scope="module")
def asked(tmp_path_factory):
    storage = tmp_path_factory.mktemp("storage")
    folder = fork(BASE3, storage, "party", settings=RunSettings(llm="embedded"))

    async def go():
        gw = build_gateway("embedded", embed="embedded")
        told = await whisper(folder, [Whisper("Klaus Mueller", PARTY)], gateway=gw)
        records = await answer_questions(
            folder, DIFFUSION.texts, residents=["Klaus Mueller", "Maria Lopez"], gateway=gw
        )
        return told, records

    told, records = asyncio.run(go())
    print(f"\nwhisper thought of Klaus: {told[0].thought!r} (importance {told[0].importance})")
    for r in records:
        print(f"{r.resident} | {r.question}\n    recalled: {r.recalled!r}\n    answer: {r.answer!r}")
    return told, {(r.resident, r.question): r for r in records}


def test_the_whisper_became_klauss_thought(asked) -> None:
    told, _ = asked
    assert "hobbs cafe" in told[0].thought.lower()


def test_klaus_knows_of_the_party_and_names_hobbs_cafe(asked) -> None:
    _, by = asked
    answer = by[("Klaus Mueller", DIFFUSION.texts[0])].answer
    assert "hobbs cafe" in answer.lower() and claims_to_know(answer), answer


def test_maria_who_was_not_told_does_not_claim_to_know(asked) -> None:
    _, by = asked
    answer = by[("Maria Lopez", DIFFUSION.texts[0])].answer
    assert answer and not claims_to_know(answer), answer


def test_every_question_got_an_answer(asked) -> None:
    _, by = asked
    assert len(by) == 6 and all(r.answer and r.model.startswith("qwen") for r in by.values())
