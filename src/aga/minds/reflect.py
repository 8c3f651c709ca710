"""Phase 3: thoughts after a chat, and reflection.

Reflection starts when the importance of what was perceived since the last reflection adds up
to the resident's threshold (``importance_trigger_max``, 150 by default): the newest memories
give a few focal questions; for each, the most relevant memories are retrieved and numbered,
and the model draws insights citing them. Each insight becomes a thought whose evidence is the
cited memories' ids. When the model gives nothing usable, nothing is stored (the counter is
still reset, so the same reflection is not paid for on every step).

Savings (``MindConfig`` switches; off, the original calls):

- ``batch_thoughts``: the thoughts formed together (the insights of a question, the notes after
  a chat) get their importance and (predicate, object) from one ``thought_notes`` call, instead
  of a ``thought_importance`` and an ``event_triple`` call each.
- ``merged_reflection``: one ``insights_all`` call answers all focal questions over the union of
  the memories retrieved for them (instead of one ``insights`` call per question), repeated
  memory texts are listed once, and one ``chat_thoughts`` call gives the planning note and the
  memo after a chat.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING

from aga import aio
from aga.minds.calls import ask, embed
from aga.minds.memory import MemoryNode
from aga.minds.perceive import DEFAULT_IMPORTANCE, rate_or_none, settle_ratings
from aga.minds.retrieve import retrieve
from aga.minds.text import numbered, proper_nouns, transcript
from aga.prompts.tasks import (
    CHAT_MEMO,
    CHAT_PLANNING_NOTE,
    CHAT_THOUGHTS,
    EVENT_TRIPLE,
    FOCAL_POINTS,
    INSIGHTS,
    INSIGHTS_ALL,
    THOUGHT_NOTES,
    EventTriple,
    ThoughtNotes,
    exactly,
)

if TYPE_CHECKING:
    from aga.minds.context import StepContext
    from aga.minds.state import Mind


async def reflect(r: Mind, ctx: StepContext) -> None:
    """Run whichever of the two is due."""
    if (
        r.chat_thoughts_due
        and r.chat_end is not None
        and ctx.now + timedelta(seconds=ctx.sec_per_step) >= r.chat_end
    ):
        r.chat_thoughts_done()
        await thoughts_after_chat(r, ctx)
    if r.importance_trigger_curr <= 0 and len(r.memory):
        count = r.restart_reflection()
        await run_reflection(r, ctx, count)


async def add_thoughts(r: Mind, ctx: StepContext, items: list[tuple[str, list[int]]]) -> None:
    """Store thoughts ``(text, evidence ids)`` in order: one ``thought_notes`` call and one
    embedding batch for all of them (saving ``batch_thoughts``), else one by one."""
    if not items:
        return
    if not ctx.config.batch_thoughts:
        for text, evidence in items:
            await add_thought(r, ctx, text, evidence)
        return
    texts = [t for t, _ in items]
    task = replace(THOUGHT_NOTES, schema=exactly(ThoughtNotes, "notes", len(texts)))
    vars = {"persona": r.identity.block(), "name": r.name, "thoughts": numbered(texts), "items": texts}
    ans, vectors = await aio.gather(ask(ctx, r.name, task, vars), embed(ctx, texts))
    for k, (text, evidence) in enumerate(items):
        if ans is None:  # stand-ins, marked: rated again at the next chance
            triple, rating = EventTriple(predicate="thinks", object=text[:60]), DEFAULT_IMPORTANCE
        else:
            note = ans.notes[k]
            triple, rating = EventTriple(predicate=note.predicate, object=note.object), int(note.importance)
        _store_thought(r, ctx, text, evidence, triple, rating, vectors[k], defaulted=ans is None)
    if ans is None:
        r._heal_due = True


async def add_thought(r: Mind, ctx: StepContext, text: str, evidence: list[int]) -> MemoryNode:
    """Store a thought (triple, importance and embedding asked for it) citing ``evidence``."""
    triple, rating, vec = await aio.gather(
        ask(
            ctx,
            r.name,
            EVENT_TRIPLE,
            {"name": r.name, "activity": text},
            fallback=EventTriple(predicate="thinks", object=text[:60]),
        ),
        rate_or_none(r, ctx, text, thought=True),
        embed(ctx, [text]),
    )
    if rating is None:
        r._heal_due = True
    rated = DEFAULT_IMPORTANCE if rating is None else rating
    return _store_thought(r, ctx, text, evidence, triple, rated, vec[0], defaulted=rating is None)


def _store_thought(
    r: Mind,
    ctx: StepContext,
    text: str,
    evidence: list[int],
    triple: EventTriple,
    rating: int,
    vec: object,
    *,
    defaulted: bool = False,
) -> MemoryNode:
    depth = 1 + max((r.memory.node(i).depth for i in evidence if r.memory.has(i)), default=0)
    return r.memory.add(
        "thought",
        created=ctx.now,
        subject=r.name,
        predicate=triple.predicate,
        obj=triple.object,
        description=text,
        embedding_key=text,
        importance=rating,
        keywords=[r.name, triple.object, *proper_nouns(text)],
        filling=list(evidence),
        vector=vec,  # type: ignore[arg-type]
        depth=depth,
        expiration=ctx.now + timedelta(days=ctx.config.thought_days),
        defaulted=defaulted,
    )


async def thoughts_after_chat(r: Mind, ctx: StepContext) -> None:
    """A planning note and a memo about the chat that is ending, citing its chat memory."""
    other = r.chatting_with or ""
    chat_node = r.memory.last_chat_with(other)
    if chat_node is None or not r.chat:
        return
    vars = {"name": r.name, "transcript": transcript(r.chat)}
    if ctx.config.merged_reflection:
        task = replace(CHAT_THOUGHTS, check=lambda a: own_thought_problem(r.name, a.planning_note, a.memo))
        both = await ask(ctx, r.name, task, vars)
        if both is None:
            return
        # rated by the call itself (no thought_notes); what they are about is known: the chat
        pairs = [(both.planning_note, both.planning_importance), (both.memo, both.memo_importance)]
        rated: list[tuple[str, int]] = [(t.strip(), int(k)) for t, k in pairs if t.strip()]
        vectors = await embed(ctx, [t for t, _ in rated])
        triple = EventTriple(predicate="thought after talking with", object=other)
        for (note, rating), vec in zip(rated, vectors, strict=True):
            _store_thought(r, ctx, note, [chat_node.id], triple, rating, vec)
        return
    plan, memo = await aio.gather(
        ask(
            ctx,
            r.name,
            replace(CHAT_PLANNING_NOTE, check=lambda a: own_thought_problem(r.name, a.note)),
            vars,
        ),
        ask(ctx, r.name, replace(CHAT_MEMO, check=lambda a: own_thought_problem(r.name, a.note)), vars),
    )
    # the resident's own first-person words, as they thought them (no "For X's planning:" frame,
    # which made a thought name its thinker beside "I")
    texts = [a.note.strip() for a in (plan, memo) if a is not None and a.note.strip()]
    await add_thoughts(r, ctx, [(t, [chat_node.id]) for t in texts])


def own_thought_problem(name: str, *notes: str) -> str | None:
    """Why a note that should be ``name``'s own first-person thought is not: it names them
    ("Isabella Rodriguez The conversation ...", "I think Isabella should ..."); None when fine."""
    first = name.split()[0]
    for note in notes:
        if re.search(rf"\b{re.escape(name)}\b|\b{re.escape(first)}(?:'s)?\b", note):
            return f'write it as {name} thinking to themself: "I" and "my", never "{first}"'
    return None


def focal_statements(r: Mind, count: int) -> list[MemoryNode]:
    """The newest ``count`` (by last access) events and thoughts that are not about idleness."""
    return r.memory.newest_accessed(max(count, 1))


async def run_reflection(r: Mind, ctx: StepContext, count: int) -> None:
    """Focal questions, then insights with evidence for each, stored as thoughts."""
    await settle_ratings(r, ctx, force=True)
    recent = focal_statements(r, count)
    if not recent:
        return
    n_q = ctx.config.focal_point_count
    texts = [n.embedding_key for n in recent]
    if ctx.config.merged_reflection:  # a repeated memory says nothing new: list it once
        texts = list(dict.fromkeys(reversed(texts)))[:FOCAL_STATEMENTS][::-1]  # the newest, in order
    ans = await ask(
        ctx,
        r.name,
        FOCAL_POINTS,
        {
            "name": r.name,
            "statements": "\n".join(texts),
            "count": n_q,
        },
    )
    if ans is None:
        return
    questions = [q for q in ans.questions if q.strip()][:n_q]
    if not questions or not r.memory.dim:
        return
    groups = retrieve(
        r.memory,
        await embed(ctx, questions),
        ctx.now,
        ctx.config.retrieve_count,
        r.params.weights,
        unique=not ctx.config.original_pipeline,
    )
    if ctx.config.merged_reflection:
        await _insights_at_once(r, ctx, questions, groups)
        return
    for question, nodes in zip(questions, groups):
        if not nodes:
            continue
        found = await ask(
            ctx,
            r.name,
            INSIGHTS,
            {
                "name": r.name,
                "statements": numbered([n.embedding_key for n in nodes]),
                "question": question,
                "count": ctx.config.insight_count,
            },
        )
        if found is None:
            continue
        items = [
            (item.insight, [nodes[k - 1].id for k in dict.fromkeys(item.evidence) if 1 <= k <= len(nodes)])
            for item in found.insights[: ctx.config.insight_count]
        ]
        await add_thoughts(r, ctx, items)


FOCAL_STATEMENTS = 40
"""Distinct recent statements the focal-questions call lists at most with ``merged_reflection``
(the original lists every memory since the last reflection, often a hundred and more, many of
them the same happening seen again)."""
MERGED_STATEMENTS = 30
"""Statements one merged insights call lists at most (the best of each question's retrieval in
turn): what a separate call of the original lists for one question, not 90 at once."""
MERGED_INSIGHTS = 6
"""Insights one merged call asks for at most (a small model loses track of 15 over 90 lines)."""


def _interleaved(groups: list[list[MemoryNode]]) -> list[MemoryNode]:
    """The nodes of all groups, best of each group first, in turns; each node once."""
    out: list[MemoryNode] = []
    seen: set[int] = set()
    for rank in range(max((len(g) for g in groups), default=0)):
        for group in groups:
            if rank < len(group) and group[rank].id not in seen:
                seen.add(group[rank].id)
                out.append(group[rank])
    return out


async def _insights_at_once(
    r: Mind, ctx: StepContext, questions: list[str], groups: list[list[MemoryNode]]
) -> None:
    """One call for the insights of all questions, over the union of their memories (a text
    retrieved twice is listed once)."""
    by_text: dict[str, MemoryNode] = {}
    for node in _interleaved(groups):
        by_text.setdefault(node.embedding_key, node)
        if len(by_text) >= MERGED_STATEMENTS:
            break
    nodes = list(by_text.values())
    if not nodes:
        return
    total = min(ctx.config.insight_count * len(questions), MERGED_INSIGHTS)
    found = await ask(
        ctx,
        r.name,
        INSIGHTS_ALL,
        {
            "name": r.name,
            "statements": numbered([n.embedding_key for n in nodes]),
            "questions": numbered(questions),
            "count": total,
        },
    )
    if found is None:
        return
    chosen = found.insights[:total]
    vectors = await embed(ctx, [item.insight for item in chosen])
    for item, vec in zip(chosen, vectors, strict=True):  # rated by the call itself: no thought_notes
        evidence = [nodes[k - 1].id for k in dict.fromkeys(item.evidence) if 1 <= k <= len(nodes)]
        triple = EventTriple(predicate=item.predicate, object=item.object)
        _store_thought(r, ctx, item.insight, evidence, triple, int(item.importance), vec)
