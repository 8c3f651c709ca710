"""Fixtures of the base tests (helpers live in bases_helpers.py)."""

from __future__ import annotations

import pytest
from bases_helpers import MATRIX, CsvReferenceTown


@pytest.fixture(scope="session")
def reference_town() -> CsvReferenceTown:
    """The original map's addresses (a CSV-backed test double of ``aga.world.Town``)."""
    if not MATRIX.is_dir():
        pytest.skip(f"reference map CSVs not found at {MATRIX}")
    return CsvReferenceTown(MATRIX)
