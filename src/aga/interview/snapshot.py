"""A simulation as it was at one step, read without changing a byte of its store.

The store keeps every memory (with its creation time), every step's movements, and each
resident's latest state. A resident "at step N" is rebuilt from them:

- memories: only those created at or before the game time of step N (a later memory is never
  seen); a memory looked at after step N gets its creation time as its last access, since the
  access it had at step N is not stored;
- the day's plan: the newest plan thought (``This is <name>'s plan for ...``) created by then;
- what they were doing, where, and with whom they were chatting: the movement row of step N;
- the persona: the stored state's identity when that state was written at or before step N or on
  the same game day (identities are revised once a day), else the base's persona.

The store is opened read-only (:func:`aga.store.read_only.open_read_only`), so ``sim.db`` stays
byte for byte as it was.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from aga.errors import InputError
from aga.minds.memory import TIME_FORMAT as MEMORY_TIME
from aga.minds.memory import MemoryNode, MemoryStream
from aga.minds.resident import Params
from aga.minds.text import Identity
from aga.store.read_only import movement_at, open_read_only, state_steps

PLAN_PREDICATE = "plan"
"""Predicate of the plan thought the minds store each morning (``minds.plan.remember_plan``)."""


class StepError(InputError):
    """A step outside the simulation's committed range (the message gives the range)."""


class ResidentError(InputError):
    """A resident name the simulation does not have (the message lists the known ones)."""


@dataclass(frozen=True)
class ResidentAtStep:
    """What a resident was and knew at one step (everything an answer may use).

    Attributes:
        name: full name.
        identity: persona fields (name, traits, status, habits...).
        params: retrieval parameters (weights, decay).
        now: game time of the step.
        step: the step.
        plan: the day's plan as the resident stored it ('' when none yet).
        doing: what they were doing (the step's activity, '' when unknown).
        place: where ('' when unknown).
        chatting_with: the other person, when in a chat at that step.
        records: memory records created by then (id order), each a dict as stored.
        vectors: embedding key -> vector of those records (the simulation's embedding model).
    """

    name: str
    identity: Identity
    params: Params
    now: datetime
    step: int
    plan: str
    doing: str
    place: str
    chatting_with: str | None
    records: tuple[Mapping[str, Any], ...]
    vectors: Mapping[str, Any]

    def memory(self) -> MemoryStream:
        """A fresh memory stream of these records (retrieval marks nodes; each call starts clean)."""
        return MemoryStream.from_records(self.records, self.vectors)

    def status(self) -> str:
        """One line: what they were doing, and where, at that step."""
        if not self.doing:
            return f"{self.name}: nothing recorded at this step"
        where = f" at {self.place}" if self.place else ""
        chat = f" (talking with {self.chatting_with})" if self.chatting_with else ""
        return f"{self.name} is {self.doing}{where}{chat}"


