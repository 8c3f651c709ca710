"""LifestylePolicy: plan reuse, canonical activities, groundings, visibility and sharing."""

from __future__ import annotations

import numpy as np
import pytest

from aga.errors import InputError
from aga.policy import Grounding, LifestylePolicy, NullPolicy, PublicStore, normalise, threshold_for
from aga.testing.hash_embedder import HashEmbedder

from .conftest import MODEL, angled, make_policy, unit

ISA = "Isabella Rodriguez"
KLAUS = "Klaus Mueller"
BREAKFAST = [("make coffee", 10), ("eat toast", 20), ("read emails", 30)]


def cafe(obj: str = "coffee machine", agent: str = ISA) -> Grounding:
    return Grounding(
        "Hobbs Cafe",
        "cafe",
        obj,
        "☕",
        (agent, "is", "brewing coffee"),
        "brewing coffee",
        "☕",
        (f"the Ville:Hobbs Cafe:cafe:{obj}", "is", "brewing coffee"),
    )


# ---------------------------------------------------------------------- plans
def test_exact_hit_returns_stored_subtasks_rescaled_and_counts_the_hit(store: PublicStore) -> None:
    policy = make_policy(store)
    assert policy.add_plan(ISA, "having breakfast and checking her emails", 60, BREAKFAST, unit(0), 5)
    hit = policy.find_plan(ISA, "Having breakfast and checking emails.", 90, unit(3), 6)
    assert hit is not None and hit.exact and hit.similarity == 1.0
    assert hit.key == "having breakfast and checking her emails"
    assert hit.subtasks == (("make coffee", 15), ("eat toast", 30), ("read emails", 45))
    assert hit.stored_duration == 60 and hit.source_sim == "sim-a" and hit.source_agent == ISA
    assert store.exact_keys("plan", normalise(hit.key), None, sim="x", step=0)[0].hits == 1
    policy.find_plan(ISA, "having breakfast and checking her emails", 60, None, 7)
    assert store.exact_keys("plan", normalise(hit.key), None, sim="x", step=0)[0].hits == 2


def test_similar_key_above_threshold_hits_below_does_not(store: PublicStore) -> None:
    policy = make_policy(store, threshold=0.9)
    policy.add_plan(ISA, "opening the cafe", 60, [("unlock", 10), ("prepare", 50)], unit(0), 1)
    near = policy.find_plan(ISA, "opening up the cafe for the day", 30, angled(0.95), 2)
    assert near is not None and not near.exact
    assert near.key == "opening the cafe" and near.similarity == pytest.approx(0.95, abs=1e-5)
    assert near.subtasks == (("unlock", 5), ("prepare", 25))
    assert policy.find_plan(ISA, "closing the cafe", 30, angled(0.85), 2) is None
    assert policy.find_plan(ISA, "something else", 30, unit(4), 2) is None
    assert (
        policy.find_plan(ISA, "opening up the cafe for the day", 30, None, 2) is None
    )  # no vector: exact only
    assert policy.counts["plan_similar"] == 1 and policy.counts["plan_miss"] == 3


def test_the_most_similar_key_wins(store: PublicStore) -> None:
    policy = make_policy(store, threshold=0.9)
    policy.add_plan(ISA, "first", 60, [("a", 60)], angled(0.92, axis=1), 1)
    policy.add_plan(ISA, "second", 60, [("b", 60)], angled(0.97, axis=2), 1)
    policy.add_plan(ISA, "third", 60, [("c", 60)], angled(0.95, axis=3), 1)
    hit = policy.find_plan(ISA, "query", 60, unit(0), 2)
    assert hit is not None and hit.key == "second"


def test_rescaled_minutes_always_sum_to_the_requested_duration(store: PublicStore) -> None:
    policy = make_policy(store)
    policy.add_plan(ISA, "painting", 120, [("sketch", 25), ("paint", 80), ("clean brushes", 15)], unit(0), 1)
    for duration in range(1, 500, 7):
        hit = policy.find_plan(ISA, "painting", duration, unit(0), 2)
        assert hit is not None
        assert sum(m for _, m in hit.subtasks) == duration and all(m >= 1 for _, m in hit.subtasks)


