"""``aga metrics <sim>``: calls, tokens and dollars of a simulation, per task and per model.

Reads ``<sim>/metrics/detail_info.json`` (written by every run) and prices it with the bundled
price table or ``--prices FILE``.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from aga.errors import InputError
from aga.gateway.prices import PriceTable, Tally, load_prices, summarize
from aga.settings import storage_root

console = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 140)
"""Wide enough for task names when the output goes to a file or a pipe (Rich would use 80 columns)."""


def find_detail(sim: str, storage: Path | None = None) -> Path:
    """The ``detail_info.json`` of ``sim`` (a folder, or a simulation name in the storage folder).

    Raises:
        InputError: no such simulation, or it has no metrics yet.
    """
    folder = Path(sim)
    if not folder.is_dir():
        root = storage_root(storage)
        if (root / sim).is_dir():
            folder = root / sim
        else:
            raise InputError(f"no simulation folder {sim!r} (looked at {folder} and {root / sim})")
    detail = folder / "metrics" / "detail_info.json"
    if not detail.is_file():
        raise InputError(f"{folder} has no metrics yet ({detail} is missing); run some steps with `aga run`")
    return detail


def read_detail(path: Path) -> list[dict[str, Any]]:
    """The entries of a ``detail_info.json``.

    Raises:
        InputError: the file is not a JSON list of objects.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise InputError(f"{path}:{err.lineno}: not valid JSON ({err.msg})") from None
    if not isinstance(data, list) or not all(isinstance(d, dict) for d in data):
        raise InputError(f"{path}: expected a JSON list of call records")
    return data


def _money(value: float, unpriced: set[str]) -> str:
    if unpriced:
        return "n/a" if value == 0 else f"≥ ${value:,.4f}"
    return f"${value:,.4f}"


def _table(title: str, key: str, tallies: dict[str, Tally]) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column(key)
    for name in ("calls", "failed", "cached", "defaulted", "tokens in", "tokens out", "seconds", "cost"):
        table.add_column(name, justify="right")
    ordered = sorted(
        tallies.items(), key=lambda kv: (-(kv[1].prompt_tokens + kv[1].completion_tokens), kv[0])
    )
    for name, t in ordered:
        table.add_row(
            name,
            str(t.calls),
            str(t.failed),
            str(t.cached),
            str(t.defaulted),
            f"{t.prompt_tokens:,}",
            f"{t.completion_tokens:,}",
            f"{t.seconds:,.1f}",
            _money(t.cost, t.unpriced),
        )
    return table


def report(detail: list[dict[str, Any]], prices: PriceTable, out: Console) -> None:
    """Print the tables for ``detail`` entries."""
    groups = summarize(detail, prices)
    out.print(_table("Per task", "task", groups["task"]))
    out.print(_table("Per model", "model", groups["model"]))
    total = groups["all"]["all"]
    out.print(
        f"Total: {total.calls:,} calls ({total.cached:,} from the cache, {total.failed:,} failed, "
        f"{total.defaulted:,} defaulted), {total.prompt_tokens:,} tokens in"
        + (
            f" ({total.cached_tokens:,} of them from the server's prompt cache)"
            if total.cached_tokens
            else ""
        )
        + ", "
        f"{total.completion_tokens:,} out, "
        f"cost {_money(total.cost, total.unpriced)}",
        highlight=False,
    )
    if total.unpriced:
        names = ", ".join(sorted(total.unpriced))
        out.print(f"No price for: {names}. Add them to a price file and pass --prices FILE.", highlight=False)
    reasons: Counter[tuple[str, str]] = Counter(
        (str(d.get("function_name")), str(d.get("error") or "failed")) for d in detail if d.get("ok") is False
    )
    if reasons:
        table = Table(title="Failures", title_justify="left")
        table.add_column("task")
        table.add_column("times", justify="right")
        table.add_column("reason")
        for (task, reason), n in reasons.most_common(15):
            table.add_row(task, str(n), reason[:120])
        out.print(table)


def metrics(
    sim: Annotated[
        str, typer.Argument(help="Simulation folder, or a simulation name in the storage folder.")
    ],
    prices: Annotated[
        Path | None,
        typer.Option("--prices", help="YAML price table (USD per million tokens) to add to the bundled one."),
    ] = None,
    storage: Annotated[
        Path | None,
        typer.Option(
            "--storage", help="Folder holding the simulations (default: $AGA_STORAGE or ./storage)."
        ),
    ] = None,
) -> None:
    """Show the calls, tokens and cost of a simulation, per task and per model."""
    table = load_prices(prices)
    detail_path = find_detail(sim, storage)
    report(read_detail(detail_path), table, console)
