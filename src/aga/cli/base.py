"""``aga base ...``: generate bases of any size."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(no_args_is_help=True, help="Generate bases (residents and where they live).")


@app.command("generate")
def generate(
    residents: Annotated[int, typer.Option("--residents", "-n", help="How many residents.")],
    town: Annotated[
        str, typer.Option(help="A town made by `aga town build --homes N` (file path or bundled name).")
    ],
    seed: Annotated[int, typer.Option(help="Seed of the generated people (and of the simulation).")] = 0,
    out: Annotated[
        Path | None, typer.Option(help="The base folder to write (default: ./base_<town>_n<residents>).")
    ] = None,
    name: Annotated[str | None, typer.Option(help="Name of the base (default: the folder's name).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace the folder's files if it exists.")] = False,
) -> None:
    """Write a base of RESIDENTS people in households, one per house of TOWN, with trades at its
    workplaces, daily rhythms, ties and a few seeded facts; then load it back and check it."""
    from aga.bases import load_base
    from aga.bases.generate import generate_base, write_base
    from aga.errors import BaseSimError
    from aga.world import load_town
    from aga.world.loading import resolve_town

    the_town = load_town(town)
    path = resolve_town(town)
    ref = town if "/" not in town and not Path(town).exists() else str(path)
    folder = out or Path(f"base_{the_town.name}_n{residents}")
    if folder.exists() and any(folder.iterdir()) and not force:
        raise BaseSimError(f"{folder}: already exists; not overwriting it (use --force to replace it)")
    base = generate_base(residents, the_town, town_ref=ref, seed=seed, name=name or folder.name)
    write_base(base, folder, force=force)
    loaded = load_base(folder.resolve())  # validated like any base
    households = len({p.living_area.rsplit(":", 1)[0] for p in loaded.residents})
    typer.echo(f"wrote {folder}: {len(loaded.residents)} residents in {households} houses of {the_town.name}")
