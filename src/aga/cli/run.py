"""``aga run``: fork a base into a new simulation and run it, or continue an existing one."""

from __future__ import annotations

import asyncio
import inspect
import logging
import re
import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console

from aga.errors import BackendUnavailable, InputError, ModelAnswerError
from aga.settings import SWITCHES, savings_help, storage_root

console = Console(stderr=True, soft_wrap=True, width=None if sys.stderr.isatty() else 140)

STORAGE_HELP = "Folder holding the simulations (default: $AGA_STORAGE or ./storage)."


def storage_dir(storage: Path | None) -> Path:
    """--storage, else $AGA_STORAGE, else ./storage."""
    return storage_root(storage)


def switch_parameters() -> list[inspect.Parameter]:
    """The ``aga run`` options of the feature switches, from :data:`aga.settings.SWITCHES`."""
    params = []
    for s in SWITCHES:
        if not s.flags:
            continue
        if s.on:
            option = typer.Option(*s.flags, help=f"Switch off (on by default): {s.help}")
            params.append(_keyword(f"disable_{s.name}", Annotated[bool, option], False))
        else:
            option = typer.Option(*s.flags, help=f"{s.help} (off by default)")
            params.append(_keyword(s.name, Annotated[Optional[bool], option], None))
    return params


def _keyword(name: str, annotation: object, default: object) -> inspect.Parameter:
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)


def switch_overrides(values: dict[str, bool | None]) -> dict[str, bool | None]:
    """RunSettings overrides from the switch options given (None: not given)."""
    out: dict[str, bool | None] = {}
    for s in SWITCHES:
        if not s.flags:
            continue
        if s.on:
            out[s.name] = False if values.get(f"disable_{s.name}") else None
        else:
            out[s.name] = values.get(s.name)
    return out


class RetryNotes(logging.Handler):
    """Shows the gateway's failed-attempt warnings during a run, each distinct reason once.

    A dead endpoint fails every call of a step, each several times; the user needs to hear
    once that calls are failing and why (retries go on quietly, the metrics count every one),
    then the one line that stops the run. Reasons differing only in the task are one reason.
    """

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.seen: set[str] = set()

    def emit(self, record: logging.LogRecord) -> None:
        """Print the warning unless its reason was already shown."""
        text = record.getMessage()
        reason = re.sub(r" for task \S+", "", text)
        if reason in self.seen:
            return
        self.seen.add(reason)
        console.print(f"[yellow]warning:[/] {text}", highlight=False)


def stop_message(err: BackendUnavailable | ModelAnswerError, resume: str, step: int) -> str:
    """One line: what failed (backend, model, status, server message, hint), where the run is
    saved and the exact command that continues it."""
    text = str(err)
    saved = f"saved at step {step}"
    if "aga run -t <sim> -s N" in text:
        return text.replace("aga run -t <sim> -s N", resume) + f" ({saved})"
    return f"{text} -- {saved}; continue with `{resume}`"


