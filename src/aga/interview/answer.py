"""The answering path: a resident as at step N answers questions through the gateway.

For each question: the question is embedded, the resident's memories of that step are retrieved
with the minds' own retrieval (``aga.minds.retrieve``: recency, importance, relevance, the
resident's weights), and one ``interview_answer`` task is asked with the persona, the time, what
they are doing, the day's plan, the retrieved memories and the conversation so far.

Every call goes through the gateway under its task name. The rows of calls that only read the
simulation go to ``<sim>/interviews/ledger.jsonl`` (``aga.store.side_ledger``), never into
``sim.db``; the metrics files are rewritten to include them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from aga.gateway import Gateway, LedgerRow, build_gateway
from aga.gateway.metrics import write_metrics
from aga.interview.questions import fill
from aga.interview.snapshot import ResidentAtStep, SimSnapshot
from aga.minds.memory import MemoryNode, MemoryStream
from aga.minds.retrieve import retrieve
from aga.prompts.tasks import INTERVIEW_ANSWER, InterviewAnswer
from aga.store.side_ledger import all_ledger_rows, append_side_rows

RETRIEVE_COUNT = 12
"""Memories retrieved per question (the original took 50; a small local model reads 12 better)."""
INTERVIEWER = "Interviewer"


@dataclass
class AnswerRecord:
    """One answer of one resident to one question.

    Attributes:
        question: the question as asked (placeholders filled in).
        resident: who answered.
        answer: the answer ('' when the model gave nothing usable; then ``error`` says why).
        memory_ids: ids of the memories retrieved for it (best first), as stored in the simulation.
        model: the model that answered.
        prompt_tokens, completion_tokens: tokens of the answer's calls (repairs included).
        step: the step the resident was rebuilt at.
        recalled: the memory the model said the answer rests on ("nothing" when none).
        error: why there is no answer, if there is none.
    """

    question: str
    resident: str
    answer: str
    memory_ids: list[int]
    model: str
    prompt_tokens: int
    completion_tokens: int
    step: int
    recalled: str = ""
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict."""
        return asdict(self)


@dataclass
class Calls:
    """Ledger rows gathered by one answering session (written to the side ledger at the end)."""

    rows: list[LedgerRow] = field(default_factory=list)


def child_gateway(parent: Gateway) -> Gateway:
    """A gateway on the same backend and embedder with a ledger of its own (so each answer's calls
    are counted exactly even when several run at once)."""
    return Gateway(
        parent.backend,
        parent.embedder,
        cache=parent.cache,
        retry=parent.retry,
        max_in_flight=parent.max_in_flight,
        max_attempts=parent.max_attempts,
        timeout=parent.timeout,
    )


def gateway_for(snap: SimSnapshot, llm: str | None) -> Gateway:
    """The simulation's own model (or ``llm``), with the embedder its vectors were made with."""
    spec = llm or str(snap.settings().get("llm") or "embedded")
    return build_gateway(spec, embed=snap.embed_spec())


async def complete_vectors(who: ResidentAtStep, gateway: Gateway, calls: Calls) -> dict[str, np.ndarray]:
    """The vectors of ``who``'s memories by embedding key: the stored ones, plus the memories that
    have none yet (a fork before its first step) embedded now, for answering only (never stored)."""
    vectors: dict[str, np.ndarray] = dict(who.vectors)
    missing = sorted({str(r["embedding_key"]) for r in who.records} - set(vectors))
    if missing:
        child = child_gateway(gateway)
        vecs = await child.embed(missing)
        calls.rows.extend(child.ledger.drain())
        vectors.update(zip(missing, np.asarray(vecs, dtype=np.float32)))
    return vectors


def memory_lines(nodes: Sequence[MemoryNode]) -> str:
    """Retrieved memories as the prompt shows them, oldest first."""
    if not nodes:
        return "- nothing in particular"
    ordered = sorted(nodes, key=lambda n: (n.created, n.id))
    out = []
    for n in ordered:
        when = "" if n.created.year <= 2000 else f"({n.created:%b %d, %H:%M}) "
        out.append(f"- {when}{n.description}")
    return "\n".join(out)


def prompt_vars(
    who: ResidentAtStep, question: str, nodes: Sequence[MemoryNode], conversation: Sequence[tuple[str, str]]
) -> dict[str, Any]:
    """The inputs of the ``interview_answer`` template."""
    lines = "\n".join(f"{s}: {u}" for s, u in conversation[-8:])
    return {
        "persona": who.identity.block(),
        "name": who.name,
        "time": who.now.strftime("%A %B %d, %Y, %I:%M %p"),
        "status": who.status() + ".",
        "plan": who.plan or f"{who.name} has not made a plan for today yet.",
        "memories": memory_lines(nodes),
        "conversation": lines,
        "question": question,
    }


