"""Planning: the day's schedule, decomposition, and place choice among known places only."""

from __future__ import annotations

import asyncio
from datetime import datetime

from aga.minds import Resident
from aga.minds.plan import choose_place, decompose_ahead, next_action, sector_options, start_day
from aga.minds.schedule import total

from .driver import make_ctx, with_rules

DAY = datetime(2023, 2, 13, 0, 0, 0)


def _klaus(town, personas) -> Resident:  # type: ignore[no-untyped-def]
    return Resident.from_persona(personas["Klaus Mueller"], town)


def test_a_planned_day_covers_1440_minutes_and_is_remembered(town, personas, scripted) -> None:  # type: ignore[no-untyped-def]
    r = _klaus(town, personas)
    gw = scripted()
    asyncio.run(start_day(r, make_ctx(town, gw, [r], DAY)))
    assert total(r.schedule) == 1440 and all(row.minutes > 0 for row in r.schedule)
    assert r.schedule[0].description == "sleeping" and r.schedule[0].minutes == r.wake_hour * 60  # type: ignore[operator]
    assert r.wake_hour == 7  # "wakes up around 7 am"
    plans = [n for n in r.memory if n.predicate == "plan"]
    assert len(plans) == 1 and "plan" in plans[0].keywords and plans[0].importance == 5
    assert plans[0].expiration is not None
    tasks = [row.task for row in gw.ledger.drain() if row.kind == "llm"]
    assert tasks == ["wake_up_hour", "daily_plan"]


def test_an_unusable_plan_falls_back_without_writing_memory(town, personas, scripted) -> None:  # type: ignore[no-untyped-def]
    r = _klaus(town, personas)
    gw = scripted(
        with_rules(daily_plan=lambda req, rng: "I would rather not say", wake_up_hour=lambda req, rng: "?")
    )
    asyncio.run(start_day(r, make_ctx(town, gw, [r], DAY)))
    assert total(r.schedule) == 1440 and all(row.minutes > 0 for row in r.schedule)
    assert r.wake_hour == 7  # read from the lifestyle text when the model fails
    assert any("breakfast" in row.description for row in r.schedule)
    assert not [n for n in r.memory if n.predicate == "plan"]
    rows = [row for row in gw.ledger.drain() if row.kind == "llm"]
    assert [row.defaulted for row in rows if row.task == "daily_plan"][-1] is True


def test_with_plan_rules_the_days_work_follows_breakfast_and_lunch(town, personas, scripted) -> None:  # type: ignore[no-untyped-def]
    from aga.minds import MindConfig

    plan = {"items": [{"activity": "having breakfast", "hour": 7}, {"activity": "having lunch", "hour": 12},
                      {"activity": "working on his essay in the library", "hour": 16},
                      {"activity": "having dinner", "hour": 18}, {"activity": "going to bed", "hour": 22}]}  # fmt: skip
    hours = {}
    for rules in (True, False):
        r = _klaus(town, personas)
        gw = scripted(with_rules(daily_plan=lambda req, rng: plan))
        asyncio.run(start_day(r, make_ctx(town, gw, [r], DAY, config=MindConfig(plan_rules=rules))))
        hours[rules] = [(row.description, row.minutes) for row in r.hourly[1:4]]
    assert hours[True] == [
        ("having breakfast", 60),
        ("working on his essay in the library", 240),
        ("having lunch", 60),
    ]
    assert hours[False] == [("having breakfast", 60), ("relaxing at home", 240), ("having lunch", 60)]


def _odd_decomposition(request, rng):  # type: ignore[no-untyped-def]
    size = int(request.vars["minutes"])
    if size % 2:
        return {"subtasks": [{"activity": "x", "minutes": 120}]}
    most = int(request.vars["count"]) + 2  # the most steps the schema admits, all too short
    return {"subtasks": [{"activity": f"step {i}", "minutes": 5} for i in range(most)]}


def test_decomposition_minutes_always_add_up(town, personas, scripted) -> None:  # type: ignore[no-untyped-def]
    r = _klaus(town, personas)
    gw = scripted(with_rules(task_decomp=_odd_decomposition))
    ctx = make_ctx(town, gw, [r], DAY)
    asyncio.run(start_day(r, ctx))
    for hour in range(7, 23):
        asyncio.run(decompose_ahead(r, make_ctx(town, gw, [r], DAY.replace(hour=hour)), hour * 60))
        assert total(r.schedule) == 1440 and all(row.minutes > 0 for row in r.schedule)
    subtasks = [row for row in r.schedule if row.parent not in ("root", "react")]
    assert subtasks and all(row.description.startswith(f"{row.parent} (") for row in subtasks)