def test_hash_embedder_uses_its_calibrated_threshold(store: PublicStore) -> None:
    embedder = HashEmbedder()
    policy = LifestylePolicy(store, sim="s", embed_model=embedder.model)
    assert policy.threshold == threshold_for(embedder.model)
    stored, same, other = embedder.embed_sync(
        [
            "playing guitar and composing music",
            "playing the guitar and composing music",
            "playing darts at the pub",
        ]
    )
    policy.add_plan(ISA, "playing guitar and composing music", 60, [("tune", 10), ("play", 50)], stored, 1)
    assert float(stored @ same) >= policy.threshold > float(stored @ other)
    hit = policy.find_plan(ISA, "playing the guitar, composing music", 60, same, 2)
    assert hit is not None and hit.key == "playing guitar and composing music"
    assert policy.find_plan(ISA, "playing darts at the pub", 60, other, 2) is None


def test_vectors_of_another_embedding_model_are_not_compared(store: PublicStore) -> None:
    mini = LifestylePolicy(store, sim="s", embed_model="model-one", threshold=0.9)
    other = LifestylePolicy(store, sim="s", embed_model="model-two", threshold=0.9)
    mini.add_plan(ISA, "opening the cafe", 60, [("unlock", 60)], unit(0), 1)
    assert other.find_plan(ISA, "opening up the cafe", 60, unit(0), 2) is None  # same vector, other model
    hit = other.find_plan(ISA, "opening the cafe", 60, unit(1), 2)  # exact text works across models ...
    assert hit is not None and hit.exact
    assert store.stats()["key_vectors"] == 2  # ... and leaves the key's vector for model-two
    assert other.find_plan(ISA, "opening up the cafe", 60, unit(1), 3) is not None


def test_unusable_plans_are_not_stored(store: PublicStore) -> None:
    policy = make_policy(store)
    assert not policy.add_plan(ISA, "  ", 60, BREAKFAST, unit(0), 1)
    assert not policy.add_plan(ISA, "cooking", 60, [(" ", 10), ("", 5)], unit(0), 1)
    assert not policy.add_plan(ISA, "cooking", 0, BREAKFAST, unit(0), 1)
    assert policy.add_plan(ISA, "cooking", 60, [("  chop   onions ", 0), ("", 9), ("fry", 30)], unit(0), 1)
    assert store.exact_keys("plan", "cooking", None, sim="x", step=0)[0].subtasks == (
        ("chop onions", 1),
        ("fry", 30),
    )
    hit = policy.find_plan(ISA, "cooking", 31, None, 2)
    assert hit is not None and hit.subtasks == (
        ("chop onions", 5),
        ("fry", 26),
    )  # one 5-minute block at least
    assert store.stats()["plans"] == 1
    with pytest.raises(ValueError, match="duration"):
        policy.find_plan(ISA, "cooking", 0, None, 2)


# ---------------------------------------------------------------------- visibility
def test_own_entries_become_visible_from_the_next_step(store: PublicStore) -> None:
    policy = make_policy(store, sim="run")
    policy.add_plan(ISA, "baking bread", 60, [("knead", 20), ("bake", 40)], unit(0), 10)
    assert policy.find_plan(ISA, "baking bread", 60, unit(0), 10) is None  # same step: unseen
    assert policy.find_plan(ISA, "baking bread", 60, unit(0), 9) is None  # a re-run of an earlier step
    assert policy.find_plan(ISA, "baking bread", 60, unit(0), 11) is not None
    assert policy.find_plan(KLAUS, "baking bread", 60, unit(0), 11) is None  # per agent by default