async def answer_one(
    who: ResidentAtStep,
    memory: MemoryStream,
    question: str,
    gateway: Gateway,
    calls: Calls,
    conversation: Sequence[tuple[str, str]] = (),
    *,
    count: int = RETRIEVE_COUNT,
) -> AnswerRecord:
    """``who`` answers ``question`` (retrieval marks the nodes it returns in ``memory``)."""
    child = child_gateway(gateway)
    nodes: list[MemoryNode] = []
    if memory.dim:
        qvec = np.asarray(await child.embed([question]), dtype=np.float32)
        nodes = retrieve(memory, qvec, who.now, count, who.params.weights)[0]
    none = InterviewAnswer.model_construct()
    ans = await child.ask(
        INTERVIEW_ANSWER,
        prompt_vars(who, question, nodes, conversation),
        agent=who.name,
        game_time=who.now,
        fallback=none,
    )
    rows = child.ledger.drain()
    calls.rows.extend(rows)
    llm_rows = [r for r in rows if r.kind == "llm"]
    got = None if ans is None or ans is none or not getattr(ans, "answer", "") else ans
    failed = got is None
    return AnswerRecord(
        question=question,
        resident=who.name,
        answer="" if got is None else str(got.answer),
        memory_ids=[n.id for n in nodes],
        model=next((r.model for r in reversed(llm_rows) if r.model), gateway.backend.model),
        prompt_tokens=sum(r.prompt_tokens for r in llm_rows),
        completion_tokens=sum(r.completion_tokens for r in llm_rows),
        step=who.step,
        recalled="" if got is None else str(getattr(got, "recalled", "")),
        error=_why(llm_rows) if failed else None,
    )


def _why(rows: Sequence[LedgerRow]) -> str:
    for r in reversed(rows):
        if r.error:
            return f"no usable answer from the model: {r.error}"
    return "no usable answer from the model"


def rewrite_metrics(folder: Path) -> None:
    """Rewrite ``<sim>/metrics/`` from the store's ledger followed by the side ledger (read-only)."""
    with SimSnapshot(folder) as snap:
        rows = all_ledger_rows(snap.store.ledger_rows(), folder)
        write_metrics(rows, folder / "metrics", action_logs=snap.store.action_logs())


def record_calls(folder: Path, snap: SimSnapshot, calls: Calls) -> None:
    """Append the session's calls to the side ledger and rewrite the metrics files with them."""
    if not calls.rows:
        return
    append_side_rows(folder, [r.to_dict() for r in calls.rows])
    calls.rows.clear()
    write_metrics(
        all_ledger_rows(snap.store.ledger_rows(), folder),
        folder / "metrics",
        action_logs=snap.store.action_logs(),
    )


async def answer_questions(
    sim_dir: Path,
    questions: Sequence[str],
    *,
    residents: Sequence[str] | None = None,
    step: int | None = None,
    llm: str | None = None,
    gateway: Gateway | None = None,
    record: bool = True,
) -> list[AnswerRecord]:
    """Every named resident (all when None) answers every question, as they were at ``step``.

    ``{name}`` and ``{other}`` in a question are filled in per resident (see
    :func:`aga.interview.questions.fill`). Each answer starts from the memories as stored at that
    step (questions do not influence each other). Nothing in ``sim.db`` changes.

    Args:
        sim_dir: the simulation folder.
        questions: the questions.
        residents: full names; None for everyone.
        step: a committed step; None for the last one.
        llm: a model spec other than the simulation's own (``--llm`` forms).
        gateway: a ready gateway to use instead (its backend and embedder; its ledger is left alone).
        record: append the calls to ``<sim>/interviews/ledger.jsonl`` and rewrite the metrics files.

    Returns:
        Records in resident order, then question order.

    Raises:
        ResidentError, StepError: unknown resident or step (one line naming the known ones / the range).
        BackendUnavailable: the model endpoint failed past its retry budget.
    """
    sim_dir = Path(sim_dir)
    with SimSnapshot(sim_dir) as snap:
        names = snap.check_names(residents)
        at = snap.check_step(step)
        gw = gateway or gateway_for(snap, llm)
        everyone = snap.names
        people = [snap.resident(n, at, gw.embed_model) for n in names]
        calls = Calls()
        bound = asyncio.Semaphore(gw.max_in_flight)

        async def one(who: ResidentAtStep, memory: MemoryStream, q: str) -> AnswerRecord:
            async with bound:
                return await answer_one(who, memory, q, gw, calls)

        try:
            jobs = []
            for who in people:
                vectors = await complete_vectors(who, gw, calls)
                others = [n for n in everyone if n != who.name]
                for q in fill(questions, who.name, others):
                    jobs.append(one(who, MemoryStream.from_records(who.records, vectors), q))
            out = list(await asyncio.gather(*jobs))
        finally:
            if record:
                record_calls(sim_dir, snap, calls)
            if gateway is None:
                await gw.aclose()
        return out


def answer_questions_sync(sim_dir: Path, questions: Sequence[str], **kw: Any) -> list[AnswerRecord]:
    """:func:`answer_questions` for callers without an event loop (same arguments)."""
    return asyncio.run(answer_questions(sim_dir, questions, **kw))


def records_by_resident(records: Sequence[AnswerRecord]) -> Mapping[str, list[AnswerRecord]]:
    """Records grouped by resident, in order."""
    out: dict[str, list[AnswerRecord]] = {}
    for r in records:
        out.setdefault(r.resident, []).append(r)
    return out
