"""What a simulation cost, for the cost page: calls and tokens per task, per model and per game hour.

Read from the store's ledger (one row per backend call and per failed attempt) and action log:

- *calls* are answered calls (cache hits apart, as in the metrics files); *failed* are attempts
  that gave no usable answer; *cached* are requests answered from the response cache (free);
- *dollars* use the bundled price table (``aga/gateway/prices.yaml``); the page lets you edit the
  prices per model and recomputes; a model without a price has an unknown cost (``null``);
- the *cache rate* is cached / (cached + answered) over the language-model requests;
- the *Lifestyle Policy reuse rate* is the share of plan actions whose grounding came from the
  policy store instead of model calls (the action log's ``is_new`` is false).

Calls made outside the run's steps (interviews, questions, whispers: ``<sim>/interviews/ledger.jsonl``)
count in the totals and the per-task and per-model tables, not in the per-hour charts.

When ``aga eval`` has run, ``<sim>/eval/report.json`` is passed through with the names of the
charts (``<sim>/eval/*.png``).
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from aga.store.side_ledger import side_rows
from aga.viewer.inspector import connect, meta, step_time

_ZERO = {
    "calls": 0,
    "failed": 0,
    "cached": 0,
    "defaulted": 0,
    "prompt_tokens": 0,
    "completion_tokens": 0,
    "seconds": 0.0,
}


def ledger_count(folder: Path) -> int:
    """Number of ledger rows so far (the live stream sends it when it grows)."""
    with connect(folder) as conn:
        return conn.ledger_count()


def _add(bucket: dict[str, Any], row: dict[str, Any], answered: bool) -> None:
    if row.get("cached"):
        bucket["cached"] += 1
        return
    if answered:
        bucket["calls"] += 1
    if not row.get("ok", True):
        bucket["failed"] += 1
    if row.get("defaulted"):
        bucket["defaulted"] += 1
    bucket["prompt_tokens"] += int(row.get("prompt_tokens") or 0)
    bucket["completion_tokens"] += int(row.get("completion_tokens") or 0)
    bucket["seconds"] += float(row.get("seconds") or 0.0)


def cost_report(folder: Path) -> dict[str, Any]:
    """The cost page's data for the simulation in ``folder``."""
    from aga.gateway.core import INVALID_ANSWER
    from aga.gateway.prices import load_prices

    prices = load_prices()
    with connect(folder) as conn:
        m = meta(conn)
        total_steps = int(m.get("step", 0))
        sec = int(m.get("sec_per_step", 10))
        per_hour = max(1, 3600 // sec)
        start = step_time(m, 0) if "start" in m else datetime(2000, 1, 1)
        offset = (start.minute * 60 + start.second) // sec  # buckets are clock hours of game time
        by_task: dict[str, dict[str, Any]] = {}
        by_model: dict[str, dict[str, Any]] = {}
        hours: dict[int, dict[str, dict[str, int]]] = {}
        totals = dict(_ZERO)
        llm = 0  # cache hits of language-model requests
        for _, step, row in conn.ledger():
            if row.get("cached") and row.get("kind", "llm") != "embed":
                llm += 1
            answered = not row.get("cached") and (
                row.get("ok", True) or str(row.get("error") or "").startswith(INVALID_ANSWER)
            )
            task, model = str(row.get("task")), str(row.get("model") or "?")
            t = by_task.setdefault(task, {"task": task, **_ZERO})
            mm = by_model.setdefault(model, {"model": model, "backend": row.get("backend") or "", **_ZERO})
            for bucket in (t, mm, totals):
                _add(bucket, row, answered)
            hour = hours.setdefault((offset + max(0, int(step))) // per_hour, {})
            for key in (f"task:{task}", f"model:{model}"):
                h = hour.setdefault(key, {"calls": 0, "prompt_tokens": 0, "completion_tokens": 0})
                if answered:
                    h["calls"] += 1
                h["prompt_tokens"] += int(row.get("prompt_tokens") or 0)
                h["completion_tokens"] += int(row.get("completion_tokens") or 0)
        side = side_rows(folder)  # interviews, questions, whispers: real calls, outside the run's steps
        for row in side:
            answered = not row.get("cached") and (
                row.get("ok", True) or str(row.get("error") or "").startswith(INVALID_ANSWER)
            )
            task, model = str(row.get("task")), str(row.get("model") or "?")
            t = by_task.setdefault(task, {"task": task, **_ZERO})
            mm = by_model.setdefault(model, {"model": model, "backend": row.get("backend") or "", **_ZERO})
            for bucket in (t, mm, totals):
                _add(bucket, row, answered)
        plan_actions = reused = 0
        for _, a in conn.actions():
            if a.get("task") in ("chat", "react") or a.get("chat"):
                continue
            plan_actions += 1
            reused += 0 if a.get("is_new", True) else 1
        llm_answered = sum(t["calls"] for name, t in by_task.items() if name != "embed")
    dollars_known = True
    total_dollars = 0.0
    for mm in by_model.values():
        price = prices.price_for(mm["model"], mm["backend"])
        mm["price"] = None if price is None else {"input": price.input, "output": price.output}
        mm["dollars"] = prices.cost(mm["model"], mm["backend"], mm["prompt_tokens"], mm["completion_tokens"])
        if mm["dollars"] is None:
            dollars_known = False
        else:
            total_dollars += mm["dollars"]
    hour_list = []
    last = (offset + max(0, total_steps - 1)) // per_hour  # every game hour of the run, quiet ones too
    for index in range(0, max([last, *hours]) + 1 if (hours or total_steps) else 0):
        hours.setdefault(index, {})
    for index in sorted(hours):
        label = start.hour + index
        hour_list.append(
            {
                "hour": index,
                "label": f"{label % 24:02d}:00" + (f" +{label // 24}d" if label >= 24 else ""),
                "step": max(0, index * per_hour - offset),
                "series": hours[index],
            }
        )
    return {
        "steps": total_steps,
        "start": m.get("start"),
        "sec_per_step": sec,
        "totals": {**totals, "dollars": total_dollars if dollars_known else None},
        "tasks": sorted(by_task.values(), key=lambda t: -(t["prompt_tokens"] + t["completion_tokens"])),
        "models": sorted(by_model.values(), key=lambda t: -(t["prompt_tokens"] + t["completion_tokens"])),
        "hours": hour_list,
        "cache_rate": (llm / (llm + llm_answered)) if (llm + llm_answered) else None,
        "side_calls": len(side),
        "policy": {
            "plan_actions": plan_actions,
            "reused": reused,
            "rate": (reused / plan_actions) if plan_actions else None,
        },
        "eval": eval_report(folder),
    }


def eval_report(folder: Path) -> dict[str, Any] | None:
    """``<sim>/eval/report.json`` and the chart file names, or None when ``aga eval`` has not run."""
    path = folder / "eval" / "report.json"
    if not path.is_file():
        return None
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        return {"error": f"{path}: cannot read it: {err}", "charts": []}
    charts = sorted(p.name for p in (folder / "eval").glob("*.png"))
    return {"report": report, "charts": charts}
