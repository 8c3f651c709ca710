"""Schedule arithmetic: days cover 1440 minutes, decompositions add up, rewrites keep the day whole."""

from __future__ import annotations

import itertools
import random

import pytest

from aga.minds.schedule import (
    REACT,
    ROOT,
    Row,
    build_day,
    decomposed_rows,
    fit_rows,
    index_at,
    is_sleep_text,
    replace_span,
    rewrite_window,
    should_decompose,
    slice_rows,
    span,
    split_minutes,
    total,
)


def _whole(rows: list[Row]) -> None:
    assert total(rows) == 1440
    assert all(r.minutes > 0 for r in rows)


def test_a_day_sleeps_until_waking_and_covers_1440_minutes() -> None:
    rows = build_day(
        7,
        [
            (8, "breakfast"),
            (9, "work at the library"),
            (12, "lunch at Hobbs Cafe"),
            (13, "work at the library"),
            (22, "going to bed"),
        ],
        "waking up",
    )
    _whole(rows)
    assert rows[0] == Row("sleeping", 420, ROOT)
    assert rows[1] == Row("waking up", 60, ROOT)
    assert rows[-1] == Row("going to bed", 120, ROOT)
    assert index_at(rows, 12 * 60 + 30) == 4 and rows[4].description == "lunch at Hobbs Cafe"


@pytest.mark.parametrize("seed", range(40))
def test_any_plan_gives_a_whole_day_without_empty_rows(seed: int) -> None:
    rng = random.Random(seed)
    items = [
        (rng.randint(-3, 30), rng.choice(["eat", "work", "", "  ", "sleep", "read", "work"]))
        for _ in range(rng.randint(0, 14))
    ]
    rows = build_day(rng.randint(0, 23), items, "waking up")
    _whole(rows)
    assert all(a.description != b.description or a.parent != b.parent for a, b in itertools.pairwise(rows))


def test_a_plan_without_sleep_ends_in_sleep() -> None:
    rows = build_day(8, [(9, "painting"), (18, "reading")], "waking up")
    _whole(rows)
    assert rows[-2] == Row("reading", 300, ROOT) and rows[-1] == Row(
        "sleeping", 60, ROOT
    )  # bedtime 23 by default


@pytest.mark.parametrize("total_minutes", [1, 4, 5, 7, 29, 60, 61, 180, 1000])
@pytest.mark.parametrize(
    "weights", [[1], [5, 5, 5], [120, 5, 5, 5, 5, 5, 5], [0, -3, 10**9], list(range(1, 40))]
)
def test_shares_always_add_up_and_are_never_empty(weights: list[int], total_minutes: int) -> None:
    shares = split_minutes(weights, total_minutes)
    assert sum(shares) == total_minutes
    assert shares and all(s > 0 for s in shares)
    assert len(shares) <= len(weights)
    assert all(s % 5 == 0 for s in shares[:-1]) or total_minutes < 5


@pytest.mark.parametrize(
    "subtasks",
    [
        [],
        [("", 5), ("   ", 10)],
        [("make coffee", 500), ("drink it", 500)],
        [("a", 5)] * 50,
        [("Make coffee.", 5), ("make coffee", 10), ("serve", 120)],
    ],
)
def test_decomposition_minutes_add_up_whatever_the_model_answers(subtasks: list[tuple[str, int]]) -> None:
    rows = decomposed_rows("working at the cafe", subtasks, 90)
    assert total(rows) == 90
    assert all(r.minutes > 0 for r in rows)
    if rows[0].parent != ROOT:
        assert all(r.description.startswith("working at the cafe (") for r in rows)
        assert all(a.description.lower() != b.description.lower() for a, b in itertools.pairwise(rows))


def test_an_empty_decomposition_keeps_the_task_whole() -> None:
    assert decomposed_rows("painting", [], 120) == [Row("painting", 120, ROOT)]


def test_replace_span_cuts_rows_at_the_edges() -> None:
    rows = [Row("sleeping", 420), Row("breakfast", 60), Row("work", 960)]
    new = replace_span(rows, 450, 500, [Row("chat", 10, REACT), Row("walk", 40, REACT)])
    _whole(new)
    assert new[:4] == [
        Row("sleeping", 420),
        Row("breakfast", 30),
        Row("chat", 10, REACT),
        Row("walk", 40, REACT),
    ]
    assert new[4] == Row("work", 940)
    with pytest.raises(ValueError, match="add up"):
        replace_span(rows, 450, 500, [Row("chat", 10, REACT)])
    with pytest.raises(ValueError, match="outside"):
        replace_span(rows, 1400, 1500, [Row("chat", 100, REACT)])


