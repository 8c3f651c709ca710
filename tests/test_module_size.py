"""Modules stay under the size the architecture page names (docs/architecture.md: ~600 lines)."""

from __future__ import annotations

from pathlib import Path

LIMIT = 600
SRC = Path(__file__).resolve().parents[1] / "src" / "aga"


def test_every_module_is_at_most_600_lines() -> None:
    sizes = {
        str(p.relative_to(SRC)): len(p.read_text(encoding="utf-8").splitlines()) for p in SRC.rglob("*.py")
    }
    assert {name: n for name, n in sizes.items() if n > LIMIT} == {}
