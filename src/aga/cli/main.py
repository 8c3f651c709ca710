"""Root of the ``aga`` command: registers the sub-commands and turns AgaError into one line + exit 1."""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from aga.errors import AgaError

app = typer.Typer(
    name="aga",
    help="Affordable Generative Agents: simulate a small town of LLM-driven residents cheaply.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

err_console = Console(stderr=True, soft_wrap=True)


def _register() -> None:
    from aga.cli import export, metrics, run, town, viewer

    app.add_typer(town.app, name="town", help="Inspect, render and import towns.")
    from aga.cli import base

    app.add_typer(base.app, name="base", help="Generate bases of any size for generated towns.")
    app.command("run")(run.run)
    app.command("export")(export.export)
    app.command("metrics")(metrics.metrics)
    app.add_typer(viewer.app, name="replay", help="Compress runs and import original ones for watching.")
    app.command("serve")(viewer.serve)
    app.command("story")(viewer.story)
    from aga.cli import interview as talk

    app.command("interview")(talk.interview)
    app.command("ask")(talk.ask)
    app.command("whisper")(talk.whisper)
    from aga.cli import eval as evaluate

    app.command("eval")(evaluate.eval_command)


_register()


def main() -> None:
    """Entry point that reports AgaError as one clear line and a non-zero exit."""
    try:
        app()
    except AgaError as err:
        err_console.print(f"[bold red]error:[/] {err}", highlight=False)
        sys.exit(1)


if __name__ == "__main__":
    main()
