"""--profile original: the original's pipeline call for call (hourly schedule, whole decompositions)."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest

from aga.errors import InputError
from aga.minds import MindConfig, Resident
from aga.minds.plan import decompose_ahead, start_day
from aga.minds.schedule import ROOT, Row, total
from aga.runner.lifecycle import RunSettings
from aga.settings import SAVINGS

from .driver import make_ctx

DAY = datetime(2023, 2, 13, 0, 0, 0)
ORIGINAL = MindConfig(original_pipeline=True)


def test_the_profile_turns_every_feature_and_saving_off() -> None:
    config = RunSettings(profile="original").mind_config()
    assert config.original_pipeline and not config.policy and not config.relationship
    assert not any(getattr(config, name) for name in SAVINGS)
    assert not RunSettings().mind_config().original_pipeline
    with pytest.raises(InputError, match="profile"):
        RunSettings(profile="fastest")


def test_the_day_is_planned_hour_by_hour(town, personas, scripted) -> None:  # type: ignore[no-untyped-def]
    r = Resident.from_persona(personas["Klaus Mueller"], town)
    gw = scripted()
    asyncio.run(start_day(r, make_ctx(town, gw, [r], DAY, config=ORIGINAL)))
    tasks = [row.task for row in gw.ledger.drain() if row.kind == "llm"]
    assert tasks[:2] == ["wake_up_hour", "daily_plan"]
    assert tasks[2:] == ["hourly_schedule"] * (24 - r.wake_hour)  # type: ignore[operator]
    assert total(r.schedule) == 1440 and r.schedule[0].description == "sleeping"


def test_an_activity_is_decomposed_whole_at_the_original_granularity(town, personas, scripted) -> None:  # type: ignore[no-untyped-def]
    r = Resident.from_persona(personas["Klaus Mueller"], town)
    gw = scripted()
    asyncio.run(start_day(r, make_ctx(town, gw, [r], DAY, config=ORIGINAL)))
    r.set_schedule([Row("sleeping", 480), Row("studying in the library", 300), Row("sleeping", 660)])
    r.hourly = list(r.schedule)
    gw.ledger.drain()
    asyncio.run(decompose_ahead(r, make_ctx(town, gw, [r], DAY.replace(hour=8), config=ORIGINAL), 480))
    steps = [row for row in r.schedule if row.parent == "studying in the library"]
    assert sum(row.minutes for row in steps) == 300  # the whole block, not a 3-hour piece
    assert not [
        row for row in r.schedule if row.parent == ROOT and row.description == "studying in the library"
    ]
    assert len(steps) >= 8
