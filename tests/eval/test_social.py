"""Who knows whom, network density, unsupported claims."""

from __future__ import annotations

from aga.eval.interviews import grade_diffusion, grade_relationships, relationship_questions
from aga.eval.social import claims_knowledge, density, known_pairs, relationships_report, unsupported_share

from .records_helpers import ISA, KLAUS, MARIA, START, at, mem, records


def _rec(ties=None):
    return records(
        memories={
            MARIA: [
                mem(MARIA, 1, "thought", START, "Maria Lopez has a crush on Klaus Mueller", seed=True),
                mem(MARIA, 2, "event", at("08:00"), "Isabella Rodriguez is opening Hobbs Cafe", subject=ISA),
            ],
            KLAUS: [
                mem(KLAUS, 1, "thought", START, "Klaus Mueller is writing a paper", seed=True),
                mem(
                    KLAUS,
                    2,
                    "chat",
                    at("10:00"),
                    "a chat about the weather",
                    subject=KLAUS,
                    obj=MARIA,
                    lines=[(KLAUS, "Nice day"), (MARIA, "It is")],
                ),
            ],
            ISA: [mem(ISA, 1, "thought", START, "Isabella Rodriguez owns Hobbs Cafe", seed=True)],
        },
        ties=ties or {},
    )


def test_known_pairs_start_and_end() -> None:
    rec = _rec()
    assert known_pairs(rec, start=True) == {(MARIA, KLAUS)}
    assert known_pairs(rec) == {(MARIA, KLAUS), (MARIA, ISA), (KLAUS, MARIA)}


def test_ties_count_as_knowing() -> None:
    rec = _rec(ties={ISA: {KLAUS: {"relationship": "customer"}}})
    assert (ISA, KLAUS) in known_pairs(rec)
    assert (ISA, KLAUS) not in known_pairs(rec, use_ties=False)


def test_density() -> None:
    rep = relationships_report(_rec())
    assert rep["density_start"] == 1 / 6
    assert rep["density_end"] == 3 / 6
    assert density(set(), ["a"]) is None


def test_claims_knowledge() -> None:
    assert claims_knowledge("Yes, Klaus is my classmate.")
    assert claims_knowledge("Klaus Mueller studies sociology.")
    for no in (
        "No, I don't know them.",
        "I don't know who that is.",
        "I have not heard anything about that.",
        "I'm not sure who that is.",
        "Never heard of them",
        "",
    ):
        assert not claims_knowledge(no), no


def test_unsupported_share() -> None:
    got = unsupported_share(
        [
            {"claims": True, "supported": True},
            {"claims": True, "supported": False},
            {"claims": False, "supported": False},
            {"claims": True, "supported": True},
        ]
    )
    assert got == {"claims": 3, "unsupported": 1, "share": 1 / 3}


def test_grade_relationships_from_answers() -> None:
    rec = _rec()
    answers = [
        {"resident": MARIA, "other": KLAUS, "answer": "Yes, Klaus is my classmate."},
        {"resident": ISA, "other": KLAUS, "answer": "Klaus comes to my cafe every day."},  # no memory of him
        {"resident": KLAUS, "other": ISA, "answer": "No, I don't know her."},
    ]
    got = grade_relationships(rec, answers)
    assert (got["claims"], got["unsupported"], got["asked"]) == (2, 1, 3)
    assert got["unsupported_pairs"] == [[ISA, KLAUS]]


def test_grade_diffusion_hallucinated_knowers() -> None:
    rec = _rec()
    rec.memories[KLAUS].append(
        mem(
            KLAUS,
            3,
            "chat",
            at("11:00"),
            "party talk",
            obj=ISA,
            lines=[(ISA, "Come to my Valentine's party!")],
        )
    )
    answers = [
        {"fact": "party", "resident": KLAUS, "answer": "Yes, Isabella invited me."},
        {"fact": "party", "resident": MARIA, "answer": "Yes, it is at Hobbs Cafe."},  # nothing behind it
        {"fact": "party", "resident": ISA, "answer": "No, I haven't heard of one."},  # her seed lacks it here
    ]
    (g,) = grade_diffusion(rec, answers)
    assert g["claimed"] == [KLAUS, MARIA]
    assert g["supported"] == [KLAUS]
    assert g["hallucinated"] == [MARIA]


def test_relationship_questions_cover_everyone() -> None:
    qs = relationship_questions(_rec(), max_others=1)  # residents in the order Isabella, Maria, Klaus
    assert qs == {
        ISA: [f"Do you know {MARIA}? If you do, what do you know of them?"],
        MARIA: [f"Do you know {KLAUS}? If you do, what do you know of them?"],
        KLAUS: [f"Do you know {ISA}? If you do, what do you know of them?"],
    }
    assert len(relationship_questions(_rec(), max_others=5)[ISA]) == 2
