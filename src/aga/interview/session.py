"""An interview: a conversation with one resident as they were at one step.

Each message is answered by :func:`aga.interview.answer.answer_one` with the conversation so far;
memories retrieved for one answer count as recently accessed for the next (as in a chat). The
simulation is not changed unless :meth:`InterviewSession.remember` is called: then the exchange
becomes one conversation memory of the resident at that step (summary and importance from the
``interview_memory`` task, embedded), written with the calls that made it in one transaction.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from aga.gateway import Gateway
from aga.interview.answer import (
    INTERVIEWER,
    AnswerRecord,
    Calls,
    answer_one,
    child_gateway,
    complete_vectors,
    gateway_for,
    record_calls,
)
from aga.interview.snapshot import ResidentAtStep, SimSnapshot, node_line
from aga.minds.memory import TIME_FORMAT, MemoryStream
from aga.minds.retrieve import retrieve
from aga.prompts.tasks import INTERVIEW_MEMORY, InterviewMemory
from aga.store.sim_store import SimStore

DEFAULT_IMPORTANCE = 4
"""Importance of a remembered interview when the model gave no usable rating (as for chats)."""


class InterviewSession:
    """A conversation with one resident at one step. Open with :meth:`start`, end with :meth:`close`."""

    def __init__(
        self,
        folder: Path,
        snap: SimSnapshot,
        who: ResidentAtStep,
        memory: MemoryStream,
        vectors: dict[str, np.ndarray],
        gateway: Gateway,
        *,
        own_gateway: bool,
        record: bool,
        calls: Calls,
    ) -> None:
        self.folder = folder
        self.snap = snap
        self.who = who
        self.memory = memory
        self.lines: list[tuple[str, str]] = []
        self.records: list[AnswerRecord] = []
        self._vectors = vectors
        self._gateway = gateway
        self._own = own_gateway
        self._record = record
        self._calls = calls

    @classmethod
    async def start(
        cls,
        folder: Path,
        name: str,
        *,
        step: int | None = None,
        llm: str | None = None,
        gateway: Gateway | None = None,
        record: bool = True,
    ) -> InterviewSession:
        """Rebuild ``name`` at ``step`` (default: the last committed step) and open a session.

        Raises:
            ResidentError, StepError: unknown resident or step.
        """
        folder = Path(folder)
        snap = SimSnapshot(folder)
        try:
            (name,) = snap.check_names([name])
            at = snap.check_step(step)
            gw = gateway or gateway_for(snap, llm)
            who = snap.resident(name, at, gw.embed_model)
            calls = Calls()
            vectors = await complete_vectors(who, gw, calls)
        except BaseException:
            snap.close()
            raise
        memory = MemoryStream.from_records(who.records, vectors)
        return cls(
            folder, snap, who, memory, vectors, gw, own_gateway=gateway is None, record=record, calls=calls
        )

    # ------------------------------------------------------------------ talking
    async def ask(self, message: str) -> AnswerRecord:
        """The resident's answer to ``message``, given the conversation so far."""
        rec = await answer_one(self.who, self.memory, message, self._gateway, self._calls, self.lines)
        self.records.append(rec)
        self.lines.append((INTERVIEWER, message))
        if rec.answer:
            self.lines.append((self.who.name, rec.answer))
        return rec

    # ------------------------------------------------------------------ looking (no model call)
    def describe(self) -> str:
        """Who the resident is and what they are doing at the step (``/who``)."""
        return f"{self.who.identity.block()}\nAt step {self.who.step} ({self.who.now:%B %d, %Y, %H:%M}): {self.who.status()}"

    def plan(self) -> str:
        """The day's plan as the resident stored it (``/plan``)."""
        return self.who.plan or f"{self.who.name} has no plan for this day yet (step {self.who.step})."

    async def memories(self, query: str = "", count: int = 10) -> list[str]:
        """Memories of the step (``/memories <query>``): retrieved for ``query`` (embedding only, no
        language-model call; nothing is marked accessed), or the newest ones when it is empty."""
        fresh = MemoryStream.from_records(self.who.records, self._vectors)
        if not query.strip():
            nodes = fresh.newest(("event", "chat", "thought"), count)[::-1]
        elif not fresh.dim:
            nodes = []
        else:
            child = child_gateway(self._gateway)
            qvec = np.asarray(await child.embed([query]), dtype=np.float32)
            self._calls.rows.extend(child.ledger.drain())
            nodes = retrieve(fresh, qvec, self.who.now, count, self.who.params.weights)[0]
        return [node_line(n) for n in nodes]

    # ------------------------------------------------------------------ remembering
    async def remember(self) -> int | None:
        """Store the exchange as a conversation memory of the resident at the session's step.

        Returns:
            The new memory's id, or None when nothing was said.
        """
        if not self.lines:
            return None
        who = self.who
        child = child_gateway(self._gateway)
        transcript = "\n".join(f"{s}: {u}" for s, u in self.lines)
        none = InterviewMemory.model_construct()
        ans = await child.ask(
            INTERVIEW_MEMORY,
            {"persona": who.identity.block(), "name": who.name, "transcript": transcript},
            agent=who.name,
            game_time=who.now,
            fallback=none,
        )
        got = None if ans is None or ans is none or not getattr(ans, "summary", "") else ans
        summary = "talking with an interviewer" if got is None else _phrase(str(got.summary), who.name)
        importance = DEFAULT_IMPORTANCE if got is None else int(got.importance)
        description = f"{who.name} is {summary}"
        vec = np.asarray(await child.embed([description]), dtype=np.float32)[0]
        store = SimStore.open(self.folder)
        try:
            ids = [int(r["id"]) for r in store.memory_records(who.name)]
            new_id = max(ids, default=0) + 1
            when = who.now.strftime(TIME_FORMAT)
            record: dict[str, Any] = {
                "id": new_id,
                "type": "chat",
                "depth": 0,
                "created": when,
                "expiration": None,
                "last_accessed": when,
                "subject": who.name,
                "predicate": "chat with",
                "object": INTERVIEWER,
                "description": description,
                "embedding_key": description,
                "poignancy": importance,
                "keywords": [who.name.lower(), INTERVIEWER.lower()],
                "filling": [[s, u] for s, u in self.lines],
            }
            rows = [r.to_dict() for r in child.ledger.drain()]
            store.add_memories(
                who.step, {who.name: [record]}, [(self._gateway.embed_model, description, vec)], rows
            )
        finally:
            store.close()
        self.snap.close()  # an immutable read-only view must not outlive a write
        self.snap = SimSnapshot(self.folder)
        return new_id

    async def close(self) -> None:
        """Record the session's calls (side ledger, metrics files) and release everything."""
        try:
            if self._record:
                record_calls(self.folder, self.snap, self._calls)
        finally:
            self.snap.close()
            if self._own:
                await self._gateway.aclose()


def _phrase(summary: str, name: str) -> str:
    """The summary as the part after '<name> is'."""
    text = summary.strip().rstrip(".")
    for lead in (f"{name} is ", f"{name.split()[0]} is "):
        if text.lower().startswith(lead.lower()):
            text = text[len(lead) :]
    return text or "talking with an interviewer"
