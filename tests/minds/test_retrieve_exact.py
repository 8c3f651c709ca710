"""Retrieval over the stream's compact arrays gives exactly what the straightforward way gives.

The reference below gathers the retrievable nodes from the whole stream at every query (rows in
order, vectors as the test gave them, importance and last access from the nodes themselves),
scores them with the same formula and sorts *all* the scores with a stable sort, as retrieval did
before it kept compact arrays and sorted only the best few. Random streams mix repeated texts,
chats and idle events (never retrieved), nodes embedded late, ratings given later, restamps and
touches; both sides must pick the same memories in the same order, query after query.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import numpy as np
import pytest

from aga.minds.memory import MemoryNode, MemoryStream, game_seconds
from aga.minds.retrieve import RetrievalWeights, best_first, normalise, retrieve

START = datetime(2023, 2, 13, 7, 0, 0)


def _unit32(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float32).reshape(-1)
    n = float(np.linalg.norm(v))
    return v / n if n > 0 else v


class Reference:
    """The straightforward retriever: gather everything per query, sort every score."""

    def __init__(self, stream: MemoryStream, dim: int) -> None:
        self.stream = stream
        self.dim = dim
        self.vectors: dict[int, np.ndarray] = {}  # node id -> unit vector, as given

    def gathered(self) -> tuple[list[MemoryNode], np.ndarray, np.ndarray, np.ndarray]:
        nodes = [
            n
            for n in self.stream
            if n.kind != "chat" and "idle" not in n.embedding_key and n.id in self.vectors
        ]
        vecs = np.array([self.vectors[n.id] for n in nodes], dtype=np.float32).reshape(len(nodes), self.dim)
        imp = np.array([float(n.importance or 0) for n in nodes])
        acc = np.array([game_seconds(n.last_accessed) for n in nodes])
        return nodes, vecs, imp, acc

    def retrieve(
        self, queries: np.ndarray, now: datetime, count: int, w: RetrievalWeights, unique: bool
    ) -> list[list[int]]:
        out: list[list[int]] = []
        for q in np.atleast_2d(queries):
            nodes, vecs, imp, acc = self.gathered()
            if not nodes or count <= 0:
                out.append([])
                continue
            hours = np.maximum(game_seconds(now) - acc, 0.0) / 3600.0
            relevance = vecs @ _unit32(q)
            scores = (
                0.5 * w.recency * normalise(np.power(w.decay, hours))
                + 3.0 * w.relevance * normalise(relevance.astype(np.float64))
                + 2.0 * w.importance * normalise(imp)
            )
            picked: list[MemoryNode] = []
            seen: set[str] = set()
            for i in np.argsort(-scores, kind="stable"):
                node = nodes[int(i)]
                if unique and node.description in seen:
                    continue
                seen.add(node.description)
                picked.append(node)
                if len(picked) >= count:
                    break
            self.stream.touch([n.id for n in picked], now)
            out.append([n.id for n in picked])
        return out


def _random_stream(rng: random.Random, size: int, dim: int) -> tuple[MemoryStream, Reference, list[int]]:
    """A stream of ``size`` nodes and its reference; also the ids still waiting for a vector."""
    m = MemoryStream()
    ref = Reference(m, dim)
    texts = [f"text {k}" for k in range(max(3, size // 4))]  # about four nodes per text
    text_vec = {t: np.array([rng.gauss(0, 1) for _ in range(dim)], dtype=np.float32) for t in texts}
    waiting: list[int] = []
    when = START
    for _ in range(size):
        when += timedelta(seconds=rng.choice([0, 10, 10, 60, 600]))
        roll = rng.random()
        kind = "chat" if roll < 0.1 else "thought" if roll < 0.3 else "event"
        text = rng.choice(texts)
        key = f"{text} idle" if kind == "event" and rng.random() < 0.15 else text
        late = rng.random() < 0.1
        node = m.add(
            kind,
            created=when,
            subject="A",
            predicate="is",
            obj=text,
            description=text if rng.random() < 0.9 else f"{text} again",
            embedding_key=key,
            importance=None if rng.random() < 0.05 else rng.choice([1, 1, 2, 3, 5, 8, 10]),
            vector=None if late else text_vec[text],
        )
        if late:
            waiting.append(node.id)
        else:
            ref.vectors[node.id] = _unit32(text_vec[text])
        if waiting and rng.random() < 0.05:  # a node embedded after others were added
            nid = waiting.pop(rng.randrange(len(waiting)))
            vec = text_vec[m.node(nid).object] * 2.0
            m.set_vector(nid, vec)
            ref.vectors[nid] = _unit32(vec)
        if rng.random() < 0.03:
            nid = rng.randrange(1, m.next_id)
            m.set_importance(nid, rng.randint(1, 10))
        if rng.random() < 0.02:
            m.touch([rng.randrange(1, m.next_id)], when)
        if rng.random() < 0.005:
            m.restamp(rng.randrange(1, m.next_id), when)
    return m, ref, waiting


@pytest.mark.parametrize("seed", range(12))
def test_retrieval_picks_what_a_full_stable_sort_picks(seed: int) -> None:
    rng = random.Random(seed)
    dim = rng.choice([4, 16, 64])
    size = rng.choice([5, 40, 300, 1500])
    m, ref, _waiting = _random_stream(rng, size, dim)
    w = RetrievalWeights(
        recency=rng.choice([0.0, 1.0, 1.5]),
        relevance=rng.choice([0.0, 1.0]),
        importance=rng.choice([0.0, 1.0, 0.7]),
        decay=rng.choice([0.99, 0.995]),
    )
    now = START + timedelta(hours=rng.choice([1, 6, 30]))
    for round_ in range(8):
        count = rng.choice([1, 3, 10, 30, 45, 5000])
        unique = rng.random() < 0.8
        queries = np.array([[rng.gauss(0, 1) for _ in range(dim)] for _ in range(rng.randint(1, 3))])
        if round_ % 3 == 0:  # a query equal to a stored text: exact ties in relevance
            queries[0] = ref.vectors[rng.choice(list(ref.vectors))] if ref.vectors else queries[0]
        # a copy of the stream as it is, for the reference to touch
        expected_stream = MemoryStream.from_records([n.to_record() for n in m], {})
        twin = Reference(expected_stream, dim)
        twin.vectors = dict(ref.vectors)
        expected = twin.retrieve(queries, now, count, w, unique)
        got = [[n.id for n in group] for group in retrieve(m, queries, now, count, w, unique=unique)]
        assert got == expected, f"seed {seed}, round {round_}, count {count}, unique {unique}"
        assert [n.to_record() for n in m] == [n.to_record() for n in expected_stream]
        now += timedelta(minutes=rng.choice([0, 1, 30]))


def test_the_compact_arrays_match_the_stream_after_every_kind_of_change() -> None:
    rng = random.Random(7)
    m, ref, waiting = _random_stream(rng, 600, 8)
    for nid in waiting[:5]:  # late vectors, in no particular order
        vec = np.arange(8, dtype=np.float32) + nid
        m.set_vector(nid, vec)
        ref.vectors[nid] = _unit32(vec)
    nodes, vecs, imp, acc = ref.gathered()
    rows, cvecs, cimp, cacc = m.arrays()
    assert [m.node_at_row(int(r)).id for r in rows] == [n.id for n in nodes]
    assert np.array_equal(cvecs, vecs) and np.array_equal(cimp, imp) and np.array_equal(cacc, acc)
    assert not cvecs.flags.writeable  # views of the stream's own arrays, not to be written
    # a stream rebuilt from records and vectors by text has the arrays gathered the long way
    keyed = {m.node(i).embedding_key: v for i, v in ref.vectors.items()}
    back = MemoryStream.from_records([n.to_record() for n in m], keyed)
    back_ref = Reference(back, 8)
    back_ref.vectors = {n.id: _unit32(keyed[n.embedding_key]) for n in back if n.embedding_key in keyed}
    nodes, vecs, imp, acc = back_ref.gathered()
    brows, bvecs, bimp, bacc = back.arrays()
    assert [back.node_at_row(int(r)).id for r in brows] == [n.id for n in nodes]
    assert np.array_equal(bvecs, vecs) and np.array_equal(bimp, imp) and np.array_equal(bacc, acc)


@pytest.mark.parametrize("seed", range(6))
def test_best_first_is_a_stable_full_sort_cut_short(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for _ in range(50):
        n = int(rng.integers(1, 400))
        scores = rng.choice(rng.normal(size=int(rng.integers(1, 30))), size=n)  # many exact ties
        count = int(rng.integers(0, n + 3))
        assert best_first(scores, count).tolist() == np.argsort(-scores, kind="stable")[:count].tolist()
    with_nan = np.array([0.3, np.nan, 0.3, 0.9, 0.1])
    assert best_first(with_nan, 2).tolist() == [3, 0]


def test_one_blas_thread_sets_the_loaded_openblas_to_one_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    import ctypes
    from pathlib import Path

    from aga.minds.retrieve import one_blas_thread

    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "2")
    assert one_blas_thread() == 0  # the user's choice stands
    monkeypatch.delenv("OPENBLAS_NUM_THREADS")
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    libs = sorted(Path(np.__file__).parent.parent.glob("numpy.libs/libscipy_openblas*.so"))
    if not libs:
        pytest.skip("this numpy does not bundle scipy-openblas")  # another BLAS: nothing to set
    assert one_blas_thread() >= 1
    getter = ctypes.CDLL(str(libs[0])).scipy_openblas_get_num_threads64_
    assert getter() == 1
