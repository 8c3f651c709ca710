"""``aga replay ...`` (compress a run, import an original one) and ``aga serve`` (watch them).

Registered by the CLI root as::

    app.add_typer(viewer.app, name="replay", help="Compress runs and import original ones for watching.")
    app.command("serve")(viewer.serve)
    app.command("story")(viewer.story)
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from urllib.parse import quote

import typer

from aga.cli.run import STORAGE_HELP, storage_dir

app = typer.Typer(no_args_is_help=True, help="Compress runs and import original ones for watching.")


@app.command("compress")
def compress(
    sim: Annotated[
        str, typer.Argument(help="Simulation name (in the storage folder) or a simulation folder.")
    ],
    storage: Annotated[Path | None, typer.Option("--storage", help=STORAGE_HELP)] = None,
) -> None:
    """Write <storage>/<sim>/replay/master_movement.json + meta.json (the original's compressed format)."""
    from aga.viewer.convert import compress_simulation

    folder = (
        Path(sim) if Path(sim).is_dir() and (Path(sim) / "sim.db").is_file() else storage_dir(storage) / sim
    )
    done = compress_simulation(folder)
    size = (done.folder / "master_movement.json").stat().st_size
    typer.echo(
        f"wrote {done.folder}: {done.steps} steps of {len(done.names)} residents, "
        f"{done.changes} entries ({size / 1024:.0f} KiB)"
    )


@app.command("import-ga")
def import_ga(
    folder: Annotated[
        Path,
        typer.Argument(help="An original compressed run: a folder with master_movement.json and meta.json."),
    ],
    name: Annotated[
        str | None, typer.Option("--name", help="Simulation name (default: the folder's name).")
    ] = None,
    matrix: Annotated[
        Path | None,
        typer.Option(
            "--matrix", help="The original's map folder ('matrix'): draw the run on that map instead of ours."
        ),
    ] = None,
    storage: Annotated[Path | None, typer.Option("--storage", help=STORAGE_HELP)] = None,
) -> None:
    """Bring an original Generative Agents compressed run into the storage folder to watch it."""
    from aga.viewer.convert import import_ga_replay

    done = import_ga_replay(folder, storage_dir(storage), name=name, matrix=matrix)
    sim = done.folder.parent.name
    typer.echo(f"imported {done.steps} steps of {', '.join(done.names)} as {done.folder.parent}")
    if matrix is None:
        typer.echo(
            "note: drawn on aga's bundled town, whose layout differs from the original map; "
            "pass --matrix <original matrix folder> to draw on the original's map"
        )
    typer.echo(f"watch it: aga serve, then open /demo/{quote(sim)}/0/3")


def serve(
    storage: Annotated[Path | None, typer.Option("--storage", help=STORAGE_HELP)] = None,
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on (127.0.0.1 = this machine only).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on (0 = any free port).")] = 8000,
    verbose: Annotated[bool, typer.Option("--verbose", help="Log every request.")] = False,
    interview_llm: Annotated[
        str | None,
        typer.Option("--interview-llm", help="Model that answers interviews (default: the run's own)."),
    ] = None,
) -> None:
    """Serve the replay viewer: a list of simulations at /, each playable at /demo/<sim>/<step>/<speed>."""
    from aga.errors import InputError
    from aga.viewer.server import make_server

    if not 0 <= port <= 65535:
        raise InputError(f"--port must be from 0 to 65535, got {port}")
    server = make_server(storage_dir(storage), host, port, verbose=verbose, interview_llm=interview_llm)
    typer.echo(f"serving {server.library.storage} at {server.url}/ (Ctrl+C to stop)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        typer.echo("stopped")
    finally:
        server.server_close()


app.command("serve", help="Same as `aga serve`.")(serve)


def story(
    sim: Annotated[
        str, typer.Argument(help="Simulation name (in the storage folder) or a simulation folder.")
    ],
    resident: Annotated[
        str | None, typer.Option("--resident", help="Only this resident's day (full name).")
    ] = None,
    short: Annotated[bool, typer.Option("--short", help="Also print one paragraph per resident.")] = False,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the story here instead of <sim>/story.md.")
    ] = None,
    storage: Annotated[Path | None, typer.Option("--storage", help=STORAGE_HELP)] = None,
) -> None:
    """Write <sim>/story.md: each resident's day as a readable timeline (wake, places, chats, thoughts)."""
    from aga.errors import InputError
    from aga.viewer.story import short_story, write_story

    folder = (
        Path(sim) if Path(sim).is_dir() and (Path(sim) / "sim.db").is_file() else storage_dir(storage) / sim
    )
    if not (folder / "sim.db").is_file():
        raise InputError(
            f"no simulation {sim!r} (looked for {folder / 'sim.db'}); pass --storage or a folder"
        )
    path = write_story(folder, resident, out=out)
    if short:
        typer.echo(short_story(folder))
    typer.echo(f"wrote {path}")