def run(
    steps: Annotated[
        int, typer.Option("--steps", "-s", help="Number of 10-second steps to run (a positive integer).")
    ],
    sim: Annotated[
        str, typer.Option("--sim", "-t", help="Name of the simulation to create (with -o) or continue.")
    ],
    fork: Annotated[
        Optional[str],
        typer.Option(
            "--fork",
            "-o",
            help="Base to fork: a bundled name, a base folder, or an original-format storage folder.",
        ),
    ] = None,
    storage: Annotated[Optional[Path], typer.Option("--storage", help=STORAGE_HELP)] = None,
    town: Annotated[
        Optional[str],
        typer.Option(
            "--town", help="Town for a new fork: a bundled name or a town file (default: the base's)."
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="With -o: replace an existing simulation of that name.")
    ] = False,
    llm: Annotated[
        Optional[str],
        typer.Option(
            "--llm",
            help="Model: embedded (default), embedded:fast, gguf:<path>, openai:<model>, gemini:<model>, or scripted (test double).",
        ),
    ] = None,
    embed: Annotated[
        Optional[str],
        typer.Option("--embed", help="Embedding model (default: the backend's natural choice)."),
    ] = None,
    llm_cache: Annotated[
        Optional[bool],
        typer.Option("--llm-cache/--no-llm-cache", help="Reuse stored answers to identical requests."),
    ] = None,
    structured: Annotated[
        Optional[str],
        typer.Option(
            "--structured",
            help="How answers are held to their schema on OpenAI-compatible servers: auto (default: json_schema, "
            "then json_object, tools, prompt as the server refuses them), or force one of those forms.",
        ),
    ] = None,
    llm_option: Annotated[
        Optional[list[str]],
        typer.Option(
            "--llm-option",
            help="KEY=VALUE sent in every request to an OpenAI-compatible server (repeatable; VALUE as JSON when it "
            "parses, a dotted KEY nests), e.g. chat_template_kwargs.enable_thinking=false.",
        ),
    ] = None,
    max_in_flight: Annotated[
        Optional[int],
        typer.Option(
            "--max-in-flight",
            help="Most model calls at once across all residents (default: 1 for the embedded model, 8 for endpoints).",
        ),
    ] = None,
    disable_saving: Annotated[
        Optional[list[str]], typer.Option("--disable_saving", "--disable-saving", help=savings_help())
    ] = None,
    profile: Annotated[
        Optional[str],
        typer.Option(
            "--profile",
            help="default, or original: the original Generative Agents' pipeline call for call (hourly schedule, "
            "whole decompositions, a relationship summary before each line), every AGA feature and saving off.",
        ),
    ] = None,
    quiet: Annotated[
        bool,
        typer.Option(
            "--quiet", help="No progress bar (no short form: -q asks questions in reverie_offline.py)."
        ),
    ] = False,
    whispers: Annotated[
        Optional[Path],
        typer.Option(
            "--whispers",
            help="With -o: a whisper file ('Name,Whisper' CSV, see docs/interview.md) told right after forking.",
        ),
    ] = None,
    **switches: bool | None,
) -> None:
    """Fork a base into a new simulation and run N steps (-o BASE -t NEW -s N), or continue one (-t SIM -s N)."""
    from aga.runner.lifecycle import (
        RunSettings,
        check_sim_name,
        check_steps,
        open_simulation,
    )
    from aga.runner.lifecycle import (
        fork as do_fork,
    )
    from aga.runner.progress import run_with_progress

    check_steps(steps)
    check_sim_name(sim)
    root = storage_dir(storage)
    overrides = {
        "llm": llm,
        "embed": embed,
        "llm_cache": llm_cache,
        "structured": structured,
        "llm_options": llm_option or None,
        "max_in_flight": max_in_flight,
        "disabled_savings": disable_saving or None,
        **switch_overrides(switches),
        "profile": profile,
    }
    told = None
    if whispers is not None:  # checked before anything is forked: a bad line stores nothing
        if fork is None:
            raise InputError(
                "--whispers applies right after forking with -o; tell an existing simulation with `aga whisper`"
            )
        from aga.bases import load_base
        from aga.interview.whisper import parse_whispers

        told = parse_whispers(whispers, [p.name for p in load_base(fork).residents])
    if fork is not None:
        settings = RunSettings().merged(overrides)
        folder = do_fork(fork, root, sim, town=town, settings=settings, force=force)
        console.print(f"forked [bold]{fork}[/] into [bold]{folder}[/]", highlight=False)
        if told:
            from aga.cli.interview import apply_whisper_file

            count = apply_whisper_file(folder, told)
            console.print(f"told {count} whispers from {whispers}", highlight=False)
        overrides = {}
    else:
        if town is not None or force:
            raise InputError("--town and --force only apply when forking a base with -o/--fork")
        folder = root / sim
    simulation = open_simulation(folder, overrides)
    first_step = simulation.step

    def resume_command(left: int) -> str:
        return f"aga run -t {sim} -s {left}" + (f" --storage {root}" if storage is not None else "")

    notes = RetryNotes()
    gateway_log = logging.getLogger("aga.gateway")
    gateway_log.addHandler(notes)
    try:
        code = asyncio.run(
            run_with_progress(simulation, steps, quiet=quiet, console=console, resume=resume_command)
        )
    except (BackendUnavailable, ModelAnswerError) as err:
        left = steps - (simulation.step - first_step)
        resume = resume_command(left)
        console.print(f"[bold red]stopped:[/] {stop_message(err, resume, simulation.step)}", highlight=False)
        sys.exit(3)
    finally:
        gateway_log.removeHandler(notes)
        simulation.close()
    if code:
        sys.exit(code)


def _with_switches(func: Any) -> None:
    """Give ``func`` (``run``) one keyword parameter per switch option, in place of ``**switches``."""
    sig = inspect.signature(func, eval_str=True)  # typer reads __signature__ as it is
    kept = [p for p in sig.parameters.values() if p.kind is not inspect.Parameter.VAR_KEYWORD]
    func.__signature__ = sig.replace(parameters=[*kept, *switch_parameters()])


_with_switches(run)
