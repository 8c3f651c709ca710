"""The original's recorded two-day run (read in place, read-only) reproduces the figures counted
from it for February 13: 8 conversations (5 of them 16 lines long), the party told to Klaus at
11:22 and to Maria at 15:19, Isabella at Hobbs Cafe for 67 % of 09:00-12:00, 60 to 92 distinct
activities per resident."""

from __future__ import annotations

from pathlib import Path

import pytest
from reference_data import require

from aga.eval import load_sim
from aga.eval.report import build

REPO = Path(__file__).resolve().parents[2]
RUN = (
    REPO.parent
    / "shared"
    / "reference"
    / "generative_agents"
    / "environment"
    / "frontend_server"
    / "compressed_storage"
    / "July1_the_ville_isabella_maria_klaus-step-3-20"
)


@pytest.fixture(scope="module")
def report() -> dict:
    require(RUN / "master_movement.json", "the original's recorded run")  # a failure under CI
    return build(load_sim(RUN))


def test_conversations_of_february_13(report: dict) -> None:
    day = report["realism"]["2023-02-13"]
    assert day["conversations"] == 8
    assert sorted(day["conversation_lines"]) == [2, 2, 3, 16, 16, 16, 16, 16]


def test_party_told_to_klaus_and_maria(report: dict) -> None:
    (party,) = report["diffusion"]
    assert party["basis"] == "chats"
    assert party["knowers"]["Klaus Mueller"]["since"] == "2023-02-13 11:22:30"
    assert party["knowers"]["Klaus Mueller"]["source"] == "Isabella Rodriguez"
    assert party["knowers"]["Maria Lopez"]["since"] == "2023-02-13 15:19:10"
    assert party["knowers"]["Isabella Rodriguez"]["via"] == "seed"


def test_isabella_at_the_cafe_and_activities(report: dict) -> None:
    people = report["realism"]["2023-02-13"]["residents"]
    assert people["Isabella Rodriguez"]["work_share_9_12"] == pytest.approx(0.667, abs=0.0005)
    shares = {n: round(p["work_share_9_17"], 3) for n, p in people.items()}  # 9-17 at the workplace
    assert shares == {"Isabella Rodriguez": 0.581, "Klaus Mueller": 0.512, "Maria Lopez": 0.179}
    assert {n: p["activities"] for n, p in people.items()} == {
        "Isabella Rodriguez": 92,
        "Klaus Mueller": 60,
        "Maria Lopez": 76,
    }


def test_replay_has_no_cost_nor_density(report: dict) -> None:
    assert report["cost"]["basis"].startswith("none")
    assert report["relationships"]["density_end"] is None
