"""aga.eval: believability measures over a simulation's store (issue 9), see docs/eval.md.

Public API::

    from aga.eval import load_sim, build_report
    rec = load_sim(folder, step=None)          # SimRecords from sim.db or an imported replay
    report = build_report(rec)             # every store-only measure, JSON-able

Measures are pure functions of :class:`~aga.eval.records.SimRecords` (tests build records by
hand): :mod:`~aga.eval.diffusion`, :mod:`~aga.eval.social`, :mod:`~aga.eval.day` (realism,
coordination, defects over the records, cost), :mod:`~aga.eval.defects` (the text detectors).
"""

from __future__ import annotations

from aga.eval.load import load as load_sim
from aga.eval.load import resolve
from aga.eval.records import Chat, Memory, Move, PlanItem, SimRecords
from aga.eval.report import build as build_report

__all__ = ["Chat", "Memory", "Move", "PlanItem", "SimRecords", "build_report", "load_sim", "resolve"]
