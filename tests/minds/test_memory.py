"""The memory stream: ids, change records, persistence round trip, keyword index."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import numpy as np
import pytest

from aga.minds.memory import MemoryStream

T0 = datetime(2023, 2, 13, 8, 0, 0)


def _vec(*xs: float) -> np.ndarray:
    return np.array(xs, dtype=np.float32)


def _fill(m: MemoryStream) -> None:
    m.add(
        "event",
        created=T0,
        subject="Isabella Rodriguez",
        predicate="is",
        obj="coffee",
        description="Isabella Rodriguez is brewing coffee",
        embedding_key="Isabella Rodriguez is brewing coffee",
        importance=3,
        keywords=["Isabella Rodriguez", "coffee"],
        vector=_vec(1, 0, 0),
    )
    m.add(
        "chat",
        created=T0 + timedelta(minutes=5),
        subject="Klaus Mueller",
        predicate="chat with",
        obj="Maria Lopez",
        description="Klaus Mueller is conversing about the paper",
        embedding_key="Klaus Mueller is conversing about the paper",
        importance=6,
        keywords=["Klaus Mueller", "Maria Lopez"],
        filling=[["Klaus Mueller", "Hi"], ["Maria Lopez", "Hey"]],
        vector=_vec(0, 1, 0),
    )
    m.add(
        "thought",
        created=T0 + timedelta(minutes=9),
        subject="Klaus Mueller",
        predicate="likes",
        obj="Maria",
        description="Klaus likes talking to Maria",
        embedding_key="Klaus likes talking to Maria",
        importance=7,
        keywords=["Maria Lopez"],
        filling=[2],
        depth=1,
        expiration=T0 + timedelta(days=30),
        vector=_vec(0, 0, 2),
    )


def test_ids_count_up_and_changes_are_drained_once() -> None:
    m = MemoryStream()
    _fill(m)
    records = m.drain_changes()
    assert [r["id"] for r in records] == [1, 2, 3]
    assert [r["type"] for r in records] == ["event", "chat", "thought"]
    assert m.drain_changes() == []
    m.touch([2], T0 + timedelta(hours=1))
    again = m.drain_changes()
    assert [r["id"] for r in again] == [2]
    assert again[0]["last_accessed"] == "2023-02-13 09:00:00"


def test_records_and_vectors_round_trip_through_json() -> None:
    m = MemoryStream()
    _fill(m)
    m.touch([1], T0 + timedelta(hours=2))
    records = json.loads(json.dumps(m.drain_changes()))
    vectors = {n.embedding_key: np.array([1, 0, 0]) * (i + 1) for i, n in enumerate(m)}
    back = MemoryStream.from_records(records, vectors)
    assert [n.to_record() for n in back] == [n.to_record() for n in m]
    assert back.node(1).last_accessed == T0 + timedelta(hours=2)
    assert back.next_id == 4
    assert back.pending() == []
    assert back.last_chat_with("Maria Lopez").id == 2  # type: ignore[union-attr]
    added = back.add(
        "event",
        created=T0,
        subject="x",
        predicate="is",
        obj="idle",
        description="x is idle",
        embedding_key="x is idle",
        importance=1,
    )
    assert added.id == 4


def test_a_node_without_a_stored_vector_comes_back_pending() -> None:
    m = MemoryStream()
    _fill(m)
    records = m.drain_changes()
    back = MemoryStream.from_records(records, {"Klaus likes talking to Maria": np.ones(3)})
    assert [n.id for n in back.pending()] == [1, 2]
    back.set_vector(1, np.ones(3))
    assert [n.id for n in back.pending()] == [2]


def test_keywords_match_whatever_the_case() -> None:
    m = MemoryStream()
    _fill(m)
    assert [n.id for n in m.by_keyword("maria lopez")] == [3]  # chats are not events or thoughts
    assert [n.id for n in m.by_keyword("Maria Lopez", ("chat", "thought"))] == [3, 2]
    assert m.by_keyword("nobody") == []


def test_retention_window_and_known_ratings() -> None:
    m = MemoryStream()
    _fill(m)
    assert m.recent_event_triples(8) == {("Isabella Rodriguez", "is", "coffee")}
    assert m.known_rating("event", "Isabella Rodriguez is brewing coffee") == 3
    assert m.known_rating("thought", "Isabella Rodriguez is brewing coffee") is None


def test_vectors_of_another_size_are_refused() -> None:
    m = MemoryStream()
    _fill(m)
    with pytest.raises(ValueError, match="dimensions"):
        m.set_vector(1, np.ones(5))


def test_unreadable_records_name_the_record() -> None:
    from aga.errors import StoreError

    m = MemoryStream()
    _fill(m)
    records = m.drain_changes()
    broken = [dict(r) for r in records]
    broken[1]["created"] = "yesterday"
    with pytest.raises(StoreError, match="memory record 2 is unreadable"):
        MemoryStream.from_records(broken, {})
    with pytest.raises(StoreError, match="appears twice"):
        MemoryStream.from_records(records + records[:1], {})
    with pytest.raises(StoreError, match="no integer 'id'"):
        MemoryStream.from_records([{"type": "event"}], {})


def test_newest_accessed_is_by_last_access_then_id_without_chats_or_idleness() -> None:
    rng = np.random.default_rng(3)
    m = MemoryStream()
    for k in range(60):
        kind = ["event", "thought", "chat"][k % 3]
        text = f"Klaus Mueller is idle {k}" if k % 7 == 0 else f"Klaus Mueller did thing {k}"
        m.add(
            kind,
            created=T0,
            subject="Klaus Mueller",
            predicate="is",
            obj="x",
            description=text,
            embedding_key=text,
            importance=3,
            keywords=[],
        )
    for nid in rng.integers(1, 61, size=40):  # accessed at a few distinct times: many ties
        m.touch([int(nid)], T0 + timedelta(minutes=int(rng.integers(0, 4))))
    want = sorted(
        (n for n in m if n.kind != "chat" and "idle" not in n.embedding_key),
        key=lambda n: (n.last_accessed, n.id),
    )
    for count in (1, 5, 30, 100):
        assert [n.id for n in m.newest_accessed(count)] == [n.id for n in want[-count:]]
    assert m.newest_accessed(0) == [] and MemoryStream().newest_accessed(5) == []
