"""``aga export``: write a simulation in a format other tools know."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from aga.cli.run import STORAGE_HELP, storage_dir
from aga.errors import InputError

console = Console(stderr=True, soft_wrap=True)


def export(
    sim: Annotated[
        str, typer.Argument(help="Simulation name (in the storage folder) or a simulation folder.")
    ],
    out: Annotated[Path, typer.Argument(help="Folder to write (must not exist unless --force).")],
    fmt: Annotated[
        str,
        typer.Option("--format", help="Output format: 'ga' = the original Generative Agents storage layout."),
    ] = "ga",
    storage: Annotated[Optional[Path], typer.Option("--storage", help=STORAGE_HELP)] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing output folder.")] = False,
) -> None:
    """Export a simulation (e.g. `aga export mysim --format ga out/mysim`)."""
    from aga.store.ga_export import export_ga
    from aga.store.sim_store import SimStore

    if fmt != "ga":
        raise InputError(f"unknown export format {fmt!r}; known formats: ga")
    folder = (
        Path(sim) if Path(sim).is_dir() and (Path(sim) / "sim.db").exists() else storage_dir(storage) / sim
    )
    store = SimStore.open(folder)
    try:
        export_ga(store, out, force=force)
    finally:
        store.close()
    console.print(f"wrote {out} (original Generative Agents layout)", highlight=False)
