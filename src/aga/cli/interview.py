"""``aga interview``, ``aga ask``, ``aga whisper``, and the ``reverie_offline.py -c / -q`` invocation."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from aga.errors import AgaError, InputError
from aga.settings import storage_root

out = Console(soft_wrap=True, highlight=False)
err = Console(stderr=True, soft_wrap=True, highlight=False)

STORAGE_HELP = "Folder holding the simulations (default: $AGA_STORAGE or ./storage)."
LLM_HELP = "Model to answer with (default: the simulation's own): embedded, openai:<model>, gemini:<model>, scripted, ..."
HELP_TEXT = (
    "Commands: /who, /plan, /memories <query>, /help; an empty line, /bye or Ctrl-D ends the interview."
)


def sim_folder(sim: str, storage: Path | None) -> Path:
    """A simulation folder: ``sim`` itself if it holds a store, else ``<storage>/<sim>``.

    Raises:
        InputError: neither exists.
    """
    path = Path(sim)
    if (path / "sim.db").is_file():
        return path
    root = storage_root(storage)
    if (root / sim / "sim.db").is_file():
        return root / sim
    raise InputError(f"no simulation {sim!r} (looked at {path} and {root / sim})")


def _usage_exit(error: AgaError) -> None:
    err.print(f"[bold red]error:[/] {error}")
    raise typer.Exit(2)


def _split_names(values: Sequence[str] | None) -> list[str] | None:
    if not values:
        return None
    names = [n.strip() for v in values for n in v.split(",") if n.strip()]
    return names or None


# ---------------------------------------------------------------------- aga interview
def interview(
    sim: Annotated[str, typer.Argument(help="Simulation name (in the storage folder) or folder.")],
    name: Annotated[str, typer.Argument(help='Full name of the resident, e.g. "Klaus Mueller".')],
    step: Annotated[
        Optional[int], typer.Option("--step", help="Committed step to interview at (default: the last).")
    ] = None,
    message: Annotated[
        Optional[list[str]],
        typer.Option("--message", "-m", help="Ask this and print the answer (repeatable); no prompt."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="With -m: print the answers as JSON, with memory ids.")
    ] = False,
    remember: Annotated[
        bool, typer.Option("--remember", help="Store the exchange as a conversation memory at that step.")
    ] = False,
    llm: Annotated[Optional[str], typer.Option("--llm", help=LLM_HELP)] = None,
    storage: Annotated[Optional[Path], typer.Option("--storage", help=STORAGE_HELP)] = None,
) -> None:
    """Talk with one resident as they were at a step (interactive, or -m for one-shot questions)."""
    folder = sim_folder(sim, storage)
    code = asyncio.run(_interview(folder, name, step, message or [], as_json, remember, llm))
    if code:
        raise typer.Exit(code)


async def _interview(
    folder: Path,
    name: str,
    step: int | None,
    messages: list[str],
    as_json: bool,
    remember: bool,
    llm: str | None,
) -> int:
    from aga.interview.session import InterviewSession
    from aga.interview.snapshot import ResidentError, StepError

    try:
        session = await InterviewSession.start(folder, name, step=step, llm=llm)
    except (ResidentError, StepError) as error:
        _usage_exit(error)
        return 2
    try:
        if messages:
            records = [await session.ask(m) for m in messages]
            if as_json:
                out.print_json(json.dumps([r.to_dict() for r in records], ensure_ascii=False))
            else:
                for r in records:
                    out.print(f"[bold]Interviewer:[/] {r.question}")
                    out.print(f"[bold]{r.resident}:[/] {r.answer or '(no answer: ' + str(r.error) + ')'}")
        else:
            await _chat(session)
        if remember:
            mid = await session.remember()
            if mid is not None:
                err.print(f"remembered as memory {mid} of {session.who.name} at step {session.who.step}")
    finally:
        await session.close()
    failed = any(not r.answer for r in session.records)
    return 1 if failed and messages else 0


async def _chat(session: object) -> None:
    from aga.interview.session import InterviewSession

    assert isinstance(session, InterviewSession)
    who = session.who
    err.print(f"Interviewing {who.name} at step {who.step} ({who.now:%B %d, %Y, %H:%M}). {HELP_TEXT}")
    while True:
        try:
            line = input("Interviewer: ")
        except EOFError:
            break
        text = line.strip()
        if not text or text in ("/bye", "/quit", "end_convo"):
            break
        if text == "/help":
            out.print(HELP_TEXT)
        elif text == "/who":
            out.print(session.describe())
        elif text == "/plan":
            out.print(session.plan())
        elif text.startswith("/memories"):
            found = await session.memories(text[len("/memories") :].strip())
            out.print("\n".join(found) or "(no memories at this step)")
        elif text.startswith("/"):
            out.print(f"unknown command {text.split()[0]!r}. {HELP_TEXT}")
        else:
            rec = await session.ask(text)
            out.print(f"[bold]{who.name}:[/] {rec.answer or '(no answer: ' + str(rec.error) + ')'}")


# ---------------------------------------------------------------------- aga ask
def ask(
    sim: Annotated[str, typer.Argument(help="Simulation name (in the storage folder) or folder.")],
    questions: Annotated[
        str,
        typer.Option("--questions", "-Q", help="Question set: diffusion, battery, or a YAML question file."),
    ],
    residents: Annotated[
        Optional[list[str]],
        typer.Option(
            "--residents", "-r", help="Residents to ask (repeatable or comma-separated; default: all)."
        ),
    ] = None,
    step: Annotated[
        Optional[int], typer.Option("--step", help="Committed step to ask at (default: the last).")
    ] = None,
    llm: Annotated[Optional[str], typer.Option("--llm", help=LLM_HELP)] = None,
    storage: Annotated[Optional[Path], typer.Option("--storage", help=STORAGE_HELP)] = None,
) -> None:
    """Ask every (or the named) resident each question of a set; writes <sim>/eval/questions-<set>-<step>.json and .md."""
    folder = sim_folder(sim, storage)
    run_question_set(folder, questions, _split_names(residents), step, llm)


def run_question_set(
    folder: Path, set_ref: str, residents: list[str] | None, step: int | None, llm: str | None
) -> list:  # type: ignore[type-arg]
    """Ask a set, print the answers, write the report files; returns the records."""
    from aga.interview import answer_questions, load_question_set
    from aga.interview.reports import write_question_reports
    from aga.interview.snapshot import ResidentError, SimSnapshot, StepError

    qset = load_question_set(set_ref)
    try:
        with SimSnapshot(folder) as snap:
            snap.check_names(residents)
            at = snap.check_step(step)
    except (ResidentError, StepError) as error:
        _usage_exit(error)
    records = asyncio.run(answer_questions(folder, qset.texts, residents=residents, step=at, llm=llm))
    for r in records:
        out.print(
            f"[bold]{r.resident}[/] — {r.question}\n  {r.answer or '(no answer: ' + str(r.error) + ')'}"
        )
    json_path, md_path = write_question_reports(folder, qset.name, at, records)
    err.print(f"{len(records)} answers at step {at}; written to {json_path} and {md_path}")
    return records


# ---------------------------------------------------------------------- aga whisper
def whisper(
    sim: Annotated[str, typer.Argument(help="Simulation name (in the storage folder) or folder.")],
    name: Annotated[Optional[str], typer.Argument(help="Full name of the resident told.")] = None,
    text: Annotated[Optional[str], typer.Argument(help="What they are told.")] = None,
    file: Annotated[
        Optional[Path],
        typer.Option(
            "--file", "-f", help="History CSV of the original: 'Name,Whisper' lines, statements split by ';'."
        ),
    ] = None,
    llm: Annotated[Optional[str], typer.Option("--llm", help=LLM_HELP)] = None,
    storage: Annotated[Optional[Path], typer.Option("--storage", help=STORAGE_HELP)] = None,
) -> None:
    """Tell a resident something (or apply a whisper file); it becomes their thought at the current step."""
    from aga.interview.snapshot import ResidentError, SimSnapshot
    from aga.interview.whisper import Whisper, parse_whispers
    from aga.interview.whisper import whisper as do_whisper

    folder = sim_folder(sim, storage)
    if (file is None) == (name is None):
        err.print("[bold red]error:[/] give either a resident and a text, or --file FILE")
        raise typer.Exit(2)
    with SimSnapshot(folder) as snap:
        names = snap.names
    if file is not None:
        if text is not None:
            err.print("[bold red]error:[/] with --file, give no resident or text")
            raise typer.Exit(2)
        items = parse_whispers(file, names)
    else:
        if not text or not text.strip():
            err.print("[bold red]error:[/] give the text to whisper after the resident's name")
            raise typer.Exit(2)
        if name not in names:
            _usage_exit(
                ResidentError(
                    f"no resident {name!r} in simulation {folder.name!r}; residents: {', '.join(names)}"
                )
            )
        items = [Whisper(str(name), text.strip())]
    told = asyncio.run(do_whisper(folder, items, llm=llm))
    for t in told:
        out.print(
            f"[bold]{t.name}[/] (memory {t.memory_id}, importance {t.importance}, step {t.step}): {t.thought}"
        )


def apply_whisper_file(folder: Path, items: Sequence[object]) -> int:
    """Tell a freshly forked simulation its whispers (``aga run -o BASE --whispers FILE``); returns the count."""
    from aga.interview.whisper import whisper as do_whisper

    told = asyncio.run(do_whisper(folder, list(items)))  # type: ignore[arg-type]
    return len(told)


# ---------------------------------------------------------------------- reverie_offline.py
def _take(argv: list[str], flags: tuple[str, ...], *, value: str) -> tuple[list[str], str | None, bool]:
    """Remove ``flag VALUE`` (or ``--flag=VALUE``) from argv. ``value``: 'required', 'optional'."""
    rest: list[str] = []
    found: str | None = None
    seen = False
    k = 0
    while k < len(argv):
        a = argv[k]
        long_eq = next((f for f in flags if f.startswith("--") and a.startswith(f + "=")), None)
        if long_eq:
            seen, found = True, a[len(long_eq) + 1 :]
        elif a in flags:
            seen = True
            nxt = argv[k + 1] if k + 1 < len(argv) else None
            if nxt is not None and not nxt.startswith("-"):
                found = nxt
                k += 1
            elif value == "required":
                raise InputError(f"{a} needs a value")
        else:
            rest.append(a)
        k += 1
    return rest, found, seen


def reverie_offline(argv: list[str]) -> int:
    """``reverie_offline.py``: ``aga run`` flags, plus ``-c "<Full Name>"`` (interview) and ``-q [SET]``
    (question set, default ``diffusion``; also writes ``<sim>_question.txt`` here). With ``-s`` the
    steps are run first, as in the affordable fork."""
    from aga.cli.main import app
    from aga.interview.questions import BUILT_IN
    from aga.interview.reports import write_question_txt

    rest, call, calling = _take(argv, ("-c", "--call"), value="required")
    rest, qvalue, asking = _take(rest, ("-q", "--question"), value="optional")
    if not calling and not asking:
        return _run_app(app, ["run", *rest])
    _, sim, _ = _take(list(rest), ("-t", "--sim", "--target"), value="required")
    if sim is None:
        raise InputError("-c/-q need the simulation: -t <sim>")
    _, storage, _ = _take(list(rest), ("--storage",), value="required")
    _, llm, _ = _take(list(rest), ("--llm",), value="required")
    runs = any(a in ("-s", "--steps") or a.startswith("--steps=") for a in rest)
    if runs:
        code = _run_app(app, ["run", *rest])
        if code:
            return code
    folder = sim_folder(sim, Path(storage) if storage else None)
    if asking:
        set_ref = "diffusion"
        if qvalue is not None:
            if qvalue in BUILT_IN or Path(qvalue).is_file():
                set_ref = qvalue
            else:
                err.print(f"note: -q takes no value here; {qvalue!r} ignored, asking the diffusion set")
        try:
            records = run_question_set(folder, set_ref, None, None, llm)
        except typer.Exit as stop:
            return int(stop.exit_code or 0)
        path = write_question_txt(sim, records)
        err.print(f"answers written to {path}")
    if calling:
        try:
            return asyncio.run(_interview(folder, str(call), None, [], False, False, llm))
        except typer.Exit as stop:
            return int(stop.exit_code or 0)
    return 0


def _run_app(app: typer.Typer, args: list[str]) -> int:
    import click

    try:
        app(args, standalone_mode=False)
    except SystemExit as stop:
        return int(stop.code or 0)
    except click.exceptions.Exit as stop:
        return int(stop.exit_code or 0)
    except click.ClickException as usage:
        usage.show()
        return usage.exit_code
    return 0


def reverie_main() -> None:
    """Entry point of ``reverie_offline.py``: AgaError as one line and exit 1."""
    try:
        code = reverie_offline(sys.argv[1:])
    except AgaError as error:
        err.print(f"[bold red]error:[/] {error}")
        sys.exit(1)
    sys.exit(code)
