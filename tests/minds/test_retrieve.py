"""Retrieval: recency by game time since last access, min-max normalisation, weights 0.5/3/2."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np

from aga.minds.memory import MemoryStream
from aga.minds.retrieve import RetrievalWeights, normalise, retrieve, score_nodes

NOW = datetime(2023, 2, 14, 12, 0, 0)


def _stream(specs: list[tuple[str, int, np.ndarray, datetime]]) -> MemoryStream:
    m = MemoryStream()
    for text, importance, vec, created in specs:
        m.add(
            "event",
            created=created,
            subject="A",
            predicate="is",
            obj=text,
            description=text,
            embedding_key=text,
            importance=importance,
            vector=vec,
        )
    return m


def test_recency_decays_with_game_hours_since_last_access_not_with_rank() -> None:
    same = np.array([1.0, 0.0], dtype=np.float32)
    m = _stream(
        [
            ("old but just looked at", 5, same, NOW - timedelta(days=3)),
            ("made an hour ago", 5, same, NOW - timedelta(hours=1)),
            ("made yesterday", 5, same, NOW - timedelta(hours=24)),
        ]
    )
    m.touch([1], NOW - timedelta(minutes=1))
    # the component is decay ** hours since the last access, whatever the order of access
    _rows, vecs, imp, acc = m.arrays()
    rec = 0.995 ** np.array([1 / 60, 1.0, 24.0])
    w = RetrievalWeights(recency=1.0, relevance=0.0, importance=0.0)
    assert np.allclose(score_nodes(vecs, imp, acc, same, NOW, w), 0.5 * normalise(rec))
    best = retrieve(m, same[None, :], NOW, 3, RetrievalWeights())[0]
    assert [n.id for n in best] == [1, 2, 3]


def test_components_are_min_max_normalised_and_weighted_half_three_two() -> None:
    vecs = np.array([[1, 0], [0.6, 0.8], [0, 1]], dtype=np.float32)
    importance = np.array([2.0, 8.0, 5.0])
    hours = np.array([0.0, 10.0, 30.0])
    accessed = np.array([(NOW - datetime(2000, 1, 1)).total_seconds() - h * 3600 for h in hours])
    query = np.array([1, 0], dtype=np.float32)
    got = score_nodes(vecs, importance, accessed, query, NOW, RetrievalWeights(decay=0.99))
    rec = 0.99**hours
    rec_n = (rec - rec.min()) / (rec.max() - rec.min())
    rel_n = np.array([1.0, 0.6, 0.0])
    imp_n = np.array([0.0, 1.0, 0.5])
    assert np.allclose(got, 0.5 * rec_n + 3 * rel_n + 2 * imp_n)
    # a resident's own weights multiply the global ones
    doubled = score_nodes(vecs, importance, accessed, query, NOW, RetrievalWeights(2.0, 1.0, 0.0, 0.99))
    assert np.allclose(doubled, 1.0 * rec_n + 3 * rel_n)


def test_a_constant_component_counts_as_half() -> None:
    assert np.allclose(normalise(np.array([3.0, 3.0, 3.0])), [0.5, 0.5, 0.5])


def test_retrieval_marks_nodes_accessed_and_reports_the_change() -> None:
    m = _stream(
        [(f"n{i}", i + 1, np.array([1.0, i], dtype=np.float32), NOW - timedelta(hours=5)) for i in range(5)]
    )
    m.drain_changes()
    got = retrieve(m, np.array([[0.0, 1.0]]), NOW, 2, RetrievalWeights())[0]
    assert len(got) == 2
    changed = m.drain_changes()
    assert sorted(r["id"] for r in changed) == sorted(n.id for n in got)
    assert all(r["last_accessed"] == "2023-02-14 12:00:00" for r in changed)
    back = MemoryStream.from_records(
        [n.to_record() for n in m], {n.embedding_key: np.array([1.0, float(i)]) for i, n in enumerate(m)}
    )
    assert {n.id for n in back if n.last_accessed == NOW} == {n.id for n in got}


def test_idle_events_and_chats_are_not_retrieved() -> None:
    m = MemoryStream()
    v = np.array([1.0, 0.0], dtype=np.float32)
    m.add(
        "event",
        created=NOW,
        subject="bed",
        predicate="is",
        obj="idle",
        description="bed is idle",
        embedding_key="bed is idle",
        importance=1,
        vector=v,
    )
    m.add(
        "chat",
        created=NOW,
        subject="A",
        predicate="chat with",
        obj="B",
        description="A is conversing",
        embedding_key="A is conversing",
        importance=5,
        vector=v,
    )
    m.add(
        "thought",
        created=NOW,
        subject="A",
        predicate="likes",
        obj="B",
        description="A likes B",
        embedding_key="A likes B",
        importance=5,
        vector=v,
    )
    assert [n.id for n in retrieve(m, v[None, :], NOW, 10, RetrievalWeights())[0]] == [3]
