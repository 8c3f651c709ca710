"""The Lifestyle Policy: reuse of plan decompositions and action groundings across runs.

Two stores in one shared database (:class:`~aga.policy.store.PublicStore`):

* plans: activity text -> subtasks with minutes, key embedding, hit count. Reused on an exact
  text match, else on the most similar stored key at or above the embedding model's threshold;
  the minutes are rescaled to the requested duration.
* groundings: canonical action text -> place, emoji, event triples, object state. Reused only
  where the caller's ``accept`` says the place exists in the town and is known to the resident.
  Short activities that are not decomposed are first mapped to a stored equivalent text
  (:meth:`LifestylePolicy.canonical`) so that the grounding store hits.

Determinism: rows this simulation wrote at the current step or later are invisible, so a step
re-run after a crash, or residents thinking concurrently within one step, see what an
uninterrupted run saw. Rows of other simulations are always visible (the "warm" store).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

import numpy as np

from aga.policy.rescale import rescale_subtasks
from aga.policy.store import KeyRow, PublicStore
from aga.policy.thresholds import check_threshold, threshold_for
from aga.policy.types import Grounding, PlanHit

__all__ = ["LifestylePolicy", "NullPolicy", "Policy", "normalise"]

PLAN = "plan"
ACTIVITY = "activity"


_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")
_FILLER = frozenset({"a", "an", "the", "her", "his", "their", "its", "my", "our", "your"})
"""Words an exact match ignores: articles and possessive determiners ("checking her emails" is
"checking emails"); the calibration set showed these are what paraphrases of one activity
differ in most, and what embeddings are least sure about."""


def normalise(text: str) -> str:
    """The form texts are compared in for an "exact" match.

    Case folded, punctuation and spacing dropped, articles and possessive determiners removed:
    ``"Cooking dinner in her kitchen."`` -> ``"cooking dinner in kitchen"``.
    """
    words = _WORD.findall(text.casefold())
    return " ".join(w for w in words if w not in _FILLER)


class Policy(Protocol):
    """What the minds call; implemented by :class:`LifestylePolicy` and :class:`NullPolicy`."""

    enabled: bool

    def find_plan(
        self, agent: str, activity: str, duration: int, embedding: np.ndarray | None, step: int
    ) -> PlanHit | None:
        """A stored decomposition of ``activity`` rescaled to ``duration`` minutes, or None."""
        ...

    def add_plan(
        self,
        agent: str,
        activity: str,
        duration: int,
        subtasks: Sequence[tuple[str, int]],
        embedding: np.ndarray | None,
        step: int,
    ) -> bool:
        """Store a decomposition; True if it was new."""
        ...

    def canonical(self, agent: str, activity: str, embedding: np.ndarray | None, step: int) -> str | None:
        """The stored activity text equivalent to ``activity``, or None."""
        ...

    def register_activity(self, agent: str, activity: str, embedding: np.ndarray | None, step: int) -> bool:
        """Register ``activity`` as a stored text; True if it was new."""
        ...

    def find_grounding(
        self, agent: str, action_text: str, step: int, *, accept: Callable[[Grounding], bool]
    ) -> Grounding | None:
        """A stored grounding of ``action_text`` that ``accept`` takes, or None."""
        ...

    def add_grounding(self, agent: str, action_text: str, grounding: Grounding, step: int) -> bool:
        """Store a grounding; True if it was new."""
        ...

    def find_rating(self, agent: str, kind: str, text: str) -> int | None:
        """The importance an earlier simulation got from the model for ``agent`` and ``text``."""
        ...

    def add_ratings(self, agent: str, kind: str, ratings: Mapping[str, int], step: int) -> int:
        """Store ratings the model gave; how many were new."""
        ...


class _Index:
    """The key vectors of one kind for one model, cached in memory and topped up from the store.

    Besides the vectors it keeps, per row, the key id, an integer code of the agent, whether
    this simulation wrote it, and the step it was written at, so a lookup is a few array ops.
    """

    def __init__(self, sim: str) -> None:
        self.sim = sim
        self.last_seq = 0
        self.key_ids = np.zeros(0, dtype=np.int64)
        self.agent_codes = np.zeros(0, dtype=np.int64)
        self.own_sim = np.zeros(0, dtype=bool)
        self.steps = np.zeros(0, dtype=np.int64)
        self.matrix: np.ndarray | None = None
        self.codes: dict[str, int] = {}

    def refresh(self, store: PublicStore, kind: str, model: str) -> None:
        rows = store.vectors_after(kind, model, self.last_seq)
        if not rows.key_ids:
            return
        vectors = _unit_rows(rows.vectors)
        if self.matrix is not None and self.matrix.shape[1] != vectors.shape[1]:
            raise ValueError(
                f"policy store holds '{model}' vectors of length {self.matrix.shape[1]} "
                f"and {vectors.shape[1]}"
            )
        codes = [self.codes.setdefault(a, len(self.codes)) for a in rows.agents]
        self.matrix = vectors if self.matrix is None else np.vstack([self.matrix, vectors])
        self.key_ids = np.concatenate([self.key_ids, np.asarray(rows.key_ids, dtype=np.int64)])
        self.agent_codes = np.concatenate([self.agent_codes, np.asarray(codes, dtype=np.int64)])
        self.own_sim = np.concatenate(
            [self.own_sim, np.asarray([s == self.sim for s in rows.sims], dtype=bool)]
        )
        self.steps = np.concatenate([self.steps, np.asarray(rows.steps, dtype=np.int64)])
        self.last_seq = rows.last_seq


class LifestylePolicy:
    """Plan and grounding reuse for one simulation.

    Args:
        store: the shared public store of the storage folder.
        sim: this simulation's name (provenance, and the visibility rule).
        embed_model: name of the embedding model whose vectors are passed in; only stored vectors
            of this model are compared.
        threshold: cosine similarity needed for a reuse; default: calibrated for ``embed_model``
            (:func:`~aga.policy.thresholds.threshold_for`).
        share_across_agents: look up every resident's entries, not only the asking resident's.

    Raises:
        InputError: ``threshold`` is not in (0, 1].

    Methods are synchronous and quick (one indexed query, a matrix-vector product); every write
    is committed before returning. Lookups never raise on a miss: they return None.
    """

    enabled = True

    def __init__(
        self,
        store: PublicStore,
        *,
        sim: str,
        embed_model: str,
        threshold: float | None = None,
        share_across_agents: bool = False,
    ) -> None:
        self.store = store
        self.sim = sim
        self.embed_model = embed_model
        self.threshold = threshold_for(embed_model) if threshold is None else check_threshold(threshold)
        self.share_across_agents = share_across_agents
        self.counts: dict[str, int] = dict.fromkeys(
            (
                "plan_exact",
                "plan_similar",
                "plan_miss",
                "plan_added",
                "canonical_exact",
                "canonical_similar",
                "canonical_miss",
                "activity_added",
                "grounding_hit",
                "grounding_rejected",
                "grounding_miss",
                "grounding_added",
                "rating_hit",
                "rating_added",
            ),
            0,
        )
        """Lookups and registrations of this object, for reports (not persisted)."""
        self._indexes = {PLAN: _Index(sim), ACTIVITY: _Index(sim)}
        self._index_lock = threading.Lock()
        self._ratings: dict[str, dict[tuple[str, str], int]] = {}

    # ------------------------------------------------------------------ plans
    def find_plan(
        self, agent: str, activity: str, duration: int, embedding: np.ndarray | None, step: int
    ) -> PlanHit | None:
        """A stored decomposition for ``activity``, rescaled to ``duration`` minutes, or None.

        Args:
            agent: the resident asking.
            activity: the activity text (the key).
            duration: minutes the decomposition must fill (>= 1).
            embedding: the key embedding of ``activity`` under ``embed_model``; None looks up
                exact texts only.
            step: the current step (entries this simulation made at this step or later are unseen).

        Returns:
            The hit (minutes summing exactly to ``duration``, 5-minute blocks when the total
            allows), or None. A hit counts one reuse in the store.

        Raises:
            ValueError: ``duration`` < 1, or the embedding does not fit the stored vectors.
        """
        if duration < 1:
            raise ValueError(
                f"find_plan: duration must be at least 1 minute, got {duration} for {activity!r}"
            )
        found = self._lookup(PLAN, agent, activity, embedding, step)
        if found is None:
            self.counts["plan_miss"] += 1
            return None
        row, similarity, exact = found
        assert row.subtasks is not None and row.duration is not None  # plan rows always have them
        self.counts["plan_exact" if exact else "plan_similar"] += 1
        return PlanHit(
            key=row.text,
            exact=exact,
            similarity=similarity,
            subtasks=tuple(rescale_subtasks(row.subtasks, duration)),
            stored_duration=row.duration,
            source_sim=row.sim,
            source_agent=row.agent,
        )

    def add_plan(
        self,
        agent: str,
        activity: str,
        duration: int,
        subtasks: Sequence[tuple[str, int]],
        embedding: np.ndarray | None,
        step: int,
    ) -> bool:
        """Register the decomposition of ``activity`` (committed at once).

        Subtask names are stored bare (without the activity text); minutes are weights. Blank
        names are dropped and minutes below 1 count as 1.

        Returns:
            True if stored; False when nothing usable was given or this resident already has a
            plan for this text (the first registration wins).
        """
        cleaned = [(" ".join(str(name).split()), max(1, int(minutes))) for name, minutes in subtasks]
        cleaned = [(name, minutes) for name, minutes in cleaned if name]
        norm = normalise(activity)
        if not norm or not cleaned or duration < 1:
            return False
        vector = None if embedding is None else _unit(embedding)
        added = self.store.add_key(
            PLAN,
            agent,
            activity.strip(),
            norm,
            sim=self.sim,
            step=step,
            duration=int(duration),
            subtasks=cleaned,
            model=self.embed_model,
            vector=vector,
        )
        self.counts["plan_added"] += int(added)
        return added

    # ------------------------------------------------------------------ short activities
    def canonical(self, agent: str, activity: str, embedding: np.ndarray | None, step: int) -> str | None:
        """A stored activity text equivalent to ``activity`` (exact or similar), or None.

        Use the returned text as the action text so that the grounding store hits on it. A hit
        counts one reuse in the store.
        """
        found = self._lookup(ACTIVITY, agent, activity, embedding, step)
        if found is None:
            self.counts["canonical_miss"] += 1
            return None
        self.counts["canonical_exact" if found[2] else "canonical_similar"] += 1
        return found[0].text

    def register_activity(self, agent: str, activity: str, embedding: np.ndarray | None, step: int) -> bool:
        """Register ``activity`` as a canonical text for later runs (committed at once).

        Returns:
            True if stored, False if blank or already registered for this resident.
        """
        norm = normalise(activity)
        if not norm:
            return False
        vector = None if embedding is None else _unit(embedding)
        added = self.store.add_key(
            ACTIVITY,
            agent,
            activity.strip(),
            norm,
            sim=self.sim,
            step=step,
            model=self.embed_model,
            vector=vector,
        )
        self.counts["activity_added"] += int(added)
        return added

    # ------------------------------------------------------------------ groundings
    def find_grounding(
        self, agent: str, action_text: str, step: int, *, accept: Callable[[Grounding], bool]
    ) -> Grounding | None:
        """A stored grounding of ``action_text`` that ``accept`` approves, or None.

        Candidates are the resident's own first, then (when shared) other residents', oldest
        first; one made for another resident comes with the event subject swapped to ``agent``.
        ``accept`` should check that the place exists in the town and is known to the resident.
        A returned grounding counts one reuse in the store.
        """
        norm = normalise(action_text)
        if not norm:
            return None
        rows = self.store.groundings(norm, self._agents(agent), sim=self.sim, step=step)
        rows.sort(key=lambda r: (r[1] != agent, r[0]))
        rejected = False
        for gid, owner, data in rows:
            try:
                grounding = Grounding.from_state(data).for_agent(owner, agent)
            except ValueError:
                continue  # an unreadable row is skipped, never fatal
            if accept(grounding):
                self.store.hit_grounding(gid)
                self.counts["grounding_hit"] += 1
                return grounding
            rejected = True
        self.counts["grounding_rejected" if rejected else "grounding_miss"] += 1
        return None

    def add_grounding(self, agent: str, action_text: str, grounding: Grounding, step: int) -> bool:
        """Register how ``action_text`` was grounded for ``agent`` (committed at once).

        Returns:
            True if stored; False if blank or this resident already has it at this place.
        """
        norm = normalise(action_text)
        if not norm:
            return False
        added = self.store.add_grounding(
            agent,
            action_text.strip(),
            norm,
            (grounding.sector, grounding.arena, grounding.object),
            grounding.to_state(),
            sim=self.sim,
            step=step,
        )
        self.counts["grounding_added"] += int(added)
        return added

    # ------------------------------------------------------------------ ratings
    def find_rating(self, agent: str, kind: str, text: str) -> int | None:
        """The importance of ``text`` (an "event" or "thought") that an earlier simulation stored
        for ``agent``, or None. A resident's own ratings only (importance is personal), loaded
        once per resident: what this simulation rates is in its residents' memories."""
        known = self._ratings.get(agent)
        if known is None:
            known = self._ratings[agent] = self.store.ratings_of(agent, other_than=self.sim)
        rating = known.get((kind, text.strip()))
        if rating is not None:
            self.counts["rating_hit"] += 1
        return rating

    def add_ratings(self, agent: str, kind: str, ratings: Mapping[str, int], step: int) -> int:
        """Store the model's ratings of texts for ``agent`` (committed at once); how many were new."""
        added = self.store.add_ratings(
            agent, kind, {t.strip(): int(v) for t, v in ratings.items()}, sim=self.sim, step=step
        )
        self.counts["rating_added"] += added
        return added

    # ------------------------------------------------------------------ matching
    def _agents(self, agent: str) -> list[str] | None:
        return None if self.share_across_agents else [agent]

    def _lookup(
        self, kind: str, agent: str, text: str, embedding: np.ndarray | None, step: int
    ) -> tuple[KeyRow, float, bool] | None:
        """(row, similarity, exact) of the best visible key for ``text``; counts the hit."""
        norm = normalise(text)
        if not norm:
            return None
        rows = self.store.exact_keys(kind, norm, self._agents(agent), sim=self.sim, step=step)
        if rows:
            row = min(rows, key=lambda r: (r.agent != agent, r.id))
            self.store.hit_key(row.id)
            if (
                embedding is not None
                and row.text == text.strip()
                and not self.store.has_vector(row.id, self.embed_model)
            ):
                self.store.add_vector(row.id, self.embed_model, _unit(embedding))  # the same text: its vector
            return row, 1.0, True
        if embedding is None:
            return None
        with self._index_lock:
            best = self._most_similar(kind, agent, _unit(embedding), step)
        if best is None:
            return None
        key_id, similarity = best
        self.store.hit_key(key_id)
        return self.store.key(key_id), similarity, False

    def _most_similar(self, kind: str, agent: str, query: np.ndarray, step: int) -> tuple[int, float] | None:
        index = self._indexes[kind]
        index.refresh(self.store, kind, self.embed_model)
        if index.matrix is None or not np.any(query):
            return None
        if index.matrix.shape[1] != query.shape[0]:
            raise ValueError(
                f"embedding of length {query.shape[0]} does not fit the stored '{self.embed_model}' "
                f"vectors of length {index.matrix.shape[1]}"
            )
        visible = ~(index.own_sim & (index.steps >= step))
        code = index.codes.get(agent, -1)
        if not self.share_across_agents:
            visible &= index.agent_codes == code
        # einsum, not BLAS: a matrix-vector product this small pays more for waking BLAS threads on a
        # busy machine (measured 4-6 ms against 0.25 ms for 2,000 x 256) than it gains
        scores = np.where(visible, np.einsum("ij,j->i", index.matrix, query), -np.inf)
        best = float(scores.max())
        if best < self.threshold - 1e-6:
            return None
        # the best score; ties (equal to 1e-6): the asking resident's own entry, then the oldest
        tied = np.flatnonzero(scores >= best - 1e-6)
        i = min(tied.tolist(), key=lambda j: (index.agent_codes[j] != code, int(index.key_ids[j])))
        return int(index.key_ids[i]), min(1.0, float(scores[i]))


