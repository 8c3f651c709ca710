"""The store's record texts kept by the stream are the records' own encoding, and keyword walks
stop early with the same answer as the whole walk.

``MemoryStream.drain_change_texts`` keeps the text of a node retrieval touched, cut around its
last access, and joins the new time in on the next touch. Random streams mix touches, ratings,
stand-ins, restamps, chats with lines and texts with quotes, backslashes, control and non-ASCII
characters (and the cut's own mark as a description); every drained text must equal the record
encoded from scratch, and the set of ids drained must be what ``drain_changes`` gives.
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta

from aga.minds.memory import MemoryStream, record_text
from aga.store.sim_store import _dumps as store_dumps

START = datetime(2023, 2, 13, 7, 0, 0)
TEXTS = [
    "Klaus Mueller is reading",
    'Maria said "hi" to Klaus',
    "a back\\slash and a tab\t here",
    "café crème, naïve, 東京",
    "\x00last accessed\x00",
    "line one\nline two",
]


def _add(stream: MemoryStream, rng: random.Random, now: datetime) -> None:
    kind = rng.choice(["event", "thought", "chat"])
    text = rng.choice(TEXTS)
    filling = [["Maria Lopez", rng.choice(TEXTS)]] if kind == "chat" else []
    stream.add(
        kind,
        created=now,
        subject=rng.choice(["Klaus Mueller", "Maria Lopez"]),
        predicate="is",
        obj=rng.choice(["reading", "Maria Lopez", text]),
        description=text,
        embedding_key=text,
        importance=rng.choice([None, 3, 7]),
        keywords=["Klaus", "Maria"],
        filling=filling,
    )


def test_drained_texts_are_the_records_encoded_from_scratch() -> None:
    for seed in range(5):
        rng = random.Random(seed)
        texts, records = MemoryStream(), MemoryStream()
        now = START
        for _step in range(120):
            now += timedelta(seconds=10 * rng.randint(0, 2))
            op = rng.random()
            for stream in (texts, records):
                state = random.Random(f"{seed}-{_step}")  # both streams get the same operations
                if op < 0.3 or len(stream) == 0:
                    _add(stream, state, now)
                elif op < 0.75:
                    ids = state.sample([n.id for n in stream], k=min(len(stream), state.randint(1, 4)))
                    stream.touch(ids, now)
                elif op < 0.9:
                    nid = state.choice([n.id for n in stream])
                    stream.set_importance(nid, state.randint(1, 10), defaulted=state.random() < 0.3)
                else:
                    stream.restamp(state.choice([n.id for n in stream]), now)
            got = texts.drain_change_texts()
            want = records.drain_changes()
            assert [i for i, _t in got] == [int(r["id"]) for r in want]
            for (_i, text), rec in zip(got, want):
                assert text == record_text(rec) == store_dumps(rec)  # the store's own encoding
                assert json.loads(text) == rec


def test_a_touched_node_gets_its_new_access_time_and_nothing_else() -> None:
    stream = MemoryStream()
    _add(stream, random.Random(1), START)
    node = next(iter(stream))
    first = json.loads(stream.drain_change_texts()[0][1])["last_accessed"]
    for minutes in (1, 2, 3):
        when = START + timedelta(minutes=minutes)
        stream.touch([node.id], when)
        ((_i, text),) = stream.drain_change_texts()
        assert json.loads(text) == node.to_record()
        assert json.loads(text)["last_accessed"] == node.to_record()["last_accessed"] != first
    stream.set_importance(node.id, 9)  # a change beyond the time: encoded afresh
    ((_i, text),) = stream.drain_change_texts()
    assert json.loads(text)["poignancy"] == 9
    assert stream.drain_change_texts() == []


def test_keyword_walk_with_a_limit_and_a_time_bound() -> None:
    stream = MemoryStream()
    rng = random.Random(3)
    for k in range(40):
        _add(stream, rng, START + timedelta(minutes=k))
    cut = START + timedelta(minutes=25)
    for kinds in (("event",), ("thought",), ("event", "thought")):
        whole = [n for n in stream.by_keyword("klaus", kinds) if n.created < cut]
        for limit in (0, 1, 3, 10, 100):
            assert stream.by_keyword("Klaus", kinds, before=cut, limit=limit) == whole[:limit]
        assert stream.by_keyword("klaus", kinds, before=cut) == whole
    assert stream.by_keyword("nobody", limit=5) == []
