"""The shared policy database: where it lives, what it refuses, and concurrent writers."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from aga.errors import StoreError
from aga.policy import Grounding, LifestylePolicy, PublicStore

from .conftest import MODEL, make_policy, unit


def test_lives_in_public_folder_in_wal_mode(tmp_path: Path) -> None:
    with PublicStore.in_storage(tmp_path) as store:
        assert store.path == tmp_path / "public" / "policy.db"
        assert store.path.is_file()
    conn = sqlite3.connect(tmp_path / "public" / "policy.db")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_every_registration_is_readable_at_once_by_another_connection(store: PublicStore) -> None:
    policy = make_policy(store)
    policy.add_plan(
        "Isabella Rodriguez", "opening the cafe", 60, [("unlock", 10), ("set up", 50)], unit(0), 3
    )
    policy.add_grounding(
        "Isabella Rodriguez",
        "opening the cafe (unlock)",
        Grounding("Hobbs Cafe", "cafe", "door", "🔑", ("Isabella Rodriguez", "unlocks", "door")),
        3,
    )
    # a second process-like reader, opened while the first store is still open (nothing waits for exit)
    with PublicStore(store.path) as other:
        stats = other.stats()
    assert stats["plans"] == 1 and stats["groundings"] == 1 and stats["key_vectors"] == 1


def test_reopening_keeps_entries_and_provenance(tmp_path: Path) -> None:
    with PublicStore.in_storage(tmp_path) as store:
        make_policy(store, sim="first").add_plan("Klaus Mueller", "reading", 60, [("read", 60)], unit(0), 12)
    with PublicStore.in_storage(tmp_path) as store:
        rows = store.exact_keys("plan", "reading", None, sim="second", step=0)
        assert [(r.agent, r.sim, r.step, r.subtasks) for r in rows] == [
            ("Klaus Mueller", "first", 12, (("read", 60),))
        ]


def test_a_foreign_sqlite_file_is_refused_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "policy.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (x TEXT)")
    conn.execute("INSERT INTO notes VALUES ('keep me')")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    with pytest.raises(StoreError, match="not an aga policy store"):
        PublicStore(path)
    assert path.read_bytes() == before


def test_a_file_that_is_not_sqlite_is_refused_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "public" / "policy.db"
    path.parent.mkdir()
    path.write_text("these are my notes, not a database\n" * 200)
    before = path.read_bytes()
    with pytest.raises(StoreError, match=r"policy\.db"):
        PublicStore(path)
    assert path.read_bytes() == before


def test_a_folder_in_place_of_the_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "public" / "policy.db").mkdir(parents=True)
    with pytest.raises(StoreError, match="is a folder"):
        PublicStore.in_storage(tmp_path)


def test_threads_writing_at_once_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "public" / "policy.db"
    PublicStore(path).close()

    def writer(sim: str) -> None:
        with PublicStore(path) as store:  # its own connection, as a separate run would have
            policy = make_policy(store, sim=sim)
            for i in range(150):
                policy.add_plan(
                    f"agent {i % 3}", f"{sim} task {i}", 60, [("a", 30), ("b", 30)], unit(i % 8), i
                )
                policy.add_grounding(
                    f"agent {i % 3}",
                    f"{sim} action {i}",
                    Grounding("S", "A", "", "🙂", (f"agent {i % 3}", "is", "busy")),
                    i,
                )

    with ThreadPoolExecutor(max_workers=3) as pool:
        for future in [pool.submit(writer, f"sim-{k}") for k in range(3)]:
            future.result()  # re-raises a writer's error here
    with PublicStore(path) as store:
        stats = store.stats()
    assert stats["plans"] == 450 and stats["groundings"] == 450 and stats["key_vectors"] == 450


_WRITER = textwrap.dedent("""
    import sys
    import numpy as np
    from aga.policy import Grounding, LifestylePolicy, PublicStore
    path, sim, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    store = PublicStore(path)
    policy = LifestylePolicy(store, sim=sim, embed_model="test-vectors", threshold=0.9)
    vec = np.eye(8, dtype=np.float32)
    for i in range(n):
        policy.add_plan("Maria Lopez", f"{sim} studying topic {i}", 60, [("read", 40), ("notes", 20)], vec[i % 8], i)
        policy.add_grounding("Maria Lopez", f"{sim} action {i}",
                             Grounding("Oak Hill College", "library", "desk", "📚", ("Maria Lopez", "is", "reading")), i)
        policy.add_plan("Maria Lopez", f"shared task {i % 20}", 30, [("x", 30)], vec[0], i)  # both runs write these
        policy.find_plan("Maria Lopez", "shared task 0", 30, None, 10**9)  # a hit: a counter both runs bump
    store.close()
    print("done", sim)
