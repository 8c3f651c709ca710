"""Fitting a stored decomposition to a new duration.

AGA reused a stored decomposition with the minutes it had when it was stored, so a 90-minute
plan reused for a 60-minute slot overran it. Here the stored minutes are only weights: they are
rescaled to the requested total with integer arithmetic (largest remainder), every subtask keeps
at least one minute, and the shares are multiples of five minutes whenever the total allows it.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["GRANULARITY", "rescale_minutes", "rescale_subtasks"]

GRANULARITY = 5
"""Minutes per schedule block when the total allows it (the original planner used 5)."""


def _apportion(weights: Sequence[int], units: int) -> list[int]:
    """Split ``units`` into ``len(weights)`` integers >= 1 in proportion to ``weights``.

    Largest-remainder method with exact integer arithmetic; ties go to the earlier subtask.
    Requires ``units >= len(weights)`` and positive weights.
    """
    total = sum(weights)
    n = len(weights)
    alloc = [max(1, units * w // total) for w in weights]
    # numerators of (ideal - alloc) in units of 1/total: how far below its ideal share each one is
    shortfall = [units * w - a * total for w, a in zip(weights, alloc)]
    diff = units - sum(alloc)
    while diff > 0:  # at most n - 1 rounds: give one unit to the largest shortfall
        i = max(range(n), key=lambda j: (shortfall[j], -j))
        alloc[i] += 1
        shortfall[i] -= total
        diff -= 1
    while diff < 0:  # raising tiny shares to 1 overshot: take from the most over-served
        candidates = [j for j in range(n) if alloc[j] > 1]
        i = min(candidates, key=lambda j: (shortfall[j], -j))
        alloc[i] -= 1
        shortfall[i] += total
        diff += 1
    return alloc


def rescale_minutes(weights: Sequence[int], duration: int, granularity: int = GRANULARITY) -> list[int]:
    """Minutes for each weight, summing exactly to ``duration``, proportions kept.

    Args:
        weights: stored minutes of the subtasks (positive integers; only their ratios matter).
        duration: the requested total in minutes (>= ``len(weights)``).
        granularity: block size used when ``duration >= granularity * len(weights)``; the
            leftover below one block (``duration % granularity``) goes to the largest share.

    Returns:
        One positive integer per weight, in order, with ``sum == duration``.

    Raises:
        ValueError: no weights, a weight below 1, or a duration shorter than one minute per subtask.
    """
    if not weights:
        raise ValueError("rescale_minutes needs at least one weight")
    if any(int(w) < 1 for w in weights):
        raise ValueError(f"rescale_minutes: weights must be >= 1, got {list(weights)}")
    if duration < len(weights):
        raise ValueError(
            f"rescale_minutes: {duration} minutes cannot give {len(weights)} subtasks 1 minute each"
        )
    unit = granularity if granularity > 1 and duration >= granularity * len(weights) else 1
    alloc = [a * unit for a in _apportion([int(w) for w in weights], duration // unit)]
    leftover = duration - sum(alloc)
    if leftover:
        biggest = max(range(len(alloc)), key=lambda j: (alloc[j], -j))
        alloc[biggest] += leftover
    return alloc


def rescale_subtasks(
    subtasks: Sequence[tuple[str, int]], duration: int, granularity: int = GRANULARITY
) -> list[tuple[str, int]]:
    """``subtasks`` with minutes rescaled to ``duration`` (see :func:`rescale_minutes`).

    When ``duration`` is shorter than one minute per subtask, the subtasks with the largest
    weights are kept (in their original order) and the rest dropped.

    Raises:
        ValueError: ``duration`` below 1 or no subtasks.
    """
    if duration < 1:
        raise ValueError(f"rescale_subtasks: duration must be at least 1 minute, got {duration}")
    items = list(subtasks)
    if not items:
        raise ValueError("rescale_subtasks needs at least one subtask")
    if duration < len(items):
        keep = sorted(sorted(range(len(items)), key=lambda j: (-items[j][1], j))[:duration])
        items = [items[j] for j in keep]
    minutes = rescale_minutes([m for _, m in items], duration, granularity)
    return [(name, m) for (name, _), m in zip(items, minutes)]