def test_a_rerun_after_a_crash_sees_what_the_first_run_saw(store: PublicStore) -> None:
    first = make_policy(store, sim="run")
    seen_first = [first.find_plan(ISA, "baking bread", 60, angled(0.95), 20)]
    first.add_plan(ISA, "baking bread", 60, [("knead", 20), ("bake", 40)], unit(0), 20)
    first.register_activity(ISA, "taking a walk", unit(2), 20)
    first.add_grounding(
        ISA, "taking a walk", Grounding("park", "garden", "", "🚶", (ISA, "is", "walking")), 20
    )
    # the process dies before step 20 is committed; the same simulation re-runs step 20
    again = make_policy(store, sim="run")
    assert [again.find_plan(ISA, "baking bread", 60, angled(0.95), 20)] == seen_first == [None]
    assert again.canonical(ISA, "taking a walk", unit(2), 20) is None
    assert again.find_grounding(ISA, "taking a walk", 20, accept=lambda g: True) is None
    assert not again.add_plan(
        ISA, "baking bread", 60, [("knead", 20), ("bake", 40)], unit(0), 20
    )  # no duplicate
    assert again.find_plan(ISA, "baking bread", 60, angled(0.95), 21) is not None


def test_entries_of_other_simulations_are_visible_at_once(store: PublicStore) -> None:
    make_policy(store, sim="earlier").add_plan(ISA, "baking bread", 60, [("bake", 60)], unit(0), 500)
    later = make_policy(store, sim="later")
    hit = later.find_plan(ISA, "making bread", 60, angled(0.95), 0)
    assert hit is not None and hit.source_sim == "earlier"


# ---------------------------------------------------------------------- agents
def test_sharing_across_agents_finds_everyones_entries_own_first(store: PublicStore) -> None:
    alone = make_policy(store)
    alone.add_plan(KLAUS, "writing a paper", 60, [("outline", 20), ("write", 40)], unit(0), 1)
    assert alone.find_plan(ISA, "writing a paper", 60, unit(0), 2) is None
    shared = make_policy(store, share_across_agents=True)
    hit = shared.find_plan(ISA, "writing a paper", 60, unit(0), 2)
    assert hit is not None and hit.source_agent == KLAUS
    shared.add_plan(ISA, "writing a paper", 60, [("draft", 60)], unit(0), 2)
    mine = shared.find_plan(ISA, "writing a paper", 60, unit(0), 3)
    assert mine is not None and mine.source_agent == ISA and mine.subtasks == (("draft", 60),)
    similar = shared.find_plan(ISA, "writing the paper draft", 60, angled(0.95), 3)
    assert similar is not None and similar.source_agent == ISA  # tie on similarity: own entry first


# ---------------------------------------------------------------------- canonical activities
def test_short_activities_map_to_a_stored_equivalent(store: PublicStore) -> None:
    policy = make_policy(store)
    assert policy.canonical(ISA, "getting coffee", unit(0), 1) is None
    assert policy.register_activity(ISA, "getting coffee", unit(0), 1)
    assert not policy.register_activity(ISA, "Getting coffee.", unit(0), 1)
    assert policy.canonical(ISA, "getting coffee", unit(0), 2) == "getting coffee"
    assert policy.canonical(ISA, "grabbing a coffee", angled(0.93), 2) == "getting coffee"
    assert policy.canonical(ISA, "getting tea", angled(0.5), 2) is None
    assert policy.canonical(KLAUS, "grabbing a coffee", angled(0.93), 2) is None
    # plans are a different store: a plan key is not a canonical short activity
    policy.add_plan(ISA, "reading", 60, [("read", 60)], unit(5), 1)
    assert policy.canonical(ISA, "reading", unit(5), 2) is None
    assert policy.counts["canonical_exact"] == 1 and policy.counts["canonical_similar"] == 1


def test_canonical_text_makes_the_grounding_store_hit(store: PublicStore) -> None:
    policy = make_policy(store)
    policy.register_activity(ISA, "getting coffee", unit(0), 1)
    policy.add_grounding(ISA, "getting coffee", cafe(), 1)
    text = policy.canonical(ISA, "grabbing a coffee", angled(0.93), 2) or "grabbing a coffee"
    assert policy.find_grounding(ISA, text, 2, accept=lambda g: True) == cafe()


