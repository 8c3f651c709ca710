"""``aga eval <sim>`` (believability report) and ``aga eval compare <simA> <simB> ...``.

Registered by the CLI root as ``app.command("eval")(eval.eval_command)``. The first argument
``compare`` switches to the comparison of several simulations (no model calls, no files written
into the simulations compared).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from aga.cli.run import STORAGE_HELP, storage_dir
from aga.errors import InputError


def eval_command(
    sims: Annotated[
        list[str], typer.Argument(help="A simulation (name or folder), or: compare SIM_A SIM_B ...")
    ],
    step: Annotated[
        Optional[int], typer.Option("--step", help="Evaluate the simulation as it was at this step.")
    ] = None,
    judge: Annotated[
        Optional[str],
        typer.Option(
            "--judge", help="Model that scores interview answers and chat lines 1-5 (off by default)."
        ),
    ] = None,
    interview: Annotated[
        bool,
        typer.Option(
            "--interview/--no-interview", help="Ask the residents the diffusion and 'do you know' questions."
        ),
    ] = True,
    llm: Annotated[
        Optional[str],
        typer.Option("--llm", help="Model the residents answer with (default: the simulation's own)."),
    ] = None,
    max_others: Annotated[
        int, typer.Option("--max-others", help="'Do you know B' questions per resident.")
    ] = 3,
    fact: Annotated[
        Optional[list[str]],
        typer.Option(
            "--fact",
            help="Follow another fact (e.g. one told with aga whisper): NAME=word,word|alt (repeatable).",
        ),
    ] = None,
    out: Annotated[
        Optional[Path],
        typer.Option("--out", help="Report folder (default <sim>/eval); for compare, the table file (.md)."),
    ] = None,
    storage: Annotated[Optional[Path], typer.Option("--storage", help=STORAGE_HELP)] = None,
) -> None:
    """Measure believability: diffusion of seeded facts, relationships, coordination, the day's
    realism, text defects, cost. `aga eval compare A B ...` prints every measure side by side."""
    from aga.eval import load, report

    root = storage_dir(storage)
    extra = [parse_fact(f) for f in fact or []]
    if sims and sims[0] == "compare":
        names = sims[1:]
        if len(names) < 1:
            raise typer.BadParameter("name at least one simulation to compare", param_hint="SIMS")
        reports = []
        for name in names:
            folder = load.resolve(name, root)
            saved = folder / "eval" / "report.json"
            rec = load.load(folder, step=step)
            rec.facts = [*rec.facts, *extra]
            rep = report.build(rec)
            if saved.is_file() and step is None:
                old = json.loads(saved.read_text(encoding="utf-8"))
                if old.get("steps") == rep["steps"]:
                    rep["interviews"] = old.get("interviews")
                    rep["judge"] = old.get("judge")
            rep["sim"] = name if len(name) <= 40 else folder.name
            reports.append(rep)
        typer.echo(report.compare_text(reports))
        target = out or (root / "eval_compare.md")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(report.compare_markdown(reports), encoding="utf-8")
        typer.echo(f"wrote {target}")
        return
    if len(sims) != 1:
        raise typer.BadParameter("name one simulation (or: compare SIM_A SIM_B ...)", param_hint="SIMS")
    run_eval(
        load.resolve(sims[0], root),
        step=step,
        judge=judge,
        interview=interview,
        llm=llm,
        max_others=max_others,
        out=out,
        facts=extra,
    )


def parse_fact(text: str) -> Any:
    """``NAME=word,word|alt`` -> a SeededFact (usage error naming the option otherwise)."""
    from aga.bases.model import SeededFact

    name, sep, words = text.partition("=")
    items = [w.strip() for w in words.split(",") if w.strip()]
    if not sep or not name.strip() or not items:
        raise typer.BadParameter(f"{text!r}: give NAME=word,word (alternatives with |)", param_hint="--fact")
    return SeededFact(name=name.strip(), words=items)


def run_eval(
    folder: Path,
    *,
    step: int | None = None,
    judge: str | None = None,
    interview: bool = True,
    llm: str | None = None,
    max_others: int = 3,
    out: Path | None = None,
    echo: bool = True,
    facts: Sequence[Any] = (),
) -> dict:
    """Evaluate one simulation folder and write the report; returns the report."""
    from aga.eval import charts, interviews, load, report
    from aga.eval.judge import judge_report

    rec = load.load(folder, step=step)
    rec.facts = [*rec.facts, *facts]
    rep = report.build(rec)
    target = out or folder / "eval"
    try:
        target.mkdir(parents=True, exist_ok=True)
        probe = target / ".write-test"
        probe.write_text("", encoding="utf-8")
        probe.unlink()
    except OSError as err:
        raise InputError(
            f"{target}: cannot write the report here ({err.strerror}); pass --out <folder>"
        ) from None
    if interview:
        # the records run up to the start of step N: the residents as they were after step N - 1
        rep["interviews"] = (
            interviews.interview_report(
                rec, folder, target, step=rec.steps - 1, llm=llm, max_others=max_others
            )
            if rec.steps > 0
            else {"skipped": "no step has run yet"}
        )
    else:
        rep["interviews"] = {"skipped": "--no-interview"}
    if judge:
        rep["judge"] = judge_report(rec, rep.get("interviews") or {}, judge)
    names = charts.draw_all(rec, rep, target)
    report.write(rep, target, names)
    if echo:
        for k, v in report.summary(rep):
            typer.echo(f"{k:<48} {v}")
        typer.echo(f"wrote {target}/report.json, report.md, {', '.join(names)}")
    return rep
