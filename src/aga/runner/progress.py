"""Running with a progress bar, and keeping the metrics files up to date.

Metrics files are rewritten from the store's ledger every ``METRICS_EVERY`` steps and at every
stop (normal end, Ctrl-C, a dead model endpoint), so they are never lost and a resumed run's
files include the earlier calls.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from aga.gateway.metrics import write_metrics
from aga.runner.interrupt import StopSignals
from aga.runner.simulation import Simulation, StepReport
from aga.store.side_ledger import all_ledger_rows

METRICS_EVERY = 360  # one game hour of 10-second steps
PLAIN_EVERY = 360  # steps between progress lines when the output is not a terminal


def write_sim_metrics(sim: Simulation) -> None:
    """Rewrite ``<sim>/metrics/`` from the whole stored ledger and action logs.

    Calls of a step that failed (not committed) are stored first: they are the attempts that
    explain why the run stopped, and the successful ones among them were billed.
    """
    if sim.failed_step is not None:
        sim.store.add_ledger_rows(sim.failed_step, [row.to_dict() for row in sim.gateway.ledger.drain()])
    rows = all_ledger_rows(sim.store.ledger_rows(), sim.store.folder)  # + interviews (aga.store.side_ledger)
    write_metrics(rows, sim.store.folder / "metrics", action_logs=sim.store.action_logs())


class ModelLoadColumn(ProgressColumn):
    """The progress line's ``calls waiting / in flight`` (read live from the gateway's bound)."""

    def __init__(self, gateway: Any) -> None:
        super().__init__()
        self.gateway = gateway

    def render(self, task: Any) -> Text:
        """``| 3 waiting, 8/8 in flight`` (calls waiting for a slot; in flight / the bound)."""
        load = getattr(self.gateway, "load", None)
        if load is None:
            return Text("")
        waiting, in_flight = load()
        return Text(f"| {waiting} waiting, {in_flight}/{self.gateway.max_in_flight} in flight")


async def run_with_progress(
    sim: Simulation,
    steps: int,
    *,
    quiet: bool = False,
    console: Console | None = None,
    resume: Callable[[int], str] | None = None,
) -> int:
    """Run ``steps`` steps; returns an exit code (0, or 130 after Ctrl-C / SIGTERM).

    On a terminal a live bar shows the progress; when the output goes to a file or pipe, a plain
    line is printed every ``PLAIN_EVERY`` steps (game time, steps, calls, tokens, seconds).

    The first Ctrl-C (or SIGTERM) stops after the step in progress is committed; a second one
    abandons the step in progress at once (nothing of it is saved, every earlier step is). Either
    way it prints ``interrupted; saved at step N`` and the command that continues the run
    (``resume(steps_left)``). Metrics are written at every stop.
    """
    console = console or Console(stderr=True)
    totals = {"calls": 0, "in": 0, "out": 0, "defaulted": 0}
    progress = Progress(
        TextColumn("[bold]{task.fields[time]}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(
            "steps | {task.fields[calls]} calls | {task.fields[tokens_in]} in / {task.fields[tokens_out]} out tokens"
        ),
        ModelLoadColumn(sim.gateway),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=quiet,
        transient=False,
    )
    task = progress.add_task(
        "run", total=steps, time=sim.now.strftime("%b %d %H:%M"), calls=0, tokens_in=0, tokens_out=0
    )

    def on_step(report: StepReport) -> None:
        totals["calls"] += report.calls
        totals["in"] += report.prompt_tokens
        totals["out"] += report.completion_tokens
        totals["defaulted"] += report.defaulted
        progress.update(
            task,
            advance=1,
            time=sim.now.strftime("%b %d %H:%M"),
            calls=totals["calls"],
            tokens_in=totals["in"],
            tokens_out=totals["out"],
        )
        if sim.step % METRICS_EVERY == 0:
            write_sim_metrics(sim)
        if plain_every and not quiet and (sim.step - first) % plain_every == 0:
            done = sim.step - first
            console.print(
                f"{sim.now:%b %d %H:%M} step {sim.step}: {done}/{steps} steps, {totals['calls']} calls, "
                f"{totals['in']} in / {totals['out']} out tokens, {time.monotonic() - started:.0f} s",
                highlight=False,
            )

    def on_first() -> None:
        console.print("stopping after this step (Ctrl-C again to stop now)", highlight=False)

    code = 0
    first = sim.step
    started = time.monotonic()
    # a log file gets no live bar (rich draws one only on a terminal): a plain line every game hour
    plain_every = 0 if console.is_terminal else PLAIN_EVERY
    signals = StopSignals(on_first)
    try:
        with signals, progress:
            try:
                await sim.run(steps, on_step=on_step, stop=lambda: signals.requested)
                signals.finished()
            except asyncio.CancelledError:
                if not signals.requested:
                    raise
                current = asyncio.current_task()
                if current is not None:
                    current.uncancel()
        if signals.requested:
            left = steps - (sim.step - first)
            hint = f"; continue with `{resume(left)}`" if resume is not None and left > 0 else ""
            console.print(f"interrupted; saved at step {sim.step}{hint}", highlight=False)
            code = 130
    finally:
        write_sim_metrics(sim)
        await sim.gateway.aclose()  # HTTP clients and cache files of the model backends
    if not quiet:
        console.print(
            f"step {sim.step} ({sim.now:%B %d, %Y, %H:%M:%S}): {totals['calls']} model calls "
            f"({totals['defaulted']} answers defaulted), "
            f"{totals['in']} prompt + {totals['out']} completion tokens; metrics in {sim.store.folder / 'metrics'}",
            highlight=False,
        )
    return code
