"""``aga run``: fork a base into a new simulation and run it, or continue an existing one."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from aga.errors import BackendUnavailable, InputError

console = Console(stderr=True, soft_wrap=True)

STORAGE_HELP = "Folder holding the simulations (default: $AGA_STORAGE or ./storage)."


def storage_dir(storage: Path | None) -> Path:
    """--storage, else $AGA_STORAGE, else ./storage."""
    if storage is not None:
        return storage
    return Path(os.environ.get("AGA_STORAGE", "storage"))


def run(
    steps: Annotated[int, typer.Option("--steps", "-s", help="Number of 10-second steps to run (a positive integer).")],
    sim: Annotated[str, typer.Option("--sim", "-t", help="Name of the simulation to create (with -o) or continue.")],
    fork: Annotated[
        Optional[str],
        typer.Option("--fork", "-o", help="Base to fork: a bundled name, a base folder, or an original-format storage folder."),
    ] = None,
    storage: Annotated[Optional[Path], typer.Option("--storage", help=STORAGE_HELP)] = None,
    town: Annotated[
        Optional[str], typer.Option("--town", help="Town for a new fork: a bundled name or a town file (default: the base's).")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="With -o: replace an existing simulation of that name.")] = False,
    llm: Annotated[
        Optional[str],
        typer.Option(
            "--llm",
            help="Model: embedded (default), embedded:fast, gguf:<path>, openai:<model>, gemini:<model>, or scripted (test double).",
        ),
    ] = None,
    embed: Annotated[Optional[str], typer.Option("--embed", help="Embedding model (default: the backend's natural choice).")] = None,
    llm_cache: Annotated[
        Optional[bool], typer.Option("--llm-cache/--no-llm-cache", help="Reuse stored answers to identical requests.")
    ] = None,
    disable_policy: Annotated[
        bool, typer.Option("--disable_policy", "--disable-policy", help="Turn off the Lifestyle Policy (plan and grounding reuse).")
    ] = False,
    disable_relationship: Annotated[
        bool,
        typer.Option("--disable_relationship", "--disable-relationship", help="Turn off Social Memory (relationship summaries)."),
    ] = False,
    mind_wandering: Annotated[
        Optional[bool], typer.Option("--mind_wandering/--no-mind_wandering", help="Sample memories for novel plans on a new day.")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Fork a base into a new simulation and run N steps (-o BASE -t NEW -s N), or continue one (-t SIM -s N)."""
    from aga.runner.lifecycle import RunSettings, check_sim_name, check_steps, fork as do_fork, open_simulation
    from aga.runner.progress import run_with_progress

    check_steps(steps)
    check_sim_name(sim)
    root = storage_dir(storage)
    overrides = {
        "llm": llm,
        "embed": embed,
        "llm_cache": llm_cache,
        "policy": False if disable_policy else None,
        "relationship": False if disable_relationship else None,
        "mind_wandering": mind_wandering,
    }
    if fork is not None:
        settings = RunSettings().merged(overrides)
        folder = do_fork(fork, root, sim, town=town, settings=settings, force=force)
        console.print(f"forked [bold]{fork}[/] into [bold]{folder}[/]", highlight=False)
        overrides = {}
    else:
        if town is not None or force:
            raise InputError("--town and --force only apply when forking a base with -o/--fork")
        folder = root / sim
    simulation = open_simulation(folder, overrides)
    try:
        code = asyncio.run(run_with_progress(simulation, steps, quiet=quiet, console=console))
    except BackendUnavailable as err:
        console.print(f"[bold red]stopped:[/] {err}", highlight=False)
        console.print(
            f"the simulation is saved at step {simulation.step}; resume with "
            f"`aga run -t {sim} -s N`" + (f" --storage {root}" if storage is not None else ""),
            highlight=False,
        )
        sys.exit(3)
    finally:
        simulation.store.close()
    if code:
        sys.exit(code)
