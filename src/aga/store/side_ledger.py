"""Ledger rows of the calls that read a simulation without changing it (interviews, questions).

They live next to the store, in ``<sim>/interviews/ledger.jsonl`` (one JSON ledger row a line,
appended), so asking a resident something never writes ``sim.db``. The metrics files of the
simulation are the store's ledger followed by these rows: :func:`all_ledger_rows` merges them,
and both ``aga run`` and the interview commands write the metrics from it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from aga.errors import StoreError

SIDE_DIR = "interviews"
SIDE_FILE = "ledger.jsonl"


def side_ledger_path(folder: Path) -> Path:
    """``<sim>/interviews/ledger.jsonl``."""
    return folder / SIDE_DIR / SIDE_FILE


def append_side_rows(folder: Path, rows: Iterable[Mapping[str, Any]]) -> int:
    """Append ledger rows (their dicts) to the side ledger; returns how many were written."""
    lines = [json.dumps(dict(r), ensure_ascii=False, sort_keys=True) for r in rows]
    if not lines:
        return 0
    path = side_ledger_path(folder)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    return len(lines)


def side_rows(folder: Path) -> list[dict[str, Any]]:
    """The side ledger's rows in order ([] when there is none).

    A last line cut short by a crash is skipped; any other unreadable line is an error.

    Raises:
        StoreError: a line that is not a JSON object (names the file and line).
    """
    path = side_ledger_path(folder)
    if not path.is_file():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    out: list[dict[str, Any]] = []
    for k, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            if k == len(lines):
                break
            raise StoreError(f"{path}:{k}: not a JSON ledger row") from None
        if not isinstance(row, dict):
            raise StoreError(f"{path}:{k}: not a JSON ledger row")
        out.append(row)
    return out


def all_ledger_rows(store_rows: Iterable[Mapping[str, Any]], folder: Path) -> list[dict[str, Any]]:
    """The store's ledger rows followed by the side ledger's (what the metrics files count)."""
    return [dict(r) for r in store_rows] + side_rows(folder)
