"""Answers that are valid JSON but wrong in a checkable way are re-asked with the reason."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

from aga.gateway import Task
from aga.prompts.tasks import WakeUpHour


def _hour_task(tmp_path: Path) -> Task[WakeUpHour]:
    (tmp_path / "hour_test.txt").write_text("Give an hour.\n---\nFor $name.\n", encoding="utf-8")
    return Task("hour_test", WakeUpHour, max_tokens=16, template_dir=tmp_path)


def test_a_check_failure_is_re_asked_with_the_reason(scripted, tmp_path) -> None:  # type: ignore[no-untyped-def]
    seen: list[str] = []

    def answer(request, rng):  # type: ignore[no-untyped-def]
        seen.append(request.user)
        return {"hour": 12} if len(seen) == 1 else {"hour": 7}

    gw = scripted(answer)
    plain = _hour_task(tmp_path)
    task = replace(plain, check=lambda a: "noon is not a wake-up hour" if a.hour == 12 else None)
    got = asyncio.run(gw.ask(task, {"name": "Klaus"}, agent="Klaus Mueller", game_time=None))
    assert got is not None and got.hour == 7
    assert len(seen) == 2 and "noon is not a wake-up hour" in seen[1]
    rows = [r for r in gw.ledger.drain() if r.kind == "llm"]
    assert [r.ok for r in rows] == [False, True] and rows[0].task == "hour_test"
    assert task == plain  # the check is not part of the task's identity (the metrics key)


def test_an_answer_that_never_passes_its_check_is_not_returned(scripted, tmp_path) -> None:  # type: ignore[no-untyped-def]
    gw = scripted(lambda request, rng: {"hour": 12})
    task = replace(_hour_task(tmp_path), check=lambda a: "noon" if a.hour == 12 else None)
    got = asyncio.run(gw.ask(task, {"name": "Klaus"}, agent="Klaus Mueller", game_time=None))
    assert got is None or got.hour != 12
    assert [r.defaulted for r in gw.ledger.drain() if r.kind == "llm"][-1] is True


# ---------------------------------------------------------------------- the minds' checks
from datetime import datetime, timedelta  # noqa: E402

import numpy as np  # noqa: E402

from aga.minds import MindConfig, Resident  # noqa: E402
from aga.minds.converse import line_problem  # noqa: E402
from aga.minds.grounding import pick_place, workplace  # noqa: E402
from aga.minds.memory import MemoryStream  # noqa: E402
from aga.minds.plan import clean_activity, decompose_ahead, start_day, step_count  # noqa: E402
from aga.minds.react import decide  # noqa: E402
from aga.minds.retrieve import RetrievalWeights, retrieve  # noqa: E402
from aga.minds.schedule import ROOT, Row, index_at, total  # noqa: E402
from aga.minds.text import sentences  # noqa: E402

from .driver import make_ctx, with_rules  # noqa: E402

DAY = datetime(2023, 2, 13, 0, 0, 0)


def _resident(town, personas, name: str) -> Resident:  # type: ignore[no-untyped-def]
    return Resident.from_persona(personas[name], town)


def test_the_place_prompt_shows_who_works_where_is_where_and_needs_what(town, personas, scripted) -> None:  # type: ignore[no-untyped-def]
    r = _resident(town, personas, "Isabella Rodriguez")
    assert workplace(r) == "Hobbs Cafe"
    assert (
        workplace(_resident(town, personas, "Klaus Mueller")) == "Oak Hill College"
    )  # "Oak Hill College:library"
    seen: dict[str, str] = {}

    def watch(request, rng):  # type: ignore[no-untyped-def]
        seen[request.task] = request.user

    gw = scripted(with_rules(action_sector=watch, action_arena=watch))
    asyncio.run(
        pick_place(r, make_ctx(town, gw, [r], DAY.replace(hour=8)), "wiping the tables and setting out cups")
    )
    sector = seen["action_sector"]
    assert "Workplace: Hobbs Cafe" in sector
    assert "owns Hobbs Cafe" in sector  # who she is
    assert "is now at:" in sector and "opens Hobbs Cafe at 8 am" in sector  # where she is, the day's needs
    assert "Workplace: Hobbs Cafe" in seen["action_arena"]


def test_with_plan_rules_work_goes_to_the_workplace_without_a_call(town, personas, scripted) -> None:  # type: ignore[no-untyped-def]
    r = _resident(town, personas, "Isabella Rodriguez")
    gw = scripted()
    ctx = make_ctx(town, gw, [r], DAY.replace(hour=8), config=MindConfig(plan_rules=True))
    address, chosen = asyncio.run(pick_place(r, ctx, "go to work"))
    assert address.split(":")[1] == "Hobbs Cafe" and chosen
    assert not [row for row in gw.ledger.drain() if row.task == "action_sector"]


def test_with_plan_rules_a_students_lecture_goes_to_the_college_without_a_call(
    town, personas, scripted
) -> None:  # type: ignore[no-untyped-def]
    r = _resident(town, personas, "Maria Lopez")
    gw = scripted()
    ctx = make_ctx(town, gw, [r], DAY.replace(hour=9), config=MindConfig(plan_rules=True))
    address, chosen = asyncio.run(pick_place(r, ctx, "attend her physics lecture"))
    assert (
        address.split(":")[1] == "Oak Hill College" and chosen
    )  # not her dorm, which also names the college
    assert not [row for row in gw.ledger.drain() if row.task == "action_sector"]
    # studying for an exam is a student's work too (Maria's plan item on the embedded model)
    address, _ = asyncio.run(pick_place(r, ctx, "preparing for physics exam"))
    assert address.split(":")[1] == "Oak Hill College"
    assert not [row for row in gw.ledger.drain() if row.task == "action_sector"]
    address, _ = asyncio.run(
        pick_place(r, ctx, "chat with her classmates over coffee")
    )  # "classmates" is no class
    assert [row for row in gw.ledger.drain() if row.task == "action_sector"]


def _pair_near(town, personas, gw):  # type: ignore[no-untyped-def]
    from aga.minds.plan import next_action

    a = _resident(town, personas, "Isabella Rodriguez")
    b = _resident(town, personas, "Klaus Mueller")
    b.tile = next(t for t in town.nearby(a.tile, 2) if town.is_walkable(t) and t != a.tile)
    at = DAY.replace(hour=10)
    for r in (a, b):
        asyncio.run(next_action(r, make_ctx(town, gw, [a, b], at)))
    gw.ledger.drain()
    return a, b, at


def _seen_event(a, b, at):  # type: ignore[no-untyped-def]
    return a.memory.add(
        "event", created=at, subject=b.name, predicate="is", obj="x", description=f"{b.name} is here",
        embedding_key=f"{b.name} is here", importance=2, keywords=[b.name],
    )  # fmt: skip


def test_decide_to_talk_sees_the_persons_aims_and_falls_back_to_yes(town, personas, scripted) -> None:  # type: ignore[no-untyped-def]
    prompts: list[str] = []

    def unusable(request, rng):  # type: ignore[no-untyped-def]
        prompts.append(request.system + "\n" + request.user)
        return "hmm, hard to say"

    gw = scripted(with_rules(decide_to_talk=unusable))
    a, b, at = _pair_near(town, personas, gw)
    intent = asyncio.run(decide(a, make_ctx(town, gw, [a, b], at), [_seen_event(a, b, at)]))
    assert intent is not None and intent.target == b.name  # the original's fallback: yes
    assert prompts and "Valentine's Day party" in prompts[0]  # Isabella's aim reaches the decision
    assert "strangers" not in prompts[0]
    assert [r.defaulted for r in gw.ledger.drain() if r.task == "decide_to_talk"][-1] is True


def test_subtask_counts_grow_with_the_block(town, personas, scripted) -> None:  # type: ignore[no-untyped-def]
    assert step_count(60) == 3 and step_count(120) == 6 and step_count(180) == 9
    assert step_count(60, original=True) == 6 and step_count(240, original=True) == 24
    counts = {}
    for minutes in (60, 180):
        r = _resident(town, personas, "Klaus Mueller")
        gw = scripted()
        asyncio.run(start_day(r, make_ctx(town, gw, [r], DAY)))
        r.schedule = [
            Row("sleeping", 480),
            Row("studying in the library", minutes),
            Row("sleeping", 960 - minutes),
        ]
        r.hourly = list(r.schedule)
        asyncio.run(decompose_ahead(r, make_ctx(town, gw, [r], DAY.replace(hour=8)), 480))
        steps = [row for row in r.schedule if row.parent == "studying in the library"]
        counts[minutes] = len(steps)
        assert total(r.schedule) == 1440 and all(row.minutes <= 45 for row in steps)
    assert counts[180] >= 2 * counts[60]


def test_a_long_block_is_decomposed_piece_by_piece(town, personas, scripted) -> None:  # type: ignore[no-untyped-def]
    r = _resident(town, personas, "Isabella Rodriguez")
    gw = scripted()
    asyncio.run(start_day(r, make_ctx(town, gw, [r], DAY)))
    r.schedule = [Row("sleeping", 480), Row("go to work", 840), Row("sleeping", 120)]
    r.hourly = list(r.schedule)
    asyncio.run(decompose_ahead(r, make_ctx(town, gw, [r], DAY.replace(hour=8)), 480))
    steps = [row for row in r.schedule if row.parent == "go to work"]
    assert sum(row.minutes for row in steps) == 180 and max(row.minutes for row in steps) <= 45
    rest = r.schedule[index_at(r.schedule, 480 + 180)]
    assert rest == Row("go to work", 660, ROOT)  # decomposed when it comes near
    assert total(r.schedule) == 1440


def test_a_decomposition_that_copies_the_plan_is_re_asked_with_the_reason(town, personas, scripted) -> None:  # type: ignore[no-untyped-def]
    asked: list[str] = []

    def decomp(request, rng):  # type: ignore[no-untyped-def]
        asked.append(request.user)
        if len(asked) == 1:
            return {"subtasks": [{"activity": "Go to bed at 11:00 PM", "minutes": 30}] * 3}
        return {"subtasks": [{"activity": f"serving customers, round {i}", "minutes": 20} for i in range(6)]}

    r = _resident(town, personas, "Isabella Rodriguez")
    gw = scripted(with_rules(task_decomp=decomp))
    asyncio.run(start_day(r, make_ctx(town, gw, [r], DAY)))
    r.schedule = [Row("sleeping", 480), Row("working at Hobbs Cafe", 120), Row("going to bed", 840)]
    r.hourly = list(r.schedule)
    asyncio.run(decompose_ahead(r, make_ctx(town, gw, [r], DAY.replace(hour=8)), 480))
    assert len(asked) == 2 and "is another part of the day" in asked[1]
    steps = [row for row in r.schedule if row.parent == "working at Hobbs Cafe"]
    assert len(steps) == 6 and all("serving customers" in row.description for row in steps)


def test_a_decomposition_never_usable_leaves_one_hour_and_asks_again_later(town, personas, scripted) -> None:  # type: ignore[no-untyped-def]
    calls: list[int] = []

    def never(request, rng):  # type: ignore[no-untyped-def]
        calls.append(1)
        return "no idea"

    r = _resident(town, personas, "Isabella Rodriguez")
    gw = scripted(with_rules(task_decomp=never))
    asyncio.run(start_day(r, make_ctx(town, gw, [r], DAY)))
    r.schedule = [Row("sleeping", 480), Row("go to work", 240), Row("sleeping", 720)]
    r.hourly = list(r.schedule)
    ctx = make_ctx(town, gw, [r], DAY.replace(hour=8))
    asyncio.run(decompose_ahead(r, ctx, 480))
    first = r.schedule[index_at(r.schedule, 480)]
    assert first == Row("go to work", 60, "go to work")  # undivided, marked: not asked again now
    assert r.schedule[index_at(r.schedule, 540)] == Row("go to work", 180, ROOT)  # asked again later
    n = len(calls)
    asyncio.run(decompose_ahead(r, make_ctx(town, gw, [r], DAY.replace(hour=8, minute=1)), 481))
    assert len(calls) == n  # nothing asked again during the undivided hour
    asyncio.run(decompose_ahead(r, make_ctx(town, gw, [r], DAY.replace(hour=9)), 540))
    assert len(calls) > n  # the next chance
    assert total(r.schedule) == 1440


def test_a_plan_of_bare_clock_times_or_noon_sleep_is_re_asked(town, personas, scripted) -> None:  # type: ignore[no-untyped-def]
    asked: list[str] = []
    answers = [
        {"items": [{"activity": "7:00", "hour": 7}, {"activity": "8:30 at 8:00", "hour": 8}]},
        {"items": [{"activity": "waking up", "hour": 10}, {"activity": "Go to sleep at 12:00", "hour": 12}]},
        {
            "items": [
                {"activity": "waking up", "hour": 10},
                {"activity": "studying at Hobbs Cafe", "hour": 11},
            ]
        },
        {
            "items": [
                {"activity": "waking up and having breakfast", "hour": 10},
                {"activity": "Lunch at 2:00", "hour": 14},
                {"activity": "dinner with friends", "hour": 19},
                {"activity": "going to bed", "hour": 23},
            ]
        },
    ]

    def plan(request, rng):  # type: ignore[no-untyped-def]
        asked.append(request.user)
        return answers[min(len(asked) - 1, 3)]

    r = _resident(town, personas, "Maria Lopez")
    gw = scripted(with_rules(daily_plan=plan), max_attempts=4)
    asyncio.run(start_day(r, make_ctx(town, gw, [r], DAY)))
    assert len(asked) == 4
    assert "only a clock time" in asked[1] and "middle of the day" in asked[2] and "going to bed" in asked[3]
    assert "having lunch at 14:00" in r.daily_req  # the time is the item's hour, once; reads after "is"
    assert clean_activity("working at the cafe (8 am - 12 pm)") == "working at the cafe"


def test_a_plan_without_meals_is_re_asked_naming_the_missing_ones(town, personas, scripted) -> None:  # type: ignore[no-untyped-def]
    asked: list[str] = []
    no_meals = {"items": [{"activity": "getting up", "hour": 7}, {"activity": "working at the cafe", "hour": 8},
                          *({"activity": f"serving customers at the counter, round {i}", "hour": 9 + i}
                            for i in range(8)),
                          {"activity": "decorating the cafe for the Valentine's Day party", "hour": 17},
                          {"activity": "going to bed", "hour": 22}]}  # fmt: skip
    meals = {"items": [{"activity": "getting up and having breakfast", "hour": 7},
                       {"activity": "working at the cafe", "hour": 8}, {"activity": "having lunch", "hour": 12},
                       {"activity": "working at the cafe", "hour": 13}, {"activity": "having dinner", "hour": 18},
                       {"activity": "going to bed", "hour": 22}]}  # fmt: skip

    def plan(request, rng):  # type: ignore[no-untyped-def]
        asked.append(request.user)
        return no_meals if len(asked) == 1 else meals

    r = _resident(town, personas, "Isabella Rodriguez")
    gw = scripted(with_rules(daily_plan=plan, wake_up_hour=lambda request, rng: {"hour": 7}))
    asyncio.run(start_day(r, make_ctx(town, gw, [r], DAY)))
    assert len(asked) == 2 and "no breakfast or lunch or dinner; keep every item" in asked[1]
    assert "'having lunch' at hour 12" in asked[1]
    assert "decorating the cafe for the Valentine" in asked[1]  # the whole rejected plan is shown again
    assert "having lunch at 12:00" in r.daily_req and "having dinner at 18:00" in r.daily_req


def test_identical_texts_are_retrieved_once() -> None:
    m = MemoryStream()
    now = datetime(2023, 2, 13, 12, 0, 0)
    for i in range(5):
        m.add(
            "event", created=now - timedelta(minutes=i), subject="Klaus Mueller", predicate="is", obj="x",
            description="the desk is empty", embedding_key="the desk is empty", importance=5,
            vector=np.array([1.0, 0.0], dtype=np.float32),
        )  # fmt: skip
    m.add(
        "event", created=now, subject="Klaus Mueller", predicate="is", obj="y",
        description="Maria Lopez is reading", embedding_key="Maria Lopez is reading", importance=1,
        vector=np.array([0.0, 1.0], dtype=np.float32),
    )  # fmt: skip
    q = np.array([[1.0, 0.0]], dtype=np.float32)
    got = retrieve(m, q, now, 3, RetrievalWeights())[0]
    assert [n.description for n in got] == ["the desk is empty", "Maria Lopez is reading"]
    original = retrieve(m, q, now, 3, RetrievalWeights(), unique=False)[0]
    assert [n.description for n in original] == ["the desk is empty"] * 3


def test_a_chat_line_about_the_listener_or_by_name_of_the_speaker_is_caught() -> None:
    assert line_problem("I can't wait to meet Klaus Mueller", "Maria Lopez", "Klaus Mueller")
    assert line_problem("I hope Klaus is coming to the party.", "Maria Lopez", "Klaus Mueller")
    assert line_problem("Maria Lopez is excited to see you!", "Maria Lopez", "Klaus Mueller")
    assert line_problem("Isabella's party is tomorrow, come!", "Isabella Rodriguez", "Maria Lopez")
    assert line_problem("Hi Klaus! How is your paper going?", "Maria Lopez", "Klaus Mueller") is None
    assert line_problem("I'm Maria, nice to meet you.", "Maria Lopez", "Klaus Mueller") is None
    # the full name said to its bearer is a form of address, not the third person
    yes = "Yes, Klaus Mueller, I'm hosting a Valentine's Day party at Hobbs Cafe on February 14."
    assert line_problem(yes, "Isabella Rodriguez", "Klaus Mueller") is None
    assert line_problem("Good to see you, Klaus Mueller!", "Isabella Rodriguez", "Klaus Mueller") is None
    assert line_problem("Hi Klaus Mueller! Coffee?", "Isabella Rodriguez", "Klaus Mueller") is None
    assert line_problem("I told Klaus Mueller about it.", "Isabella Rodriguez", "Klaus Mueller")
    # the speaker calling themself by name (an embedded-model line of Klaus's to Isabella)
    assert line_problem("No, Klaus Mueller! I'm not sure yet.", "Klaus Mueller", "Isabella Rodriguez")
    assert line_problem("Hello, I'm Klaus Mueller.", "Klaus Mueller", "Isabella Rodriguez") is None
    # the model slipping into its assistant role (the embedded day run's chat about decorations)
    desk = "I'm sorry, but I'm not sure how to help with the decorations. Can you please provide me with more information?"
    problem = line_problem(desk, "Klaus Mueller", "Isabella Rodriguez")
    assert problem is not None and "help desk" in problem
    assert line_problem(
        "I apologize, what kind of decorations are you looking for?", "Klaus Mueller", "Isabella Rodriguez"
    )
    assert (
        line_problem("Sorry, I can't make it, I have a paper due.", "Klaus Mueller", "Isabella Rodriguez")
        is None
    )
    # and its refusals (the embedded day run of 6 December, Maria to Klaus)
    for refusal in (
        "I'm sorry, Klaus Mueller, but I can't assist with that.",
        "I'm sorry, Klaus Mueller, but I don't have any research paper assistance right now.",
    ):
        assert "help desk" in (line_problem(refusal, "Maria Lopez", "Klaus Mueller") or "")


def test_plan_items_read_as_activities_after_is() -> None:
    from aga.minds.text import activity_phrase

    assert activity_phrase("go to work") == "going to work"
    assert activity_phrase("Read and take notes in the library") == "reading and taking notes in the library"
    assert activity_phrase("Lunch") == "having lunch"
    assert activity_phrase("studying at Hobbs Cafe") == "studying at Hobbs Cafe"
    assert activity_phrase("Maria Lopez's stream") == "Maria Lopez's stream"  # not a verb: kept


def _isabella_meets_klaus(town, personas, gw):  # type: ignore[no-untyped-def]
    """Isabella and Klaus, each into their 10:00 activity, and the context of that step."""
    from aga.minds.plan import next_action

    a = _resident(town, personas, "Isabella Rodriguez")
    b = _resident(town, personas, "Klaus Mueller")
    at = DAY.replace(hour=10)
    for r in (a, b):
        asyncio.run(next_action(r, make_ctx(town, gw, [a, b], at)))
    return a, b, make_ctx(town, gw, [a, b], at)


def test_a_chat_line_about_the_listener_is_re_asked_before_it_is_said(town, personas, scripted) -> None:  # type: ignore[no-untyped-def]
    from aga.minds.converse import next_turn

    asked: list[str] = []

    def turn(request, rng):  # type: ignore[no-untyped-def]
        asked.append(request.user)
        if len(asked) == 1:
            # "his" may be Klaus again, so the line is not put into "you" (aga.minds.address)
            return {"utterance": "I can't wait to meet Klaus Mueller and his friends.", "end": False}
        return {"utterance": "Hi Klaus! Are you coming to the party tomorrow?", "end": False}

    gw = scripted(with_rules(conversation_turn=turn))
    a, b, ctx = _isabella_meets_klaus(town, personas, gw)
    got = asyncio.run(next_turn(a, b, [], ctx, a))
    assert got is not None and got[0] == "Hi Klaus! Are you coming to the party tomorrow?"
    assert len(asked) == 2 and "not about Klaus Mueller" in asked[1]


def test_a_chat_line_repeating_an_earlier_line_is_caught() -> None:
    from aga.minds.converse import repeat_problem

    said = [
        ("Klaus Mueller", "Hey Isabella, I was just reading in the library about gentrification."),
        ("Isabella Rodriguez", "What do you think about gentrification in Hobbs?"),
    ]
    # Isabella copying Klaus's opening with the name swapped is a repeat
    assert repeat_problem("Hey Klaus, I was just reading in the library about gentrification.", said)
    assert repeat_problem("What do you think about gentrification in Hobbs?", said)
    assert repeat_problem("It pushes people out of their homes, and rents keep rising.", said) is None
    assert repeat_problem("Thanks!", said + [("Klaus Mueller", "Thanks!")]) is None  # short replies may recur


def test_a_repeated_chat_line_is_re_asked_and_a_chat_that_only_repeats_ends(town, personas, scripted) -> None:  # type: ignore[no-untyped-def]
    from aga.minds.converse import next_turn

    asked: list[str] = []

    def turn(request, rng):  # type: ignore[no-untyped-def]
        asked.append(request.user)
        if len(asked) == 1:
            return {"utterance": "Hi Klaus, how is your research paper going?", "end": False}
        return {"utterance": "Are you coming to my party at Hobbs Cafe tomorrow at 5?", "end": False}

    gw = scripted(with_rules(conversation_turn=turn))
    a, b, ctx = _isabella_meets_klaus(town, personas, gw)
    lines = [("Isabella Rodriguez", "Hi Klaus! How is your research paper going?")]
    got = asyncio.run(next_turn(a, b, lines, ctx, a))
    assert got is not None and got[0] == "Are you coming to my party at Hobbs Cafe tomorrow at 5?"
    assert len(asked) == 2 and "repeats what Isabella Rodriguez already said" in asked[1]
    lines.append(("Isabella Rodriguez", got[0]))
    asked.clear()  # from now on the model only repeats itself: the chat ends, nothing repeated is said
    assert asyncio.run(next_turn(a, b, lines, ctx, a)) is None
    assert len(asked) > 1


def test_a_plan_still_wrong_after_the_attempts_keeps_the_models_items_without_the_refused_ones(
    town, personas, scripted
) -> None:  # type: ignore[no-untyped-def]
    wrong = {
        "items": [
            {"activity": "get up", "hour": 6},
            {"activity": "go to work", "hour": 8},
            {"activity": "have lunch at the cafe", "hour": 12},
            {"activity": "go to bed", "hour": 12},
        ]
    }
    r = _resident(town, personas, "Isabella Rodriguez")
    gw = scripted(with_rules(daily_plan=lambda request, rng: wrong))
    asyncio.run(start_day(r, make_ctx(town, gw, [r], DAY)))
    assert [x for x in r.daily_req] == [
        "getting up at 6:00",
        "having breakfast at 7:00",  # the meals the re-asks could not get, at their usual hours
        "going to work at 8:00",
        "having lunch at the cafe at 12:00",
        "having dinner at 18:00",
    ]
    assert (
        r.schedule[-1].description == "sleeping" and total(r.schedule) == 1440
    )  # bed at the lifestyle's hour
    assert [row.defaulted for row in gw.ledger.drain() if row.task == "daily_plan"][-1] is True


def test_a_salvaged_plan_gets_its_missing_meals_and_the_displaced_item_goes_on_after() -> None:
    from aga.minds.plan_checks import with_meals
    from aga.prompts.tasks import PlanItem

    items = [PlanItem(activity="getting up", hour=10), *(PlanItem(activity="decorating", hour=h) for h in (11, 12)),
             PlanItem(activity="reading", hour=18)]  # fmt: skip
    got = [(i.hour, i.activity) for i in with_meals(items, 10)]
    assert got == [(10, "getting up"), (11, "having breakfast"), (12, "having lunch"), (13, "decorating"),
                   (18, "having dinner"), (19, "reading")]  # fmt: skip


def test_a_chat_summary_that_starts_with_the_names_becomes_a_whole_memory(town, personas, scripted) -> None:  # type: ignore[no-untyped-def]
    from aga.minds.converse import chat_phrase, converse

    assert chat_phrase("Klaus and Isabella discussing the party.") == "conversing about the party"
    assert chat_phrase("They talked about the library") == "conversing about the library"
    assert chat_phrase("conversing about exams") == "conversing about exams"
    assert chat_phrase("The opening hours") == "conversing about the opening hours"
    lines = iter(["Hi Klaus! Come to my party tomorrow?", "Yes, I would love to come."])

    def turn(request, rng):  # type: ignore[no-untyped-def]
        line = next(lines, None)
        return {"utterance": line or "Bye!", "end": line is None}

    gw = scripted(
        with_rules(
            conversation_turn=turn,
            conversation_summary=lambda request, rng: {"summary": "Isabella and Klaus discussing the party"},
        )
    )
    a, b, ctx = _isabella_meets_klaus(town, personas, gw)
    asyncio.run(converse(a, b, ctx))
    chat = a.memory.last_chat_with("Klaus Mueller")
    assert chat is not None and chat.description == "Isabella Rodriguez is conversing about the party"


def test_items_sharing_an_hour_are_joined_and_bed_at_11_is_the_evening(town, personas, scripted) -> None:  # type: ignore[no-untyped-def]
    asked: list[str] = []
    plan = {"items": [{"activity": "get up", "hour": 6}, {"activity": "eat breakfast", "hour": 6},
                      {"activity": "go to work", "hour": 8},
                      {"activity": "prepare decorations for the Valentine's Day party", "hour": 8},
                      {"activity": "have lunch", "hour": 12}, {"activity": "have dinner", "hour": 18},
                      {"activity": "go to bed", "hour": 11}]}  # fmt: skip

    def daily(request, rng):  # type: ignore[no-untyped-def]
        asked.append(request.user)
        return plan

    r = _resident(town, personas, "Isabella Rodriguez")
    gw = scripted(with_rules(daily_plan=daily, wake_up_hour=lambda request, rng: {"hour": 6}))
    asyncio.run(start_day(r, make_ctx(town, gw, [r], DAY)))
    assert len(asked) == 1  # read as meant, nothing to re-ask
    assert r.daily_req == [
        "getting up and eating breakfast at 6:00",  # not "getting up" alone: breakfast is kept
        "going to work and preparing decorations for the Valentine's Day party at 8:00",
        "having lunch at 12:00",
        "having dinner at 18:00",
        "going to bed at 23:00",
    ]


def test_a_meal_planned_again_is_re_asked_and_a_salvaged_plan_keeps_the_first(
    town, personas, scripted
) -> None:  # type: ignore[no-untyped-def]
    # Maria's plan in an embedded-model run: lunch at 14, again at 17 and at 20, no dinner
    asked: list[str] = []
    lunches = {"items": [{"activity": "waking up and having breakfast", "hour": 10},
                         {"activity": "Lunch at The Rose and Crown Pub", "hour": 14},
                         {"activity": "studying at Hobbs Cafe", "hour": 15},
                         {"activity": "Lunch at The Rose and Crown Pub", "hour": 17},
                         {"activity": "having dinner", "hour": 19},
                         {"activity": "Lunch at The Rose and Crown Pub", "hour": 20},
                         {"activity": "going to bed", "hour": 23}]}  # fmt: skip

    def plan(request, rng):  # type: ignore[no-untyped-def]
        asked.append(request.user)
        return lunches

    r = _resident(town, personas, "Maria Lopez")
    gw = scripted(with_rules(daily_plan=plan, wake_up_hour=lambda request, rng: {"hour": 10}), max_attempts=2)
    asyncio.run(start_day(r, make_ctx(town, gw, [r], DAY)))
    assert len(asked) == 2 and "lunch 3 times (at 14, 17, 20); Maria has lunch once" in asked[1]
    assert [x for x in r.daily_req if "lunch" in x] == ["having lunch at The Rose and Crown Pub at 14:00"]
    assert "having dinner at 19:00" in r.daily_req and "studying at Hobbs Cafe at 15:00" in r.daily_req
    assert [row.defaulted for row in gw.ledger.drain() if row.task == "daily_plan"][-1] is True


def test_a_plan_too_long_to_take_one_more_item_is_asked_to_join_small_ones() -> None:
    from aga.minds.plan_checks import LONG_PLAN, plan_problem
    from aga.prompts.tasks import DailyPlan

    def plan(n: int) -> DailyPlan:  # n items, one per hour from 7, no bed, meals at 8, 12, 18
        names = {8: "having breakfast", 12: "having lunch", 18: "having dinner"}
        items = [{"activity": names.get(7 + i, f"studying chapter {i}"), "hour": 7 + i} for i in range(n)]
        return DailyPlan.model_validate({"items": items})

    short, long = plan_problem(plan(LONG_PLAN), 7, "Maria"), plan_problem(plan(16), 7, "Maria")
    assert short is not None and "keep every item and add going to bed" in short
    assert long is not None and f"at most {LONG_PLAN - 2} in all and add going to bed" in long
    # the model's own count decides (items of one hour are joined before the check)
    joined = plan_problem(plan(LONG_PLAN), 7, "Maria", written=16)
    assert joined is not None and "join the small items" in joined


def test_what_one_remembers_about_the_other_reaches_decide_to_talk_as_sentences(
    town, personas, scripted
) -> None:  # type: ignore[no-untyped-def]
    prompts: list[str] = []

    def no(request, rng):  # type: ignore[no-untyped-def]
        prompts.append(request.user)
        return {"answer": "no"}

    gw = scripted(with_rules(decide_to_talk=no))
    a, b, at = _pair_near(town, personas, gw)
    for minutes, doing in ((30, "reading"), (20, "taking notes")):
        a.memory.add(
            "event", created=at - timedelta(minutes=minutes), subject=b.name, predicate="is", obj=doing,
            description=f"{b.name} is {doing}", embedding_key=f"{b.name} is {doing}", importance=2,
            keywords=[b.name],
        )  # fmt: skip
    asyncio.run(decide(a, make_ctx(town, gw, [a, b], at), [_seen_event(a, b, at)]))
    line = next(x for x in prompts[0].splitlines() if x.startswith(f"What {a.name} remembers about"))
    assert f"{b.name} is taking notes. {b.name} is reading." in line
    assert sentences(["a", "b!", " ", "c."]) == "a. b! c."


def test_a_plan_salvaged_after_the_attempts_is_the_fullest_the_model_wrote() -> None:
    from aga.minds.plan_checks import fullest_plan
    from aga.prompts.tasks import DailyPlan

    def plan(*items: tuple[int, str]) -> DailyPlan:
        return DailyPlan.model_validate({"items": [{"activity": a, "hour": h} for h, a in items]})

    # Maria's plans on the embedded model: the first covers 10-21, the last starts at 14
    first = plan((10, "waking up"), (11, "reading at the library"), (12, "studying at Hobbs Cafe"),
                 (14, "having lunch"), (16, "working at the college"), (19, "having dinner"))  # fmt: skip
    last = plan((22, "going to bed"), (14, "having breakfast at the pub"), (15, "studying at Hobbs Cafe"))
    assert fullest_plan([first, last], 10) is first
    mended = plan(*((i.hour, i.activity.replace("dinner", "dinner at home")) for i in first.items))
    assert fullest_plan([first, mended], 10) is mended  # of equals (the same hours), the later one


def test_with_plan_rules_home_and_meals_go_where_the_persona_says_without_a_call(
    town, personas, scripted
) -> None:  # type: ignore[no-untyped-def]
    # the embedded day run: Maria's breakfast, lunch, dinner and "relaxing at home" all at the pub
    from aga.minds.grounding import haunt_list, sector_options

    r = _resident(town, personas, "Maria Lopez")
    assert haunt_list(r, sector_options(r)) == ["Hobbs Cafe"]  # "likes to drop by Hobbs Cafe"
    gw = scripted()
    ctx = make_ctx(town, gw, [r], DAY.replace(hour=19), config=MindConfig(plan_rules=True))
    for activity, sector in [
        ("relaxing at home", r.home_sector),
        ("having breakfast", r.home_sector),
        ("having lunch", "Hobbs Cafe"),
        ("having dinner", "Hobbs Cafe"),
    ]:
        address, chosen = asyncio.run(pick_place(r, ctx, activity))
        assert address.split(":")[1] == sector and chosen, activity
    assert not [row for row in gw.ledger.drain() if row.task == "action_sector"]
    asyncio.run(pick_place(r, ctx, "taking a walk"))  # named by nothing: asked
    assert [row for row in gw.ledger.drain() if row.task == "action_sector"]


def test_the_sector_prompt_shows_the_places_a_persona_often_goes(town, personas, scripted) -> None:  # type: ignore[no-untyped-def]
    seen: list[str] = []

    def watch(request, rng):  # type: ignore[no-untyped-def]
        seen.append(request.user)

    gw = scripted(with_rules(action_sector=watch))
    klaus = _resident(town, personas, "Klaus Mueller")
    asyncio.run(pick_place(klaus, make_ctx(town, gw, [klaus], DAY.replace(hour=12)), "having lunch"))
    assert "Places Klaus Mueller often goes: Hobbs Cafe" in seen[0]  # not the college, his workplace
    isabella = _resident(town, personas, "Isabella Rodriguez")
    asyncio.run(pick_place(isabella, make_ctx(town, gw, [isabella], DAY.replace(hour=12)), "having lunch"))
    assert "Places Isabella Rodriguez often goes: none named" in seen[1]  # the cafe is her work


def test_an_item_that_eats_without_naming_the_meal_is_named_by_its_hour() -> None:
    # Klaus's plan on the embedded model: "eats at Hobbs Cafe" at 12 was asked for a lunch 3 times
    from aga.minds.plan_checks import missing_meals, named_meal, tidy_plan
    from aga.prompts.tasks import DailyPlan, PlanItem

    assert named_meal("eats at Hobbs Cafe", 12) == "having lunch at Hobbs Cafe"
    assert named_meal("eat at The Rose and Crown Pub", 19) == "having dinner at The Rose and Crown Pub"
    assert named_meal("eating breakfast", 12) == "eating breakfast"  # the meal is named already
    assert named_meal("eats a snack", 15) == "eats a snack"
    assert named_meal("eats at the diner", 2) == "eats at the diner"  # no meal at 2 am
    plan = DailyPlan(
        items=[
            PlanItem(activity="get up and have breakfast", hour=7),
            PlanItem(activity="eats at Hobbs Cafe", hour=12),
            PlanItem(activity="eats at The Rose and Crown Pub", hour=19),
            PlanItem(activity="go to bed", hour=22),
        ]
    )
    assert missing_meals(plan, 7) == ["lunch", "dinner"]
    assert missing_meals(tidy_plan(plan, 7), 7) == []
