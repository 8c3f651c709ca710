"""``aga eval --judge <llm>``: a model scores interview answers and sampled chat lines 1-5.

Off by default; no other measure needs it. The rubric is the ``judge_believability`` task's
template (our words). Lines are sampled evenly over the run's conversations, so the same run
gives the same sample.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

from aga.eval.records import SimRecords

CHAT_SAMPLE = 12


def sample_chat_lines(rec: SimRecords, count: int = CHAT_SAMPLE) -> list[dict[str, str]]:
    """Up to ``count`` chat lines spread evenly over all conversations, with the line before."""
    flat: list[dict[str, str]] = []
    for chat in rec.chats():
        prev = ""
        for speaker, line in chat.lines:
            other = next(iter(chat.partners - {speaker}), "")
            flat.append(
                {
                    "name": speaker,
                    "text": line,
                    "context": f"talking with {other}" + (f"; they just said: {prev}" if prev else ""),
                }
            )
            prev = line
    if len(flat) <= count:
        return flat
    return [flat[i * len(flat) // count] for i in range(count)]


async def _score(items: Sequence[Mapping[str, str]], llm: str) -> list[dict[str, Any]]:
    from aga.gateway import build_gateway
    from aga.prompts.tasks import JUDGE_BELIEVABILITY

    gw = build_gateway(llm)
    try:

        async def one(item: Mapping[str, str]) -> dict[str, Any]:
            try:
                got = await gw.ask(JUDGE_BELIEVABILITY, dict(item), agent=None, game_time=None)
            except Exception as err:  # noqa: BLE001 - a failed judgement is reported, never scored
                return {**item, "score": None, "reason": f"no judgement: {type(err).__name__}"}
            if got is None:
                return {**item, "score": None, "reason": "no judgement"}
            return {**item, "score": int(got.score), "reason": got.reason}

        return list(await asyncio.gather(*(one(i) for i in items)))
    finally:
        close = getattr(gw, "aclose", None)
        if close is not None:
            await close()


def judge_report(rec: SimRecords, interviews: Mapping[str, Any], llm: str) -> dict[str, Any]:
    """Scores of every interview answer and a sample of chat lines, and their mean."""
    items = [
        {"name": a["resident"], "text": a["answer"], "context": f"asked in an interview: {a['question']}"}
        for a in interviews.get("answers", [])
        if a.get("answer")
    ]
    items += sample_chat_lines(rec)
    scored = asyncio.run(_score(items, llm)) if items else []
    got = [s["score"] for s in scored if s["score"] is not None]
    return {
        "model": llm,
        "scored": len(got),
        "unscored": len(scored) - len(got),
        "mean": round(sum(got) / len(got), 2) if got else None,
        "items": scored,
    }
