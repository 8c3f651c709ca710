"""Where the tests find the reference data of the original project: ``../shared`` next to the repo.

The folder is found relative to this repository (``<repo>/../shared/reference``), wherever the
clone lies. When it is missing, tests that need it are skipped on a developer's machine and FAIL
under CI (``CI=true``), so a CI run never passes by skipping them.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
REFERENCE = SHARED / "reference"
GA = REFERENCE / "generative_agents"
FRONTEND = GA / "environment" / "frontend_server"
ORIGINAL_MATRIX = FRONTEND / "static_dirs" / "assets" / "the_ville" / "matrix"
ORIGINAL_STORAGE = FRONTEND / "storage"
ORIGINAL_RUN = FRONTEND / "compressed_storage" / "July1_the_ville_isabella_maria_klaus-step-3-20"


def in_ci() -> bool:
    """Whether the suite runs under CI (``CI`` set to a true value, as CI services do)."""
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def require(path: Path, what: str) -> Path:
    """``path`` if it exists; else skip the test (fail it under CI), naming what is missing and where."""
    if path.exists():
        return path
    message = f"{what} not found at {path} (expected ../shared/reference next to the repository)"
    if in_ci():
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def needs(path: Path, what: str) -> pytest.MarkDecorator:
    """A mark for tests that need ``path``: skip where it is absent, except under CI, where the
    test runs (and fails) so a missing folder is never a silent pass."""
    return pytest.mark.skipif(not path.exists() and not in_ci(), reason=f"{what} not found at {path}")
