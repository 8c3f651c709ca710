"""Metrics files in the shapes of the Affordable Generative Agents code, written from the ledger.

Under ``<sim>/metrics/`` (keys are task names, the AGA "function_name"):

- ``function_name_count.json`` ``{task: int}``: calls that got an answer (cache hits excluded)
- ``function_name_token.json`` ``{task: [int, ...]}``: total tokens of each such call
- ``function_name_time.json`` ``{task: [float, ...]}``: seconds of each such call
- ``function_name_fail_count.json`` ``{task: int}``: failed attempts (transport or invalid answer)
- ``function_name_fail_reason.json`` ``{task: [str, ...]}``: their reasons, in order
- ``model_count.json`` / ``model_token.json``: the same per model
- ``detail_info.json``: every ledger row, in order, as ``{function_name, model, token, time}`` plus
  ``agent, game_time, prompt_tokens, completion_tokens, cached_tokens, cached, defaulted, ok, kind,
  backend, error`` (``cached_tokens``: prompt tokens the server read from its prompt cache)
- ``<Full Name>.json``: a resident's action log, when given

Files are written atomically (temp file + ``os.replace``) from the whole ledger, so a resumed
run's files include the earlier calls and a crash never leaves a half-written file.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from aga.gateway.core import INVALID_ANSWER
from aga.gateway.ledger import LedgerRow
from aga.gateway.secrets import scrub

FILES = (
    "function_name_count.json",
    "function_name_token.json",
    "function_name_time.json",
    "function_name_fail_count.json",
    "function_name_fail_reason.json",
    "model_count.json",
    "model_token.json",
    "detail_info.json",
)


def as_rows(rows: Iterable[LedgerRow | Mapping[str, Any]]) -> list[LedgerRow]:
    """Ledger rows from rows or their dicts (as stored)."""
    return [r if isinstance(r, LedgerRow) else LedgerRow.from_dict(dict(r)) for r in rows]


def answered(row: LedgerRow) -> bool:
    """The backend gave an answer (valid or not) and it was not a cache hit."""
    return not row.cached and (row.ok or (row.error or "").startswith(INVALID_ANSWER))


def metrics_files(rows: Iterable[LedgerRow | Mapping[str, Any]]) -> dict[str, Any]:
    """The content of each metrics file, by file name."""
    count: dict[str, int] = {}
    token: dict[str, list[int]] = {}
    seconds: dict[str, list[float]] = {}
    fail_count: dict[str, int] = {}
    fail_reason: dict[str, list[str]] = {}
    model_count: dict[str, int] = {}
    model_token: dict[str, list[int]] = {}
    detail: list[dict[str, Any]] = []
    for row in as_rows(rows):
        if answered(row):
            count[row.task] = count.get(row.task, 0) + 1
            token.setdefault(row.task, []).append(row.tokens)
            seconds.setdefault(row.task, []).append(round(row.seconds, 6))
            model_count[row.model] = model_count.get(row.model, 0) + 1
            model_token.setdefault(row.model, []).append(row.tokens)
        if not row.ok:
            fail_count[row.task] = fail_count.get(row.task, 0) + 1
            fail_reason.setdefault(row.task, []).append(scrub(row.error or "unknown failure"))
        detail.append(
            {
                "function_name": row.task,
                "model": row.model,
                "token": row.tokens,
                "time": round(row.seconds, 6),
                "agent": row.agent,
                "game_time": row.game_time.isoformat() if row.game_time else None,
                "prompt_tokens": row.prompt_tokens,
                "completion_tokens": row.completion_tokens,
                "cached_tokens": row.cached_tokens,
                "cached": row.cached,
                "defaulted": row.defaulted,
                "ok": row.ok,
                "kind": row.kind,
                "backend": row.backend,
                "error": scrub(row.error) if row.error else None,
            }
        )
    return dict(
        zip(FILES, (count, token, seconds, fail_count, fail_reason, model_count, model_token, detail))
    )


def write_metrics(
    rows: Iterable[LedgerRow | Mapping[str, Any]],
    folder: str | Path,
    action_logs: Mapping[str, list[dict[str, Any]]] | None = None,
) -> list[Path]:
    """Write the metrics files (and action logs) into ``folder``; returns the paths written.

    Args:
        rows: the whole ledger, in call order (rows or their dicts).
        folder: ``<sim>/metrics``; created if needed.
        action_logs: resident full name -> action-log records, written as ``<Full Name>.json``.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in metrics_files(rows).items():
        written.append(_write_json(folder / name, content))
    for agent, log in (action_logs or {}).items():
        safe = agent.replace("/", "_").replace("\\", "_").strip() or "unnamed"
        written.append(_write_json(folder / f"{safe}.json", log))
    return written


def _write_json(path: Path, content: Any) -> Path:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(content, fh, indent=4, ensure_ascii=False)
            fh.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
