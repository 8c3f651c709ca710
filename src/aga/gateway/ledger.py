"""The ledger: one row per backend call (and per failed attempt), drained by the runner each step.

Rows are plain data; ``to_dict``/``from_dict`` round-trip them through the store and the metrics
files. Cached answers are rows with ``cached=True`` and zero tokens (they cost nothing).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, Literal

Kind = Literal["llm", "embed"]


@dataclass
class LedgerRow:
    """One backend call.

    Attributes:
        task: the task name (``"embed"`` for embedding batches).
        agent: the resident the call was for, if any.
        game_time: the simulation time of the call, if known.
        model: the model that answered (or was asked).
        backend: the backend family (``scripted``, ``embedded``, ``openai``, ...), for pricing.
        prompt_tokens: input tokens billed.
        completion_tokens: output tokens billed.
        seconds: wall time of the call.
        ok: the call gave a usable answer.
        error: short reason when not ok (transport failure or answer problem).
        cached: answered from the response cache (no cost).
        defaulted: attempts were spent and the task's fallback was used.
        kind: ``"llm"`` or ``"embed"``.
        prompt: the system and user text sent (``None`` when not kept).
        answer: the model's raw answer text (``None`` when there was none).
        cached_tokens: of ``prompt_tokens``, those the server read from its prompt cache (when it
            says so); priced at the model's cached-input price.
    """

    task: str
    agent: str | None = None
    game_time: datetime | None = None
    model: str = ""
    backend: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    ok: bool = True
    error: str | None = None
    cached: bool = False
    defaulted: bool = False
    kind: Kind = "llm"
    cached_tokens: int = 0
    # The text sent and the text answered (for the viewer's inspector; None on rows stored before
    # they were kept, and on failures that got no answer). Not compared: rows are equal by their figures.
    prompt: str | None = field(default=None, compare=False, repr=False)
    answer: str | None = field(default=None, compare=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict; ``game_time`` as ISO text."""
        out = {name: getattr(self, name) for name in _FIELD_NAMES}  # all plain values: no deep copy
        out["game_time"] = self.game_time.isoformat() if self.game_time else None
        out["seconds"] = round(self.seconds, 6)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LedgerRow:
        """Inverse of ``to_dict``; unknown keys are ignored, missing ones take defaults."""
        known = {f.name for f in fields(cls)}
        kw = {k: v for k, v in data.items() if k in known}
        if isinstance(kw.get("game_time"), str):
            kw["game_time"] = datetime.fromisoformat(kw["game_time"])
        return cls(**kw)

    @property
    def tokens(self) -> int:
        """Prompt plus completion tokens."""
        return self.prompt_tokens + self.completion_tokens


_FIELD_NAMES = tuple(f.name for f in fields(LedgerRow))


class Ledger:
    """Collects rows; ``drain()`` hands over the rows added since the last drain."""

    def __init__(self) -> None:
        self._rows: list[LedgerRow] = []
        self.total_calls = 0
        self.total_prompt_tokens = 0
        self.total_completion_tokens = 0

    def add(self, row: LedgerRow) -> None:
        """Record one row."""
        self._rows.append(row)
        if not row.cached:
            self.total_calls += 1
        self.total_prompt_tokens += row.prompt_tokens
        self.total_completion_tokens += row.completion_tokens

    def extend(self, rows: list[LedgerRow]) -> None:
        """Record several rows in order."""
        for row in rows:
            self.add(row)

    def drain(self) -> list[LedgerRow]:
        """The rows recorded since the last drain, oldest first."""
        rows, self._rows = self._rows, []
        return rows

    def pending(self) -> list[LedgerRow]:
        """The undrained rows (a copy), for inspection."""
        return list(self._rows)
