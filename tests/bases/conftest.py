"""Fixtures of the base tests (helpers live in bases_helpers.py)."""

from __future__ import annotations

import pytest
from bases_helpers import MATRIX, CsvReferenceTown
from reference_data import require


@pytest.fixture(scope="session")
def reference_town() -> CsvReferenceTown:
    """The original map's addresses (a CSV-backed test double of ``aga.world.Town``)."""
    require(MATRIX, "reference map CSVs")
    return CsvReferenceTown(MATRIX)