class NullPolicy:
    """The policy switched off: never hits, never writes (for symmetry with ``--disable_policy``)."""

    enabled = False

    def find_plan(
        self, agent: str, activity: str, duration: int, embedding: np.ndarray | None, step: int
    ) -> PlanHit | None:
        """Always None."""
        return None

    def add_plan(
        self,
        agent: str,
        activity: str,
        duration: int,
        subtasks: Sequence[tuple[str, int]],
        embedding: np.ndarray | None,
        step: int,
    ) -> bool:
        """Stores nothing; False."""
        return False

    def canonical(self, agent: str, activity: str, embedding: np.ndarray | None, step: int) -> str | None:
        """Always None."""
        return None

    def register_activity(self, agent: str, activity: str, embedding: np.ndarray | None, step: int) -> bool:
        """Stores nothing; False."""
        return False

    def find_grounding(
        self, agent: str, action_text: str, step: int, *, accept: Callable[[Grounding], bool]
    ) -> Grounding | None:
        """Always None."""
        return None

    def add_grounding(self, agent: str, action_text: str, grounding: Grounding, step: int) -> bool:
        """Stores nothing; False."""
        return False

    def find_rating(self, agent: str, kind: str, text: str) -> int | None:
        """Always None."""
        return None

    def add_ratings(self, agent: str, kind: str, ratings: Mapping[str, int], step: int) -> int:
        """Stores nothing; 0."""
        return 0


def _unit(vector: np.ndarray) -> np.ndarray:
    """``vector`` as a 1-D float32 unit vector (all zeros stays zeros).

    Raises:
        ValueError: not a 1-D finite vector.
    """
    v = np.asarray(vector, dtype=np.float32)
    if v.ndim == 2 and v.shape[0] == 1:
        v = v[0]
    if v.ndim != 1 or v.size == 0 or not np.all(np.isfinite(v)):
        raise ValueError(f"a key embedding must be a non-empty finite 1-D vector, got shape {v.shape}")
    norm = float(np.linalg.norm(v))
    return v / norm if norm > 0 else v


def _unit_rows(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return (matrix / np.where(norms > 0, norms, 1.0)).astype(np.float32)