class SimSnapshot:
    """Read-only access to a simulation folder, for rebuilding residents at any committed step.

    Args:
        folder: the simulation folder (``<storage>/<sim>``).
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.store = open_read_only(folder)
        self.meta = self.store.meta()
        self.start = datetime.fromisoformat(self.meta["start"])
        self.sec_per_step = int(self.meta["sec_per_step"])
        self.next_step = int(self.meta.get("step", 0))
        self._states: dict[str, dict[str, Any]] | None = None
        self._state_steps: dict[str, int] | None = None

    def close(self) -> None:
        """Close the read-only connection."""
        self.store.close()

    def __enter__(self) -> SimSnapshot:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ names and steps
    @property
    def names(self) -> list[str]:
        """Residents of the simulation, sorted."""
        return sorted(self.states())

    @property
    def last_step(self) -> int:
        """The last committed step (0 for a fork that has not run yet)."""
        return max(self.next_step - 1, 0)

    def time_of(self, step: int) -> datetime:
        """Game time at step ``step``."""
        return self.start + timedelta(seconds=step * self.sec_per_step)

    def check_step(self, step: int | None) -> int:
        """``step``, or the last committed one when None.

        Raises:
            StepError: outside ``0..last_step`` (the message names the range).
        """
        if step is None:
            return self.last_step
        if not 0 <= step <= self.last_step:
            raise StepError(
                f"step {step} is not in simulation {self.folder.name!r}: its steps are 0..{self.last_step}"
            )
        return step

    def check_names(self, names: Iterable[str] | None) -> list[str]:
        """The named residents (all when None), in the given order.

        Raises:
            ResidentError: a name is not a resident (the message lists the known ones).
        """
        known = self.names
        if names is None:
            return known
        out: list[str] = []
        for name in names:
            if name not in known:
                raise ResidentError(
                    f"no resident {name!r} in simulation {self.folder.name!r}; residents: {', '.join(known)}"
                )
            out.append(name)
        return out

    # ------------------------------------------------------------------ settings
    def settings(self) -> dict[str, Any]:
        """The run settings stored with the simulation."""
        return dict(self.meta.get("settings") or {})

    def embed_spec(self) -> str:
        """The embedder the simulation's vectors were made with (as a ``--embed`` spec)."""
        settings = self.settings()
        if settings.get("embed"):
            return str(settings["embed"])
        kind = str(settings.get("llm") or "embedded").split(":", 1)[0]
        return "hash" if kind == "scripted" else "embedded"

    # ------------------------------------------------------------------ residents
    def states(self) -> dict[str, dict[str, Any]]:
        """Latest stored state of every resident."""
        if self._states is None:
            self._states = self.store.resident_states()
            self._state_steps = state_steps(self.store)
        return self._states

    def _base_identity(self, name: str) -> Identity | None:
        for persona in (self.meta.get("base") or {}).get("residents", []) or []:
            if isinstance(persona, Mapping) and persona.get("name") == name:
                try:
                    return Identity(**{f: persona[f] for f in Identity.__dataclass_fields__})
                except (KeyError, TypeError):
                    return None
        return None

    def resident(self, name: str, step: int, embed_model: str) -> ResidentAtStep:
        """``name`` as at ``step`` (checked), with the vectors of ``embed_model`` where stored."""
        step = self.check_step(step)
        (name,) = self.check_names([name])
        now = self.time_of(step)
        state = self.states()[name]
        state_step = (self._state_steps or {}).get(name, -1)
        identity = Identity(**state["identity"])
        same_day = state.get("day") == now.strftime("%Y-%m-%d")
        if state_step > step and not same_day:
            identity = self._base_identity(name) or identity
        params = Params(**state["params"])
        records = visible_records(self.store.memory_records(name), now)
        keys = [str(r["embedding_key"]) for r in records]
        vectors = self.store.embeddings(embed_model, keys) if keys else {}
        plan = ""
        for rec in reversed(records):
            if rec.get("type") == "thought" and rec.get("predicate") == PLAN_PREDICATE:
                plan = str(rec["description"])
                break
        doing, place, chatting = self._movement(name, step)
        return ResidentAtStep(
            name=name,
            identity=identity,
            params=params,
            now=now,
            step=step,
            plan=plan,
            doing=doing,
            place=place,
            chatting_with=chatting,
            records=tuple(records),
            vectors=vectors,
        )

    def _movement(self, name: str, step: int) -> tuple[str, str, str | None]:
        found = movement_at(self.store, name, step)
        if found is None:
            return "", "", None
        description, chat = found
        doing, _, address = description.partition(" @ ")
        parts = [p for p in address.split(":") if p]
        place = ", ".join(reversed(parts[1:3])) if len(parts) >= 2 else address
        if address.startswith("<persona>"):
            place = ""
        partner = None
        if chat:
            speakers = {str(line[0]) for line in chat if line}
            others = sorted(speakers - {name})
            partner = others[0] if others else None
        return doing.strip(), place, partner


def visible_records(records: Sequence[Mapping[str, Any]], now: datetime) -> list[dict[str, Any]]:
    """Records created at or before ``now``; a later last access is set back to the creation time."""
    out: list[dict[str, Any]] = []
    for rec in records:
        created = datetime.strptime(str(rec["created"]), MEMORY_TIME)
        if created > now:
            continue
        copy = dict(rec)
        accessed = rec.get("last_accessed")
        if accessed is not None and datetime.strptime(str(accessed), MEMORY_TIME) > now:
            copy["last_accessed"] = rec["created"]
        out.append(copy)
    return out


def node_line(node: MemoryNode) -> str:
    """One memory as shown to a person reading it: '[id] (kind, created, importance) text'."""
    imp = "?" if node.importance is None else str(node.importance)
    return f"[{node.id}] ({node.kind}, {node.created:%b %d %H:%M}, importance {imp}) {node.description}"
