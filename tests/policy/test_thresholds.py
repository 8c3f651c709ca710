"""The threshold table and the calibration rule used by bench/calibrate_policy.py."""

from __future__ import annotations

import pytest

from aga.policy import DEFAULT_THRESHOLD, THRESHOLDS, threshold_for
from aga.policy.thresholds import calibrate


def test_table_keeps_agas_value_and_a_conservative_default() -> None:
    assert threshold_for("text-embedding-ada-002") == 0.97
    assert threshold_for("some-model-nobody-calibrated") == DEFAULT_THRESHOLD
    assert DEFAULT_THRESHOLD >= max(THRESHOLDS.values())
    assert all(0.0 < t <= 1.0 for t in THRESHOLDS.values())


def test_calibration_puts_precision_first_then_recall_then_margin() -> None:
    scores = [0.99, 0.97, 0.91, 0.80, 0.95, 0.70]
    labels = [True, True, True, True, False, False]
    threshold, precision, recall = calibrate(scores, labels)
    # no false match means a threshold above 0.95; the best recall then keeps 0.96..0.97
    assert (precision, recall) == (1.0, 0.5)
    assert 0.95 < threshold <= 0.97
    assert threshold == pytest.approx(0.96)


def test_calibration_with_separable_scores_matches_every_positive() -> None:
    threshold, precision, recall = calibrate([0.9, 0.85, 0.5, 0.4], [True, True, False, False])
    assert (precision, recall) == (1.0, 1.0)
    assert 0.5 < threshold <= 0.85 and threshold == pytest.approx(0.68)


def test_calibration_needs_a_positive_pair() -> None:
    with pytest.raises(ValueError, match="positive"):
        calibrate([0.5], [False])
