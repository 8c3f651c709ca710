"""validate_against_town: one warning per place the town lacks, none when everything fits."""

from __future__ import annotations

from aga.bases import BaseSim, Persona, validate_against_town


class FakeTown:
    """Test double of ``aga.world.Town`` with a fixed set of addresses and walkable tiles."""

    name = "tiny_town"
    world = "Tiny"

    def __init__(self) -> None:
        self.addresses = {
            "Tiny",
            "Tiny:Home",
            "Tiny:Home:room",
            "Tiny:Home:room:bed",
            "Tiny:Cafe",
            "Tiny:Cafe:cafe",
        }

    def has_address(self, address: str) -> bool:
        return address in self.addresses

    def is_walkable(self, tile: tuple[int, int]) -> bool:
        return tile == (1, 1)


def persona(**changes) -> Persona:
    fields = dict(
        name="Ada Quill", first_name="Ada", last_name="Quill", age=30, innate="a, b, c",
        learned="Ada Quill mends clocks.", currently="Ada Quill is busy.",
        lifestyle="Ada goes to bed around 10 pm and wakes up around 6 am.",
        living_area="Tiny:Home:room", known_places={"Home": {"room": ["bed"]}, "Cafe": {"cafe": []}},
        start_tile=(1, 1),
    )  # fmt: skip
    return Persona(**{**fields, **changes})


def test_no_warnings_when_everything_exists() -> None:
    base = BaseSim(name="b", town="tiny_town", residents=[persona()])
    assert validate_against_town(base, FakeTown()) == []


def test_warnings_name_resident_and_missing_place() -> None:
    places = {"Home": {"room": ["bed", "piano"], "attic": []}, "Library": {"hall": []}}
    people = [
        persona(known_places=places, start_tile=(5, 5)),
        persona(name="Ben Ortega", living_area="Tiny:Barn:loft", known_places={}, start_tile=None),
        persona(name="Cy Moss", living_area="Elsewhere:Home:room", known_places={}, start_tile=None),
    ]
    warnings = validate_against_town(BaseSim(name="b", town="other_town", residents=people), FakeTown())
    assert warnings == [
        "base 'b' is made for town 'other_town', not 'tiny_town'",
        "Ada Quill: known object 'Home:room:piano' is not in town 'tiny_town'",
        "Ada Quill: known arena 'Home:attic' is not in town 'tiny_town'",
        "Ada Quill: known sector 'Library' is not in town 'tiny_town'",
        "Ada Quill: start tile [5, 5] is not walkable in 'tiny_town'",
        "Ben Ortega: living area 'Tiny:Barn:loft' is not in town 'tiny_town'",
        "Cy Moss: living area 'Elsewhere:Home:room' is in world 'Elsewhere', but town 'tiny_town' is world 'Tiny'",
    ]
