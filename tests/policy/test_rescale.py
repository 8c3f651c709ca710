"""Rescaling a stored decomposition to a new duration."""

from __future__ import annotations

import random

import pytest

from aga.policy import rescale_minutes, rescale_subtasks


def test_proportions_kept_on_exact_multiples() -> None:
    assert rescale_minutes([10, 20, 30], 120) == [20, 40, 60]
    assert rescale_minutes([30, 30], 45) == [25, 20]  # tie: the earlier subtask gets the extra block
    assert rescale_minutes([15, 45], 60) == [15, 45]


def test_many_random_cases_sum_exactly_and_keep_proportions() -> None:
    rng = random.Random(20240213)
    for _ in range(3000):
        n = rng.randint(1, 9)
        weights = [rng.choice([1, 5, 10, 15, 20, 30, 45, 60, 90]) for _ in range(n)]
        duration = rng.randint(n, 480)
        out = rescale_minutes(weights, duration)
        assert sum(out) == duration, (weights, duration, out)
        assert len(out) == n and all(m >= 1 for m in out)
        unit = 5 if duration >= 5 * n else 1
        if duration % 5 == 0 and unit == 5:
            assert all(m % 5 == 0 for m in out), (weights, duration, out)
        elif unit == 5:  # only the leftover below one block breaks the grid, on one share
            assert sum(m % 5 != 0 for m in out) <= 1
        total = sum(weights)
        for w, m in zip(weights, out):
            ideal = duration * w / total
            # largest remainder is within one block of the ideal share, plus the sub-block leftover,
            # plus what raising other tiny shares to one block took away
            assert abs(m - ideal) <= unit + 4 + unit * n, (weights, duration, out)


def test_largest_remainder_is_within_one_block_when_no_share_is_tiny() -> None:
    rng = random.Random(7)
    for _ in range(1000):
        n = rng.randint(2, 6)
        weights = [rng.randint(10, 60) for _ in range(n)]
        duration = 5 * rng.randint(6 * n, 60)
        out = rescale_minutes(weights, duration)
        total = sum(weights)
        assert all(abs(m - duration * w / total) < 5 for w, m in zip(weights, out)), (weights, duration, out)


def test_short_durations_keep_the_largest_subtasks_in_order() -> None:
    subtasks = [("boil water", 5), ("brew", 20), ("pour", 2), ("drink", 30)]
    out = rescale_subtasks(subtasks, 2)
    assert out == [("brew", 1), ("drink", 1)]
    out = rescale_subtasks(subtasks, 7)  # fewer than 5 minutes each: 1-minute granularity
    assert [n for n, _ in out] == ["boil water", "brew", "pour", "drink"]
    assert sum(m for _, m in out) == 7 and all(m >= 1 for _, m in out)


def test_invalid_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 1 minute"):
        rescale_subtasks([("a", 5)], 0)
    with pytest.raises(ValueError, match="at least one"):
        rescale_subtasks([], 30)
    with pytest.raises(ValueError, match=">= 1"):
        rescale_minutes([5, 0], 30)
