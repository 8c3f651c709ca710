"""``aga town ...``: show, render and import towns (filled in by the world work)."""

import typer

app = typer.Typer(no_args_is_help=True)