# ---------------------------------------------------------------------- groundings
def test_grounding_round_trip_and_hit_count(store: PublicStore) -> None:
    policy = make_policy(store)
    assert policy.add_grounding(ISA, "brewing coffee for customers", cafe(), 3)
    assert not policy.add_grounding(ISA, "brewing coffee for customers", cafe(), 4)  # same place again
    got = policy.find_grounding(ISA, "Brewing coffee for customers", 4, accept=lambda g: True)
    assert got == cafe() and got.address("the Ville") == "the Ville:Hobbs Cafe:cafe:coffee machine"
    gid = store.groundings(normalise("brewing coffee for customers"), None, sim="x", step=0)[0][0]
    assert store.grounding_hits(gid) == 1


def test_a_grounding_rejected_by_accept_is_not_returned(store: PublicStore) -> None:
    policy = make_policy(store)
    policy.add_grounding(ISA, "brewing coffee", cafe("old espresso machine"), 3)
    policy.add_grounding(ISA, "brewing coffee", cafe("coffee machine"), 4)
    seen: list[str] = []

    def only_known(g: Grounding) -> bool:
        seen.append(g.object)
        return g.object == "coffee machine"

    assert policy.find_grounding(ISA, "brewing coffee", 5, accept=only_known) == cafe("coffee machine")
    assert seen == ["old espresso machine", "coffee machine"]  # oldest first, the rejected one skipped
    assert policy.find_grounding(ISA, "brewing coffee", 5, accept=lambda g: False) is None
    assert policy.counts["grounding_rejected"] == 1
    gid = store.groundings(normalise("brewing coffee"), None, sim="x", step=0)[0][0]
    assert store.grounding_hits(gid) == 0  # a rejected candidate is not counted as a reuse


def test_shared_groundings_take_the_askers_name_as_subject(store: PublicStore) -> None:
    policy = make_policy(store, share_across_agents=True)
    policy.add_grounding(ISA, "brewing coffee", cafe(agent=ISA), 1)
    got = policy.find_grounding(KLAUS, "brewing coffee", 2, accept=lambda g: True)
    assert got is not None and got.event == (KLAUS, "is", "brewing coffee")
    assert got.object_event == cafe().object_event
    assert make_policy(store).find_grounding(KLAUS, "brewing coffee", 2, accept=lambda g: True) is None


def test_grounding_validation_names_the_problem() -> None:
    with pytest.raises(ValueError, match="sector and an arena"):
        Grounding("", "cafe", "", "☕", (ISA, "is", "x"))
    with pytest.raises(ValueError, match="':'"):
        Grounding("the Ville:Hobbs Cafe", "cafe", "", "☕", (ISA, "is", "x"))
    with pytest.raises(ValueError, match="event"):
        Grounding.from_state({"sector": "s", "arena": "a", "emoji": "x", "event": ["only one"]})
    with pytest.raises(ValueError, match="emoji"):
        Grounding.from_state({"sector": "s", "arena": "a", "event": ["s", "p", "o"]})
    assert Grounding.from_state(cafe().to_state()) == cafe()


# ---------------------------------------------------------------------- switches
def test_null_policy_never_hits_and_never_writes(store: PublicStore) -> None:
    null = NullPolicy()
    assert not null.enabled
    assert not null.add_plan(ISA, "x", 60, BREAKFAST, unit(0), 1)
    assert null.find_plan(ISA, "x", 60, unit(0), 2) is None
    assert not null.register_activity(ISA, "x", unit(0), 1) and null.canonical(ISA, "x", unit(0), 2) is None
    assert not null.add_grounding(ISA, "x", cafe(), 1)
    assert null.find_grounding(ISA, "x", 2, accept=lambda g: True) is None
    assert store.stats()["plans"] == 0


def test_threshold_must_be_a_cosine(store: PublicStore) -> None:
    with pytest.raises(InputError, match=r"threshold.*1\.5"):
        LifestylePolicy(store, sim="s", embed_model=MODEL, threshold=1.5)
    with pytest.raises(InputError, match="threshold"):
        LifestylePolicy(store, sim="s", embed_model=MODEL, threshold=0)


def test_embedding_of_the_wrong_length_is_refused(store: PublicStore) -> None:
    policy = make_policy(store)
    policy.add_plan(ISA, "reading", 60, [("read", 60)], unit(0), 1)
    with pytest.raises(ValueError, match="length 4"):
        policy.find_plan(ISA, "browsing", 60, np.ones(4, dtype=np.float32), 2)