def test_places_are_chosen_among_known_ones_only(town, personas, scripted) -> None:  # type: ignore[no-untyped-def]
    r = _klaus(town, personas)
    options = sector_options(r)
    assert options[0] == "Dorm for Oak Hill College"
    assert not [s for s in options if s.endswith(("'s apartment", "'s house"))]
    seen = []

    def watch(request, rng):  # type: ignore[no-untyped-def]
        seen.append((request.task, request.choices))

    gw = scripted(with_rules(action_sector=watch, action_arena=watch, action_object=watch))
    for activity in ("studying in the library at Oak Hill College", "having lunch at Hobbs Cafe", "sleeping"):
        address = asyncio.run(choose_place(r, make_ctx(town, gw, [r], DAY), activity))
        _world, sector, arena, obj = address.split(":")
        assert r.spatial.knows(sector, arena, obj)
        assert town.has_address(address)
    arena_choices = [c for t, c in seen if t == "action_arena"]
    assert all("Maria Lopez's room" not in c for c in arena_choices)


def test_an_unknown_place_falls_back_home_and_is_marked_defaulted(town, personas, scripted) -> None:  # type: ignore[no-untyped-def]
    r = _klaus(town, personas)
    nowhere = lambda request, rng: "the Moon Base"
    gw = scripted(with_rules(action_sector=nowhere, action_arena=nowhere))
    address = asyncio.run(choose_place(r, make_ctx(town, gw, [r], DAY), "studying in the library"))
    assert address.startswith(r.identity.living_area + ":")
    rows = [row for row in gw.ledger.drain() if row.task in ("action_sector", "action_arena")]
    assert [row.defaulted for row in rows if row.defaulted] == [True, True]


def test_next_action_starts_the_row_of_the_current_minute(town, personas, scripted) -> None:  # type: ignore[no-untyped-def]
    r = _klaus(town, personas)
    gw = scripted()
    at = DAY.replace(hour=12, minute=10)
    asyncio.run(next_action(r, make_ctx(town, gw, [r], at)))
    assert r.action is not None and r.action.start == at and r.action.end > at
    assert "lunch" in r.action.description
    log = r.drain_action_log()
    assert log[-1]["task"] == r.action.description and log[-1]["time"] == "2023-02-13 12:10:00"
    assert log[-1]["parent"] in ("root", "having lunch at Hobbs Cafe", "having lunch at home")


def test_a_new_day_revises_the_status_and_plans_again(town, personas, scripted) -> None:  # type: ignore[no-untyped-def]
    from .driver import Driver

    plan = {
        "items": [
            {"hour": 7, "activity": "waking up"},
            {"hour": 8, "activity": "studying in the library"},
            {"hour": 22, "activity": "sleeping"},
        ]
    }
    gw = scripted(
        with_rules(
            new_day_revision=lambda req, rng: {
                "currently": "Klaus Mueller is about to finish his paper.",
                "daily_requirements": "finish the paper",
            },
            daily_plan=lambda req, rng: plan,
            wake_up_hour=lambda req, rng: {"hour": 7},
        )
    )
    r = _klaus(town, personas)
    d = Driver(town, gw, {r.name: r}, datetime(2023, 2, 13, 23, 50, 0))
    asyncio.run(d.run(30))  # to 23:55, asleep
    assert r.sleeping and r.day == DAY.date()
    sleep_started = r.action.start  # type: ignore[union-attr]
    gw.ledger.drain()
    asyncio.run(d.run(60))  # past midnight
    tasks = [row.task for row in gw.ledger.drain() if row.kind == "llm"]
    assert tasks[:4] == ["new_day_review", "new_day_revision", "wake_up_hour", "daily_plan"]
    assert "action_sector" not in tasks  # still asleep: the same action goes on, nothing to ground
    assert r.day == datetime(2023, 2, 14).date() and r.sleeping
    assert r.action.start == sleep_started and r.action.end == datetime(2023, 2, 14, 7, 0, 0)  # type: ignore[union-attr]
    assert r.identity.currently == "Klaus Mueller is about to finish his paper."
    assert r.identity.daily_plan_req == "finish the paper"
    assert len([n for n in r.memory if n.predicate == "plan"]) == 2
    assert total(r.schedule) == 1440


