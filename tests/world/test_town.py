"""The bundled town the_ville: places, homes, spawn points, addresses, loading speed."""

from __future__ import annotations

import pytest

from aga.errors import InputError
from aga.world import load_town
from aga.world.ga_import import import_ga_matrix
from aga.world.town import Town

from .conftest import ORIGINAL_MATRIX, needs_original

# The 25 residents' living areas (GA_NOTES section 10) and how many live in each.
HOMES = {
    "artist's co-living space:Latoya Williams's room": 1,
    "artist's co-living space:Rajiv Patel's room": 1,
    "artist's co-living space:Abigail Chen's room": 1,
    "artist's co-living space:Francisco Lopez's room": 1,
    "artist's co-living space:Hailey Johnson's room": 1,
    "Arthur Burton's apartment:main room": 1,
    "Ryan Park's apartment:main room": 1,
    "Isabella Rodriguez's apartment:main room": 1,
    "Giorgio Rossi's apartment:main room": 1,
    "Carlos Gomez's apartment:main room": 1,
    "Dorm for Oak Hill College:Klaus Mueller's room": 1,
    "Dorm for Oak Hill College:Maria Lopez's room": 1,
    "Dorm for Oak Hill College:Ayesha Khan's room": 1,
    "Dorm for Oak Hill College:Wolfgang Schulz's room": 1,
    "Lin family's house:Mei and John Lin's bedroom": 2,
    "Lin family's house:Eddy Lin's bedroom": 1,
    "Moreno family's house:Tom and Jane Moreno's bedroom": 2,
    "Tamara Taylor and Carmen Ortiz's house:Tamara Taylor's room": 1,
    "Tamara Taylor and Carmen Ortiz's house:Carmen Ortiz's room": 1,
    "Moore family's house:main room": 2,
    "Yuriko Yamamoto's house:main room": 1,
    "Adam Smith's house:main room": 1,
}


@pytest.fixture(scope="module")
def ville() -> Town:
    return load_town("the_ville")


def test_size_and_counts(ville):
    assert ville.world == "the Ville" and ville.name == "the_ville"
    assert 120 <= ville.width <= 160 and 80 <= ville.height <= 120
    assert len(ville.sectors()) >= 19 and len(ville.arenas()) >= 60 and len(ville.object_types()) >= 40
    assert ville.reachability().arenas == () and ville.reachability().objects == ()


@needs_original()
def test_same_places_and_objects_as_the_original(ville):
    original = Town(import_ga_matrix(ORIGINAL_MATRIX))
    assert ville.tree() == original.tree()


@pytest.mark.parametrize("home, residents", sorted(HOMES.items()))
def test_every_home_has_walkable_spawn_points_inside_it(ville, home, residents):
    address = f"the Ville:{home}"
    spawns = ville.spawn_tiles(address)
    assert len(spawns) >= max(2, residents)
    for tile in spawns:
        assert ville.is_walkable(tile) and ville.address(tile, "arena") == address


def test_public_places_have_spawn_points(ville):
    for place in (
        "Hobbs Cafe:cafe",
        "The Rose and Crown Pub:pub",
        "Johnson Park:park",
        "Oak Hill College:library",
    ):
        assert ville.spawn_tiles(f"the Ville:{place}")
    assert ville.spawn_tiles("the Ville:Hobbs Cafe") == ville.spawn_tiles("the Ville:Hobbs Cafe:cafe")
    assert ville.spawn_tiles("the Ville:nowhere") == []


def test_addresses_at_every_level(ville):
    bed = sorted(ville.tiles("the Ville:Isabella Rodriguez's apartment:main room:bed"))[0]
    assert ville.address(bed) == "the Ville:Isabella Rodriguez's apartment:main room:bed"
    assert ville.address(bed, "arena") == "the Ville:Isabella Rodriguez's apartment:main room"
    assert ville.address(bed, "sector") == "the Ville:Isabella Rodriguez's apartment"
    assert ville.address(bed, "world") == "the Ville"
    street = next(t for t in ville.nearby((60, 31), 0))
    assert ville.address(street, "sector") == "" and ville.address(street, "arena") == ""
    assert ville.address(street, "world") == "the Ville"
    assert ville.address((-3, 5)) == "" and not ville.is_walkable((500, 5))
    with pytest.raises(ValueError, match="level"):
        ville.address(bed, "room")


def test_tiles_index_agrees_with_addresses(ville):
    for address in ["the Ville:Hobbs Cafe", "the Ville:Hobbs Cafe:cafe", "the Ville:Hobbs Cafe:cafe:piano"]:
        level = ("world", "sector", "arena", "object")[address.count(":")]
        tiles = ville.tiles(address)
        assert tiles and all(ville.address(t, level) == address for t in tiles)
        assert ville.has_address(address)
    assert ville.tiles("the Ville:Hobbs Cafe:attic") == frozenset()
    assert not ville.has_address("the Ville:Hobbs Cafe:attic")
    assert len(ville.tiles("the Ville")) == ville.width * ville.height


def test_nearby_is_a_clipped_square(ville):
    assert len(ville.nearby((50, 50), 8)) == 17 * 17
    corner = ville.nearby((0, 0), 2)
    assert sorted(corner) == corner and len(corner) == 9 and (0, 0) in corner


def test_load_is_cached_per_file_and_reloads_after_an_edit(small_town_file):
    first = load_town(small_town_file)
    assert load_town(str(small_town_file)) is first
    small_town_file.write_text(small_town_file.read_text().replace("Smallworld", "Otherworld"))
    assert load_town(small_town_file).world == "Otherworld"


def test_unknown_town_is_an_input_error():
    with pytest.raises(InputError, match="not found.*bundled: the_ville"):
        load_town("no_such_town")
