"""Similarity thresholds per embedding model, for reusing a stored activity.

A stored plan (or short activity) is reused for a new activity text when the texts are equal
after :func:`aga.policy.normalise`, or when the cosine similarity of their embeddings is at least
the threshold of the embedding model in use. Cosine scales differ a lot between models (ada-002
puts almost any two sentences above 0.7; MiniLM puts pronoun-only rewordings between 0.65 and
0.9), so one number cannot serve all. The values below come from ``bench/calibrate_policy.py``
(see docs/policy.md): on a labelled set of activity pairs, the thresholds with no false match
and, among those, the best recall; the middle of that range is taken.
"""

from __future__ import annotations

from aga.errors import InputError

__all__ = ["DEFAULT_THRESHOLD", "THRESHOLDS", "calibrate", "check_threshold", "threshold_for"]

THRESHOLDS: dict[str, float] = {
    # AGA's empirical value for OpenAI ada-002 (paper Table 5: 0.96 was deliberately not a match).
    "text-embedding-ada-002": 0.97,
    # all-MiniLM-L6-v2, int8 ONNX (the embedded default) and its fp32 original (cosine >= 0.999 apart).
    "all-MiniLM-L6-v2-int8": 0.94,
    "all-MiniLM-L6-v2": 0.94,
    # the hashed bag-of-words test double
    "hash-embedder-v1": 0.81,
}
"""Calibrated thresholds keyed by the embedding model's name (``Gateway.embed_model``)."""

DEFAULT_THRESHOLD = 0.98
"""For models never calibrated: high, so a wrong reuse is unlikely (reuse will be rare too)."""


def threshold_for(model: str) -> float:
    """The reuse threshold for embedding model ``model`` (:data:`DEFAULT_THRESHOLD` if unknown)."""
    return THRESHOLDS.get(model, DEFAULT_THRESHOLD)


def check_threshold(value: float) -> float:
    """``value`` if it is a usable cosine threshold (0 < value <= 1).

    Raises:
        InputError: it is not.
    """
    if not isinstance(value, (int, float)) or not 0.0 < float(value) <= 1.0:
        raise InputError(f"policy similarity threshold must be a number in (0, 1], got {value!r}")
    return float(value)


def calibrate(scores: list[float], labels: list[bool], *, grid: float = 0.01) -> tuple[float, float, float]:
    """Pick a threshold from labelled similarities: precision first, then recall, then margin.

    Every threshold on a ``grid`` between 0 and 1 is scored by (precision, recall) of "match if
    score >= threshold" (precision is 1.0 when nothing matches); among the best, the middle of
    that range is returned, to keep a margin on both sides.

    Args:
        scores: cosine similarity of each pair.
        labels: True for pairs that should match.

    Returns:
        (threshold, precision, recall) at the chosen threshold.

    Raises:
        ValueError: the lists differ in length, or there is no positive pair.
    """
    if len(scores) != len(labels) or not any(labels):
        raise ValueError("calibrate needs as many labels as scores and at least one positive pair")
    steps = round(1 / grid)
    best: tuple[float, float] | None = None
    chosen: list[float] = []
    for i in range(1, steps + 1):
        t = round(i * grid, 6)
        matched = [lab for s, lab in zip(scores, labels) if s >= t]
        precision = sum(matched) / len(matched) if matched else 1.0
        recall = sum(matched) / sum(labels)
        key = (round(precision, 9), round(recall, 9))
        if best is None or key > best:
            best, chosen = key, [t]
        elif key == best:
            chosen.append(t)
    assert best is not None
    middle = round(round((chosen[0] + chosen[-1]) / 2 / grid) * grid, 6)
    return middle, best[0], best[1]
