"""The two bundled bases: complete residents, the original's parameters, the story's facts."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from bases_helpers import MATRIX
from reference_data import require

from aga.bases import BaseSim, bundled_bases, load_base, validate_against_town

N3 = "base_the_ville_isabella_maria_klaus"
N25 = "base_the_ville_n25"
WORLD = "the Ville"
_HOUR = r"(\d{1,2})(?::\d\d)? ?(am|pm)"


def _hour(text: str) -> int:
    number, half = re.fullmatch(_HOUR, text.strip()).groups()
    return int(number) % 12 + (12 if half == "pm" else 0)


def _bed_and_wake(lifestyle: str) -> tuple[int, int]:
    """Read the hours the way a simple rule-based reader (e.g. the scripted test model) would."""
    bed = re.search(r"goes to bed around " + _HOUR, lifestyle)
    wake = re.search(r"wakes up around " + _HOUR, lifestyle)
    assert bed and wake, f"lifestyle does not state bed and wake hours plainly: {lifestyle!r}"
    return _hour(bed.group(0).rsplit("around", 1)[1]), _hour(wake.group(0).rsplit("around", 1)[1])


@pytest.fixture(scope="module")
def n3() -> BaseSim:
    return load_base(N3)


@pytest.fixture(scope="module")
def n25() -> BaseSim:
    return load_base(N25)


def _memories(base: BaseSim, name: str) -> str:
    person = next(p for p in base.residents if p.name == name)
    return "\n".join(person.seed_memories)


def test_bundled_bases_lists_both() -> None:
    assert {N3, N25} <= set(bundled_bases())


@pytest.mark.parametrize(("name", "count"), [(N3, 3), (N25, 25)])
def test_bundled_base_has_complete_residents(name: str, count: int) -> None:
    base = load_base(name)
    assert base.name == name and base.town == "the_ville"
    assert base.start == datetime(2023, 2, 13, 0, 0, 0) and base.sec_per_step == 10
    assert len(base.residents) == count
    assert len({p.name for p in base.residents}) == count
    for p in base.residents:
        assert p.name == f"{p.first_name} {p.last_name}"
        assert 18 <= p.age <= 80
        assert len([t for t in p.innate.split(",") if t.strip()]) == 3, p.innate
        for text in (p.learned, p.currently, p.lifestyle, p.daily_plan_req):
            assert len(text) > 40, (p.name, text)
        assert p.learned.startswith(p.name)
        world, sector, arena = p.living_area.split(":")
        assert world == WORLD
        assert arena in p.known_places[sector], f"{p.name} does not know their own home"
        assert p.start_tile is None
        assert (p.vision_r, p.att_bandwidth, p.retention) == (8, 8, 8)
        assert p.seed_memories, p.name


def test_lifestyles_state_bed_and_wake_hours(n25: BaseSim) -> None:
    hours = {p.name: _bed_and_wake(p.lifestyle) for p in n25.residents}
    # facts from the original profiles: a few spot checks, both ends of the range
    assert hours["Isabella Rodriguez"] == (23, 6)
    assert hours["Hailey Johnson"] == (2, 10)
    assert hours["Adam Smith"] == (20, 4)
    assert hours["Maria Lopez"] == (0, 10)
    assert all(bed != wake for bed, wake in hours.values())


def test_hyper_parameters_follow_the_original_bases(n3: BaseSim, n25: BaseSim) -> None:
    decay3 = {p.name: p.recency_decay for p in n3.residents}
    assert decay3 == {"Isabella Rodriguez": 0.995, "Maria Lopez": 0.99, "Klaus Mueller": 0.99}
    assert {p.importance_trigger_max for p in n3.residents} == {150}
    assert {p.recency_decay for p in n25.residents} == {0.995}
    assert {p.importance_trigger_max for p in n25.residents} == {250}


@pytest.mark.parametrize("name", [N3, N25])
def test_story_seeds(name: str) -> None:
    base = load_base(name)
    party = _memories(base, "Isabella Rodriguez")
    assert all(
        fact in party for fact in ("Valentine's Day party", "Hobbs Cafe", "February 14", "5 pm", "7 pm")
    )
    assert re.search(r"crush on Klaus Mueller", _memories(base, "Maria Lopez"))
    assert "gentrification" in _memories(base, "Klaus Mueller")


def test_story_seeds_of_the_whole_town(n25: BaseSim) -> None:
    assert re.search(r"running for mayor", _memories(n25, "Sam Moore"))
    # only Sam and Isabella know their news at the start, so its spread can be measured
    for p in n25.residents:
        text = "\n".join(p.seed_memories)
        if p.name != "Sam Moore":
            assert "for mayor" not in text, p.name
        if p.name != "Isabella Rodriguez":
            assert "party" not in text.lower(), p.name
    assert "Eddy Lin" in _memories(n25, "Mei Lin") and "Mei Lin" in _memories(n25, "John Lin")
    assert "Jane Moreno" in _memories(n25, "Tom Moreno") and "Tom Moreno" in _memories(n25, "Jane Moreno")
    carmen = _memories(n25, "Carmen Ortiz")
    assert "Harvey Oak Supply Store" in carmen and "The Rose and Crown Pub" in carmen


def test_workplaces_are_known(n25: BaseSim) -> None:
    places = {p.name: p.known_places for p in n25.residents}
    assert "behind the cafe counter" in places["Isabella Rodriguez"]["Hobbs Cafe"]["cafe"]
    assert "behind the bar counter" in places["Arthur Burton"]["The Rose and Crown Pub"]["pub"]
    assert "supply store counter" in places["Carmen Ortiz"]["Harvey Oak Supply Store"]["supply store"]
    for clerk in ("John Lin", "Tom Moreno"):
        assert "store" in places[clerk]["The Willows Market and Pharmacy"]
    for student in ("Klaus Mueller", "Maria Lopez", "Ayesha Khan", "Wolfgang Schulz", "Eddy Lin", "Mei Lin"):
        assert "library" in places[student]["Oak Hill College"], student


@pytest.mark.parametrize("name", [N3, N25])
def test_places_exist_in_the_original_map(name: str, reference_town) -> None:
    assert validate_against_town(load_base(name), reference_town) == []


@pytest.mark.parametrize("name", [N3, N25])
def test_places_exist_in_the_bundled_town(name: str) -> None:
    from aga import world

    assert "the_ville" in world.bundled_towns()
    town = world.load_town("the_ville")
    assert validate_against_town(load_base(name), town) == []


@pytest.mark.parametrize("name", [N3, N25])
def test_places_exist_in_the_original_map_imported_by_the_world_layer(name: str) -> None:
    from aga.world import Town, ga_import

    require(MATRIX, "reference map CSVs")
    town = Town(ga_import.import_ga_matrix(MATRIX))
    assert town.world == WORLD
    assert validate_against_town(load_base(name), town) == []