def test_hours_read_from_lifestyle_texts() -> None:
    from aga.minds.plan import bed_hour_from_lifestyle, wake_hour_from_lifestyle

    text = "Klaus goes to bed around 11 pm and wakes up around 7 am; eats breakfast around 7:30 am"
    assert (wake_hour_from_lifestyle(text), bed_hour_from_lifestyle(text)) == (7, 23)
    assert (
        wake_hour_from_lifestyle("goes to bed around 2am, wakes at 10am"),
        bed_hour_from_lifestyle("goes to bed around 2am, wakes at 10am"),
    ) == (10, 24)
    assert bed_hour_from_lifestyle("Goes to bed around 9pm") == 21
    assert (wake_hour_from_lifestyle("no habits"), bed_hour_from_lifestyle("no habits")) == (7, 23)


def test_an_implausible_wake_up_hour_is_replaced_by_the_lifestyle_hour(town, personas, scripted) -> None:  # type: ignore[no-untyped-def]
    r = _klaus(town, personas)
    gw = scripted(with_rules(wake_up_hour=lambda req, rng: {"hour": 23}))
    asyncio.run(start_day(r, make_ctx(town, gw, [r], DAY)))
    assert r.wake_hour == 7 and r.schedule[0].minutes == 7 * 60


def test_steps_that_copy_other_plan_items_are_dropped(town, personas, scripted) -> None:  # type: ignore[no-untyped-def]
    from aga.minds.plan import decompose_activity
    from aga.minds.schedule import Row

    copied = {
        "subtasks": [
            {"activity": "Wake up at 6:00 AM", "minutes": 30},
            {"activity": "go to bed", "minutes": 30},
        ]
    }
    mixed = {
        "subtasks": [
            {"activity": "opening the cafe", "minutes": 30},
            {"activity": "Go to bed at 11 pm", "minutes": 30},
            {"activity": "serving customers", "minutes": 60},
        ]
    }
    r = _klaus(town, personas)
    r.hourly = [Row("get up", 120), Row("go to work", 900), Row("go to bed", 420)]
    for answer, expected in (
        (copied, ["go to work"]),
        (mixed, ["go to work (opening the cafe)", "go to work (serving customers)"]),
    ):
        gw = scripted(with_rules(task_decomp=lambda req, rng, a=answer: a))
        rows = asyncio.run(decompose_activity(r, make_ctx(town, gw, [r], DAY), "go to work", 900, 120))
        assert [row.description for row in rows] == expected and total(rows) == 900


def test_steps_copied_from_the_prompts_example_are_re_asked(town, personas, scripted) -> None:  # type: ignore[no-untyped-def]
    # Maria's "preparing for physics exam" came back as the bakery example of the prompt
    from aga.minds.plan import decompose_activity, decomposition_problem
    from aga.minds.schedule import Row
    from aga.prompts.tasks import TaskDecomp

    bakery = {"subtasks": [{"activity": "unlocking the door and turning on the lights", "minutes": 10},
                           {"activity": "Mixing the dough", "minutes": 20},
                           {"activity": "shaping the loaves", "minutes": 25}]}  # fmt: skip
    study = {"subtasks": [{"activity": "reviewing lecture notes", "minutes": 20},
                          {"activity": "solving practice problems", "minutes": 20},
                          {"activity": "checking the answers", "minutes": 20}]}  # fmt: skip
    copied = TaskDecomp.model_validate(bakery)
    problem = decomposition_problem(copied, "preparing for physics exam", [], 3)
    assert problem and "example" in problem and "mixing the dough" in problem.lower()
    assert decomposition_problem(copied, "working at the bakery", [], 3) is None  # the example's own work
    asked: list[str] = []

    def decomp(request, rng):  # type: ignore[no-untyped-def]
        asked.append(request.user)
        return bakery if len(asked) == 1 else study

    r = _klaus(town, personas)
    r.hourly = [Row("sleeping", 480), Row("preparing for physics exam", 60), Row("going to bed", 900)]
    gw = scripted(with_rules(task_decomp=decomp))
    rows = asyncio.run(
        decompose_activity(r, make_ctx(town, gw, [r], DAY), "preparing for physics exam", 60, 480)
    )
    assert len(asked) == 2 and "example" in asked[1]
    assert [row.description for row in rows] == [
        f"preparing for physics exam ({s['activity']})" for s in study["subtasks"]
    ]