def test_slices_and_windows() -> None:
    hourly = [
        Row("sleeping", 420),
        Row("breakfast", 60),
        Row("work", 180),
        Row("lunch", 60),
        Row("work", 720),
    ]
    assert slice_rows(hourly, 450, 540) == [(450, Row("breakfast", 30)), (480, Row("work", 60))]
    assert rewrite_window(hourly, 500, 510) == (480, 660)  # a 3-hour block is the window
    assert rewrite_window(hourly, 430, 440) == (420, 660)  # a 1-hour block: it and the next
    assert rewrite_window(hourly, 665, 670) == (660, 1440)  # short block: it and the next
    assert rewrite_window(hourly, 1430, 1500) == (720, 1440)
    assert span(hourly, 2) == (480, 660)


def test_fit_rows_fill_exactly() -> None:
    rows = fit_rows([("back to work", 45), ("tea", 5)], 37)
    assert total(rows) == 37 and all(r.parent == REACT for r in rows)
    assert fit_rows([("", 10)], 30) == []


@pytest.mark.parametrize(
    ("text", "asleep"),
    [
        ("sleeping", True),
        ("going to bed", True),
        ("reading in bed", True),
        ("Sleep", True),
        ("getting ready for bed", False),
        ("preparing to sleep", False),
        ("making the bed", False),
        ("having breakfast", False),
    ],
)
def test_sleep_texts(text: str, asleep: bool) -> None:
    assert is_sleep_text(text) is asleep


def test_the_original_decomposition_rule() -> None:
    assert should_decompose("working at the cafe", 60)
    assert not should_decompose("working at the cafe", 55)
    assert not should_decompose("sleeping", 480)
    assert should_decompose("getting ready for bed", 60)
    assert not should_decompose("getting ready for bed", 120)


def test_without_a_sleep_item_the_last_activity_lasts_until_bedtime() -> None:
    rows = build_day(
        6, [(8, "working at the cafe"), (16, "working at the cafe again")], "waking up", bed_hour=22
    )
    _whole(rows)
    assert rows[-2] == Row("working at the cafe again", 6 * 60, ROOT) and rows[-1] == Row(
        "sleeping", 120, ROOT
    )
    late = build_day(6, [(8, "work"), (23, "reading")], "waking up", bed_hour=22)
    assert late[-2:] == [Row("reading", 30, ROOT), Row("sleeping", 30, ROOT)]  # past bedtime
    owl = build_day(10, [(12, "writing")], "waking up", bed_hour=24)  # "goes to bed around 12 am"
    assert owl[-2:] == [Row("writing", 690, ROOT), Row("sleeping", 30, ROOT)]  # the day ends in bed


def test_lunch_and_dinner_last_an_hour_then_work_goes_on_and_the_evening_is_at_home() -> None:
    # Isabella's plan in an embedded-model run read as six hours of lunch and five of dinner
    items = [(6, "getting up and eating breakfast"), (8, "working at Hobbs Cafe"), (12, "having lunch"),
             (18, "having dinner"), (23, "going to bed")]  # fmt: skip
    rows = build_day(6, items, "waking up")
    _whole(rows)
    assert [(r.description, r.minutes) for r in rows] == [
        ("sleeping", 360), ("getting up and eating breakfast", 60), ("relaxing at home", 60),
        ("working at Hobbs Cafe", 240),
        ("having lunch", 60), ("working at Hobbs Cafe", 300), ("having dinner", 60),
        ("relaxing at home", 240), ("going to bed", 60),
    ]  # fmt: skip
    # a lunch right after waking has nothing to go back to; an hour-long meal is left as it is
    early = build_day(11, [(11, "having lunch"), (15, "painting"), (18, "dinner"), (19, "reading")], "up")
    assert [(r.description, r.minutes) for r in early][1:] == [
        ("having lunch", 60), ("relaxing at home", 180), ("painting", 180), ("dinner", 60), ("reading", 240),
        ("sleeping", 60),
    ]  # fmt: skip


def test_after_breakfast_or_lunch_the_days_work_fills_the_time_until_five() -> None:
    # Maria's salvaged plan on the embedded model: breakfast at 8, lunch at 12, her lectures at 17
    # ("until 5 pm"); she spent four hours over breakfast and the afternoon at home
    items = [(8, "having breakfast at the supply store"), (12, "having lunch"), (17, "attending lectures"),
             (18, "having dinner"), (19, "streaming games"), (22, "going to bed")]  # fmt: skip
    rows = build_day(8, items, "waking up", work="attending lectures")
    _whole(rows)
    assert [(r.description, r.minutes) for r in rows][1:6] == [
        ("having breakfast at the supply store", 60), ("attending lectures", 180), ("having lunch", 60),
        ("attending lectures", 300), ("having dinner", 60),
    ]  # fmt: skip
    # the work ends at 17:00 even when the plan's next item is later; without work, home
    late = build_day(
        7, [(7, "having breakfast"), (19, "reading"), (22, "going to bed")], "up", work="working"
    )
    assert [(r.description, r.minutes) for r in late][1:4] == [
        ("having breakfast", 60),
        ("working", 540),
        ("relaxing at home", 120),
    ]
    idle = build_day(8, items, "waking up")
    assert [(r.description, r.minutes) for r in idle][1:3] == [
        ("having breakfast at the supply store", 60),
        ("relaxing at home", 180),
    ]
