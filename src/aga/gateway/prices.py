"""What a run cost: the editable price table and per-task / per-model summaries of a ledger.

The bundled table is ``aga/gateway/prices.yaml`` (USD per million input / output tokens, and
optionally cached input tokens: prompt tokens the server read from its prompt cache); a user's
file adds to it or replaces entries. Local backends cost nothing; a model missing from
the table has an unknown cost (shown as such, never guessed).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from aga.errors import InputError

BUNDLED = Path(__file__).with_name("prices.yaml")


@dataclass(frozen=True)
class Price:
    """USD per million tokens; ``cached_input`` (None: the input price) for cached prompt tokens."""

    input: float
    output: float
    cached_input: float | None = None


@dataclass(frozen=True)
class PriceTable:
    """Prices by model name, and the backends that cost nothing."""

    models: Mapping[str, Price]
    local_backends: frozenset[str]

    def price_for(self, model: str, backend: str = "") -> Price | None:
        """The price of ``model`` (exact name, else the longest matching prefix); None if unknown."""
        if backend in self.local_backends:
            return Price(0.0, 0.0)
        name = model.removeprefix("models/")
        if name in self.models:
            return self.models[name]
        best = max((k for k in self.models if name.startswith(k)), key=len, default=None)
        return self.models[best] if best else None

    def cost(
        self, model: str, backend: str, prompt_tokens: int, completion_tokens: int, cached_tokens: int = 0
    ) -> float | None:
        """Dollars for these tokens (``cached_tokens`` of the prompt at the cached price), or None
        when the model has no price."""
        price = self.price_for(model, backend)
        if price is None:
            return None
        cached = max(0, min(int(cached_tokens), int(prompt_tokens)))
        cached_price = price.input if price.cached_input is None else price.cached_input
        fresh = prompt_tokens - cached
        return (fresh * price.input + cached * cached_price + completion_tokens * price.output) / 1_000_000


def load_prices(path: str | Path | None = None) -> PriceTable:
    """The bundled table, updated with ``path`` when given.

    Raises:
        InputError: the file is missing or malformed (names the file and the entry).
    """
    models, local = _read(BUNDLED)
    if path is not None:
        more_models, more_local = _read(Path(path))
        models.update(more_models)
        local |= more_local
    return PriceTable(models, frozenset(local))


def _read(path: Path) -> tuple[dict[str, Price], set[str]]:
    if not path.is_file():
        raise InputError(f"price file {path} not found")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        raise InputError(f"price file {path}{where} is not valid YAML") from None
    if not isinstance(data, dict):
        raise InputError(
            f"price file {path}: expected a mapping with 'models' (and optionally 'local_backends')"
        )
    models: dict[str, Price] = {}
    for name, entry in (data.get("models") or {}).items():
        if (
            not isinstance(entry, dict)
            or set(entry) - {"input", "output", "cached_input"}
            or "input" not in entry
        ):
            raise InputError(
                f"price file {path}: model '{name}' needs {{input: <USD/M>, output: <USD/M>}}"
                " (and optionally cached_input: <USD/M>)"
            )
        try:
            cached_input = entry.get("cached_input")
            price = Price(
                float(entry["input"]),
                float(entry.get("output", 0.0)),
                None if cached_input is None else float(cached_input),
            )
        except (TypeError, ValueError):
            raise InputError(f"price file {path}: model '{name}' has a price that is not a number") from None
        if price.input < 0 or price.output < 0 or (price.cached_input is not None and price.cached_input < 0):
            raise InputError(f"price file {path}: model '{name}' has a negative price")
        models[str(name)] = price
    local = data.get("local_backends") or []
    if not isinstance(local, list):
        raise InputError(f"price file {path}: 'local_backends' must be a list of backend names")
    return models, {str(b) for b in local}


@dataclass
class Tally:
    """Totals of a group of ledger rows."""

    calls: int = 0
    failed: int = 0
    cached: int = 0
    defaulted: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    seconds: float = 0.0
    cost: float = 0.0
    unpriced: set[str] = field(default_factory=set)

    def add(self, row: Mapping[str, Any], table: PriceTable) -> None:
        """Count one detail row (``detail_info.json`` entry)."""
        cached = bool(row.get("cached"))
        ok = bool(row.get("ok", True))
        prompt = int(row.get("prompt_tokens") or 0)
        completion = int(row.get("completion_tokens") or 0)
        cached_tokens = int(row.get("cached_tokens") or 0)
        if prompt == completion == 0 and row.get("token") and not cached:
            prompt = int(row["token"])  # an original AGA file: only the total is known
        self.calls += 0 if cached else 1
        self.cached += cached
        self.failed += not ok
        self.defaulted += bool(row.get("defaulted"))
        self.prompt_tokens += prompt
        self.completion_tokens += completion
        self.cached_tokens += cached_tokens
        self.seconds += float(row.get("time") or 0.0)
        cost = table.cost(
            str(row.get("model", "")), str(row.get("backend", "")), prompt, completion, cached_tokens
        )
        if cost is None:
            if prompt or completion:
                self.unpriced.add(str(row.get("model", "")))
        else:
            self.cost += cost


def summarize(detail: Iterable[Mapping[str, Any]], table: PriceTable) -> dict[str, dict[str, Tally]]:
    """Tallies by task (``function_name``), by model, and the total (key ``"all"``)."""
    by_task: dict[str, Tally] = {}
    by_model: dict[str, Tally] = {}
    total = Tally()
    for row in detail:
        task = str(row.get("function_name", "?"))
        model = str(row.get("model", "?"))
        for tally in (by_task.setdefault(task, Tally()), by_model.setdefault(model, Tally()), total):
            tally.add(row, table)
    return {"task": by_task, "model": by_model, "all": {"all": total}}
