"""Assemble the measures into ``report.json`` / ``report.md``, and the side-by-side comparison."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from aga.eval.day import coordination_report, cost_report, defects_report, realism_report
from aga.eval.diffusion import diffusion_report
from aga.eval.records import SimRecords
from aga.eval.social import relationships_report


def build(rec: SimRecords) -> dict[str, Any]:
    """Every store-only measure of one simulation (interviews and judge are added by the caller)."""
    return {
        "sim": rec.name,
        "kind": rec.kind,
        "start": rec.start.isoformat(sep=" "),
        "end": rec.end.isoformat(sep=" "),
        "steps": rec.steps,
        "sec_per_step": rec.sec_per_step,
        "residents": list(rec.residents),
        "settings": {
            k: rec.settings.get(k)
            for k in ("llm", "policy", "relationship", "disabled_savings")
            if k in rec.settings
        },
        "diffusion": diffusion_report(rec),
        "relationships": relationships_report(rec),
        "coordination": coordination_report(rec),
        "realism": realism_report(rec),
        "defects": defects_report(rec),
        "cost": cost_report(rec),
    }


MIN_DAY_S = 3600
"""A game day the run covers for less than this many seconds is left out of the summary."""


def _fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:.3g}" if abs(v) < 1000 else f"{v:,.0f}"
    if isinstance(v, int):
        return f"{v:,}" if abs(v) >= 10000 else str(v)
    if isinstance(v, (list, tuple)):
        return ", ".join(_fmt(x) for x in v) if v else "none"
    return str(v)


def _short(name: str) -> str:
    return name.split()[0]


def summary(report: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The report as (measure, value) rows, the same labels for every simulation."""
    step_s = int(report.get("sec_per_step") or 10)
    rows: list[tuple[str, str]] = [
        ("game time", f"{report['start'][5:16]} -> {report['end'][5:16]}"),
        ("residents", str(len(report["residents"]))),
    ]
    s = report.get("settings") or {}
    if s:
        off = s.get("disabled_savings") or []
        rows.append(
            (
                "model / policy / relationship",
                f"{s.get('llm', '-')} / {_fmt(s.get('policy'))} / {_fmt(s.get('relationship'))}",
            )
        )
        rows.append(("savings switched off", str(len(off)) if off else "0"))
    else:
        rows += [("model / policy / relationship", "-"), ("savings switched off", "-")]
    for d in report["diffusion"]:
        rows.append((f"{d['fact']}: knowers at end", f"{d['known_by']}/{d['residents']} (from {d['basis']})"))
        for who, k in d["knowers"].items():
            src = "seed" if k["via"] == "seed" else f"{k['via']} from {_short(k['source'])}"
            rows.append((f"{d['fact']}: {who} knows since", f"{k['since'][5:16]} ({src})"))
    iv = report.get("interviews") or {}
    if iv.get("skipped"):
        rows.append(("interviews", f"skipped: {iv['skipped']}"))
    for g in iv.get("diffusion", []):
        rows.append((f"{g['fact']}: interview says knows", _fmt(g["claimed"])))
        rows.append((f"{g['fact']}: hallucinated knowers", _fmt(g["hallucinated"])))
    if iv.get("relationships"):
        r = iv["relationships"]
        rows.append(
            (
                "claims about others / unsupported",
                f"{r['claims']} / {r['unsupported']}"
                + (f" ({r['share']:.1%})" if r.get("share") is not None else ""),
            )
        )
    rel = report["relationships"]
    rows.append(
        (
            "network density start -> end",
            f"{_fmt(rel.get('density_start'))} -> {_fmt(rel.get('density_end'))}",
        )
    )
    for c in report["coordination"]:
        came = "window not reached" if c["came"] is None else _fmt([_short(x) for x in c["came"]])
        rows.append(
            (
                f"{c['fact']}: invited / planned / came",
                f"{_fmt([_short(x) for x in c['invited']])} / {_fmt([_short(x) for x in c['planned']])} / {came}",
            )
        )
    for day, dd in report["realism"].items():
        if max((v["steps"] for v in dd["residents"].values()), default=0) * step_s < MIN_DAY_S:
            continue  # a sliver of a day (the last minutes of a run) says nothing
        lines = dd["conversation_lines"]
        rows.append((f"{day[5:]} conversations (lines each)", f"{dd['conversations']} ({_fmt(lines)})"))
        for who, v in dd["residents"].items():
            p = f"{day[5:]} {_short(who)}"
            rows.append((f"{p} wake / bed", f"{_fmt(v['wake'])} / {_fmt(v['bed'])}"))
            rows.append((f"{p} meals / activities", f"{v['meals']} / {v['activities']}"))
            rows.append(
                (
                    f"{p} longest waking activity",
                    f"{v['longest_minutes']:.0f} min {v['longest_activity'][:40]!r}",
                )
            )
            if v.get("workplace"):
                rows.append(
                    (
                        f"{p} at workplace 9-12 / 9-17",
                        f"{_pct(v['work_share_9_12'])} / {_pct(v['work_share_9_17'])}",
                    )
                )
            rows.append((f"{p} asleep not in bed (min)", _fmt(v["asleep_not_in_bed_minutes"])))
            rows.append(
                (
                    f"{p} chats / partners / mean lines",
                    f"{v['chats']} / {v['partners']} / {_fmt(v['mean_turns'])}",
                )
            )
    df = report["defects"]
    rows.append(
        ("chat lines naming self/listener in 3rd person", f"{df['chat_third_person']} of {df['chat_lines']}")
    )
    rows.append(("repeated lines in a chat", str(df["repeated_lines"])))
    rows.append(
        ("chat lines in an assistant's voice", f"{df.get('chat_help_desk', '-')} of {df['chat_lines']}")
    )
    rows.append(("thoughts about oneself in 3rd person", f"{df['thought_third_person']} of {df['thoughts']}"))
    rows.append(("descriptions not a sentence", f"{df['not_a_sentence']} of {df['descriptions']}"))
    rows.append(("activities whose step is another plan item", str(df.get("copied_subtasks", "-"))))
    c = report["cost"]
    if c["basis"] == "ledger":
        rows.append(
            ("calls (cached apart)", f"{c['calls']} ({c['cached']} cached, {c['defaulted']} defaulted)")
        )
        rows.append(("tokens in / out", f"{c['tokens_in']:,} / {c['tokens_out']:,}"))
        rows.append(
            (
                "calls / tokens per agent-day",
                f"{_fmt(c['calls_per_agent_day'])} / {_fmt(c['tokens_per_agent_day'])}",
            )
        )
    else:
        rows += [
            ("calls (cached apart)", "- (no ledger)"),
            ("tokens in / out", "-"),
            ("calls / tokens per agent-day", "-"),
        ]
    j = report.get("judge")
    if j:
        rows.append(("judge: mean believability (1-5)", f"{_fmt(j.get('mean'))} over {j.get('scored', 0)}"))
    return rows


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x:.0%}"