""")


def test_two_processes_writing_at_once_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "public" / "policy.db"
    n = 150
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(path), f"run-{k}", str(n)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for k in range(2)
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    for p, (out, err) in zip(procs, outputs):
        assert p.returncode == 0, err
        assert out.startswith("done")
    with PublicStore(path) as store:
        stats = store.stats()
        shared = store.exact_keys("plan", "shared task 0", None, sim="reader", step=0)
    assert stats["plans"] == 2 * n + 20  # every run's own plans, and each shared text once
    assert stats["groundings"] == 2 * n
    # the first of the two runs to reach "shared task 0" registered it; every later lookup hit it
    assert len(shared) == 1
    assert shared[0].hits == 2 * n  # no lost update of the counter


def test_policy_store_unaffected_by_a_second_policy_object(store: PublicStore) -> None:
    a = LifestylePolicy(store, sim="a", embed_model=MODEL, threshold=0.9)
    b = LifestylePolicy(store, sim="b", embed_model=MODEL, threshold=0.9)
    assert a.add_plan("Tom Moreno", "fixing the shelf", 60, [("measure", 10), ("screw", 50)], unit(0), 1)
    assert not b.add_plan("Tom Moreno", "fixing the shelf", 30, [("other", 30)], unit(0), 1)  # first wins
    hit = b.find_plan("Tom Moreno", "fixing the shelf", 60, unit(0), 1)
    assert hit is not None and hit.subtasks == (("measure", 10), ("screw", 50)) and hit.source_sim == "a"


def test_ratings_are_personal_first_given_and_seen_only_by_other_simulations(store: PublicStore) -> None:
    earlier = LifestylePolicy(store, sim="day-1", embed_model=MODEL)
    assert earlier.add_ratings("Klaus Mueller", "event", {"Klaus Mueller is reading": 3, "": 5}, 10) == 1
    # the first rating stays
    assert earlier.add_ratings("Klaus Mueller", "event", {"Klaus Mueller is reading": 9}, 20) == 0
    earlier.add_ratings("Klaus Mueller", "thought", {"Klaus Mueller has a crush on Maria Lopez.": 8}, 1)
    assert earlier.find_rating("Klaus Mueller", "event", "Klaus Mueller is reading") is None  # its own run
    later = LifestylePolicy(store, sim="day-2", embed_model=MODEL)
    assert later.find_rating("Klaus Mueller", "event", "Klaus Mueller is reading") == 3
    assert later.find_rating("Klaus Mueller", "thought", "Klaus Mueller has a crush on Maria Lopez.") == 8
    assert later.find_rating("Klaus Mueller", "thought", "Klaus Mueller is reading") is None  # kinds apart
    assert later.find_rating("Maria Lopez", "event", "Klaus Mueller is reading") is None  # another resident
    assert later.counts["rating_hit"] == 2 and earlier.counts["rating_added"] == 2
    assert store.stats()["ratings"] == 2


def test_a_store_made_before_ratings_gains_the_table_when_opened(tmp_path: Path) -> None:
    path = tmp_path / "policy.db"
    PublicStore(path).close()
    conn = sqlite3.connect(path)
    conn.execute("DROP TABLE ratings")  # as a store written before the table existed
    conn.commit()
    conn.close()
    with PublicStore(path) as store:
        policy = LifestylePolicy(store, sim="s", embed_model=MODEL)
        assert policy.add_ratings("Isabella Rodriguez", "event", {"Isabella Rodriguez is baking": 4}, 0) == 1


def test_opening_waits_out_another_process_opening_the_same_store(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # two runs started together on a new store on a busy machine: SQLite refused the switch to
    # WAL with "database is locked" at once, and the second run stopped
    real = PublicStore._open
    tries: list[int] = []

    def locked_twice(path):  # type: ignore[no-untyped-def]
        tries.append(1)
        if len(tries) <= 2:
            try:
                raise sqlite3.OperationalError("database is locked")
            except sqlite3.OperationalError as err:
                raise StoreError(f"{path}: cannot open the policy store: {err}") from err
        return real(path)

    monkeypatch.setattr(PublicStore, "_open", staticmethod(locked_twice))
    store = PublicStore(tmp_path / "policy.db")
    store.close()
    assert len(tries) == 3

    def broken(path):  # type: ignore[no-untyped-def]
        tries.append(1)
        raise StoreError(f"{path}: this SQLite file is not an aga policy store (no meta table)")

    monkeypatch.setattr(PublicStore, "_open", staticmethod(broken))
    tries.clear()
    with pytest.raises(StoreError, match="not an aga policy store"):
        PublicStore(tmp_path / "other.db")
    assert len(tries) == 1  # a real problem is not tried again