def to_markdown(report: Mapping[str, Any], charts: Sequence[str] = ()) -> str:
    """A readable page: the summary table, then examples of defects and the charts."""
    out = [
        f"# aga eval: {report['sim']}",
        "",
        f"{report['kind']} run, steps 0-{report['steps']}, {report['start']} to {report['end']}.",
        "",
        "| measure | value |",
        "|---|---|",
    ]
    out += [f"| {k} | {v.replace('|', '/')} |" for k, v in summary(report)]
    df = report["defects"]
    for key, title in (
        ("chat_third_person_examples", "Chat lines in the third person"),
        ("chat_help_desk_examples", "Chat lines in an assistant's voice"),
        ("thought_third_person_examples", "Thoughts about oneself in the third person"),
        ("not_a_sentence_examples", "Descriptions that are not sentences"),
        ("copied_subtasks_examples", "Steps that copy another plan item"),
    ):
        if df.get(key):
            out += ["", f"## {title}", ""] + [f"- {x}" for x in df[key]]
    for name in charts:
        out += ["", f"![{name}]({name})"]
    return "\n".join(out) + "\n"


def write(report: Mapping[str, Any], folder: Path, charts: Sequence[str] = ()) -> None:
    """Write ``report.json`` and ``report.md`` into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "report.json").write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    (folder / "report.md").write_text(to_markdown(report, charts), encoding="utf-8")


def compare_rows(reports: Sequence[Mapping[str, Any]]) -> tuple[list[str], list[list[str]]]:
    """Header and rows: every measure any report has, one column per simulation ('-' if absent)."""
    tables = [dict(summary(r)) for r in reports]
    labels: list[str] = []
    for t in tables:
        labels += [k for k in t if k not in labels]
    header = ["measure", *[r["sim"] for r in reports]]
    return header, [[k, *[t.get(k, "-") for t in tables]] for k in labels]


def compare_text(reports: Sequence[Mapping[str, Any]], width: int = 44) -> str:
    """The comparison as a fixed-width text table."""
    header, rows = compare_rows(reports)
    cols = [min(width, max(len(r[i]) for r in [header, *rows])) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c[:w].ljust(w) for c, w in zip(cells, cols)).rstrip()

    return "\n".join([line(header), line(["-" * w for w in cols]), *[line(r) for r in rows]]) + "\n"


def compare_markdown(reports: Sequence[Mapping[str, Any]]) -> str:
    """The comparison as a markdown table."""
    header, rows = compare_rows(reports)
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(c.replace("|", "/") for c in r) + " |" for r in rows]
    return "\n".join(out) + "\n"
