"""``aga base generate``: a base of any size for a generated town, from building blocks.

Residents come in households (one to four people: singles, couples, families, flatmates), one
household per house of the town (see :mod:`aga.world.layout`). Each adult gets a trade tied to a
kind of public building (cafe, market, pub, office, workshop, clinic, park, college) and works in
one of the two such buildings nearest to home; children and students attend the college; the
retired have no workplace. Daily rhythms (early, regular, late) fit the trade's hours. Ties:
household members know each other, colleagues know each other, and a few friendships join
neighbours. A few seeded facts (a market day, a concert, a lost dog) are planted in some minds.

Everything is drawn from ``aga.rng.rng_for(seed, ...)``, so the same size, town and seed give
the same base. All wording here is the project's own.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from aga.bases.checks import validate_against_town
from aga.bases.model import BaseSim, Persona
from aga.errors import BaseSimError
from aga.rng import rng_for
from aga.world.layout import HOME_BEDROOMS, KINDS, house_sectors

MAX_RESIDENTS = 8000
START = datetime(2023, 2, 13, 0, 0, 0)

_FIRST = tuple(
    "Ada Bruno Celia Dario Elena Farid Greta Hugo Ines Jonas Kira Luca Mira Nils Olga Pavel Quinn "
    "Rosa Samir Tilda Umar Vera Wendel Xenia Yusuf Zora Amara Bastian Chiara Desmond Esther Felix "
    "Gloria Henrik Ivy Jasper Lena Malik Nadia Oscar Priya Rafael Selma Tobias Ursula Viktor Willa "
    "Yara Anton Bianca Cyrus Dalia Emil Fatima Gideon Hana Idris Juno Kofi Leila Marius Noor Otto "
    "Paloma Ruben Sanna Teodor Alma Boris Clara Dmitri Edith Florin Gemma Hector Iris Joaquin Katya "
    "Lionel Maren".split()
)
_LAST = tuple(
    "Abara Bergman Castell Duarte Eklund Fontaine Galvez Hartmann Ibsen Jovanovic Kowalski Lindqvist "
    "Moreau Nakamura Okafor Petrov Quintero Rasmussen Sorensen Takeda Urquhart Varga Whitlock Yilmaz "
    "Zeller Achebe Brandt Cardoso Dvorak Esposito Falk Grimaldi Haddad Iversen Janssen Kaur Laine "
    "Mendes Novak Oyelaran Pellegrini Reyes Sato Toivonen Ueda Vasquez Weller Xu Yamada Zamora "
    "Alvarez Bjork Chen Delacroix Erikson Ferreira Gupta Holm Ilves Kim Lund Mbeki Nyberg Ortega Park "
    "Rossi Silva Tanaka Voss Wagner Adeyemi Barros Costa Dahl Engel Fischer Greco Horvath Ito Jensen".split()
)
_TRAITS = tuple(
    "cheerful patient curious stubborn generous shy witty meticulous warm restless calm ambitious "
    "thoughtful talkative practical dreamy loyal blunt gentle energetic reserved playful earnest "
    "sceptical kind organised absent-minded brave frugal sociable".split()
)
_HOBBIES = (
    "growing tomatoes on the windowsill",
    "playing chess",
    "baking bread",
    "reading crime novels",
    "sketching people in cafes",
    "running along the streets at dawn",
    "playing the violin",
    "birdwatching in the park",
    "collecting old maps",
    "writing short poems",
    "fixing old radios",
    "knitting scarves for friends",
    "cooking spicy stews",
    "playing board games",
    "photography",
    "learning Spanish",
    "repairing bicycles",
    "listening to jazz records",
    "doing crosswords",
    "keeping a diary",
)
# trade: (kind of workplace, work arena or None for the building's main room, hours, what they do)
_TRADES: dict[str, tuple[str, int, int, str]] = {
    "barista": ("cafe", 7, 15, "makes coffee and serves breakfast to regulars"),
    "cafe cook": ("cafe", 9, 17, "cooks soups and sandwiches in the cafe kitchen"),
    "grocer": ("market", 8, 16, "stocks shelves and runs the till"),
    "market manager": ("market", 9, 17, "orders stock and keeps the accounts of the shop"),
    "bartender": ("pub", 15, 23, "pours drinks and knows every regular by name"),
    "accountant": ("office", 9, 17, "keeps the books of small businesses in town"),
    "software developer": ("office", 9, 17, "writes software for a shipping company"),
    "architect": ("office", 9, 17, "draws plans for new houses"),
    "translator": ("office", 9, 16, "translates contracts and letters"),
    "carpenter": ("workshop", 7, 15, "builds tables and fixes doors for neighbours"),
    "bicycle mechanic": ("workshop", 8, 16, "repairs bicycles and sells spare parts"),
    "potter": ("workshop", 9, 17, "throws bowls and mugs and sells them at the counter"),
    "nurse": ("clinic", 7, 15, "looks after patients and changes dressings"),
    "doctor": ("clinic", 9, 17, "sees patients in the clinic"),
    "pharmacist": ("clinic", 9, 17, "prepares medicines and gives advice"),
    "gardener": ("park", 7, 15, "tends the flower beds and trims the hedges of the park"),
    "teacher": ("college", 8, 16, "teaches classes at the college"),
    "librarian": ("college", 9, 17, "runs the college library"),
}
_STUDENT_SUBJECTS = (
    "history",
    "biology",
    "economics",
    "music",
    "chemistry",
    "literature",
    "mathematics",
    "art",
)
_PROJECTS = {
    "cafe": ("trying out a new cake recipe for the cafe menu", "saving up to open a small bakery"),
    "market": ("planning a stall of local honey at the market", "training a new colleague at the till"),
    "pub": ("organising a quiz night at the pub", "learning to mix new cocktails"),
    "office": (
        "finishing a big project before the end of the month",
        "thinking about asking for a promotion",
    ),
    "workshop": ("building a rocking chair as a gift", "getting ready for a crafts fair"),
    "clinic": ("studying for an exam in emergency care", "helping with a vaccination drive"),
    "park": ("planting a new bed of tulips", "building birdhouses for the park"),
    "college": ("preparing a lecture series", "reorganising the reading list"),
    "student": ("writing an essay due at the end of the week", "preparing for a class presentation"),
    "child": ("practising for a school play", "learning to ride a bicycle without help"),
    "retired": ("writing a memoir about younger days", "taking long walks to stay fit"),
    "home": ("finishing a painting for a local exhibition", "writing a novel chapter by chapter"),
}
# daily rhythms: (name, wake hour, bed hour as 24h, may be past midnight)
_RHYTHMS = {"early": (5, 21), "regular": (6, 22), "late": (8, 24)}
_FACTS = (
    ("market_day", "There is a market day in {park} on Saturday morning.", ["market day", "{park_word}"]),
    ("concert", "A jazz trio plays at {pub} on Friday evening.", ["jazz", "{pub_word}"]),
    ("lost_dog", "A brown dog named Pepper has gone missing near {street}.", ["pepper", "dog"]),
)


def _hour(h: int) -> str:
    h = h % 24
    return "midnight" if h == 0 else ("noon" if h == 12 else f"{h % 12 or 12} {'am' if h < 12 else 'pm'}")


class _Town:
    """What the generator needs to know of a town: houses, public buildings by kind, distances."""

    def __init__(self, town: Any) -> None:
        self.town = town
        self.tree: dict[str, dict[str, list[str]]] = town.tree()
        self.houses = house_sectors(town)
        arena_kind = {arena: kind for kind, arena in KINDS.items()}
        self.by_kind: dict[str, list[str]] = {}
        for sector, arenas in self.tree.items():
            if sector in self.houses:
                continue
            kinds = {
                arena_kind[a.rsplit(" ", 1)[0] if a.startswith("classroom ") else a]
                for a in arenas
                if (a.rsplit(" ", 1)[0] if a.startswith("classroom ") else a) in arena_kind
            }
            for kind in sorted(kinds):
                self.by_kind.setdefault(kind, []).append(sector)
        self.centre: dict[str, tuple[float, float]] = {}
        for sector in self.tree:
            tiles = town.tiles(f"{town.world}:{sector}")
            xs, ys = [t[0] for t in tiles], [t[1] for t in tiles]
            self.centre[sector] = (sum(xs) / len(xs), sum(ys) / len(ys))

    def nearest(self, kind: str, home: str, count: int = 1) -> list[str]:
        hx, hy = self.centre[home]
        options = self.by_kind.get(kind, [])
        return sorted(
            options, key=lambda s: ((self.centre[s][0] - hx) ** 2 + (self.centre[s][1] - hy) ** 2, s)
        )[:count]

    def work_arena(self, sector: str, kind: str) -> str:
        arenas = list(self.tree[sector])
        want = KINDS[kind]
        for a in arenas:
            if a == want or a.startswith(want + " "):
                return a
        return arenas[0]


def _household_sizes(n: int, seed: int) -> list[int]:
    rng = rng_for(seed, 0, "base", "households")
    sizes: list[int] = []
    left = n
    while left > 0:
        size = min(left, rng.choices((1, 2, 3, 4), weights=(30, 35, 20, 15))[0])
        sizes.append(size)
        left -= size
    return sizes


def generate_base(
    residents: int, town: Any, *, town_ref: str, seed: int = 0, name: str | None = None
) -> BaseSim:
    """A base of ``residents`` people living in the houses of ``town`` (a loaded generated town).

    Args:
        residents: how many residents (1..:data:`MAX_RESIDENTS`).
        town: the loaded town (:class:`aga.world.Town`) made by ``aga town build --homes``.
        town_ref: how the base names the town (a bundled name or a town file path).
        seed: the base's seed (also the seed of the simulation forked from it).
        name: the base's name (default ``base_<town>_n<residents>``).

    Raises:
        BaseSimError: a bad size, or a town without enough houses or public buildings.
    """
    if not 1 <= residents <= MAX_RESIDENTS:
        raise BaseSimError(f"--residents must be between 1 and {MAX_RESIDENTS}, got {residents}")
    t = _Town(town)
    sizes = _household_sizes(residents, seed)
    if len(t.houses) < len(sizes):
        need = math.ceil(len(sizes) * 1.1)
        raise BaseSimError(
            f"town {town.name!r} has {len(t.houses)} houses, {residents} residents need about {len(sizes)} "
            f"(one household each); build a bigger town: aga town build --homes {need} <file>"
        )
    missing = [k for k in ("cafe", "market", "college") if not t.by_kind.get(k)]
    if missing:
        raise BaseSimError(
            f"town {town.name!r} has no {', '.join(missing)}; generate it with `aga town build --homes N`"
        )
    rng = rng_for(seed, 0, "base", "people")
    houses = list(t.houses)
    rng.shuffle(houses)
    used_names: set[str] = set()
    people: list[dict[str, Any]] = []
    for h, size in enumerate(sizes):
        people.extend(_household(rng, h, size, houses[h], t, used_names))
    _ties(rng, people)
    facts = _plant_facts(rng, people, t)
    world = town.world
    personas = [_persona(p, t, world) for p in people]
    base_name = name or f"base_{town.name}_n{residents}"
    kinds = ", ".join(f"{len(v)} {k}" for k, v in sorted(t.by_kind.items()))
    data: dict[str, Any] = {
        "name": base_name,
        "description": (
            f"{residents} generated residents in {len(sizes)} households of town {town.name} "
            f"({kinds}); made by `aga base generate --residents {residents} --seed {seed}`."
        ),
        "town": town_ref,
        "start": START,
        "sec_per_step": 10,
        "seed": seed,
        "residents": personas,
    }
    if "facts" in BaseSim.model_fields:
        data["facts"] = facts
    base = BaseSim.model_validate(data)
    warnings = validate_against_town(base.model_copy(update={"town": town.name}), town)
    if warnings:
        raise BaseSimError(f"generated base does not fit town {town.name!r}: {warnings[0]}")
    return base


def _name(rng: Any, last: str | None, used: set[str]) -> tuple[str, str]:
    for _ in range(200):
        first = rng.choice(_FIRST)
        family = last or rng.choice(_LAST)
        if f"{first} {family}" not in used:
            used.add(f"{first} {family}")
            return first, family
    for k in range(26 * 26):  # a crowded town: a middle initial tells people apart
        first = f"{rng.choice(_FIRST)} {chr(ord('A') + k % 26)}."
        family = last or rng.choice(_LAST)
        if f"{first} {family}" not in used:
            used.add(f"{first} {family}")
            return first, family
    raise BaseSimError("ran out of distinct names")


def _household(rng: Any, h: int, size: int, house: str, t: _Town, used: set[str]) -> list[dict[str, Any]]:
    """The members of one household: role, age, bedroom, trade."""
    shape = {
        1: rng.choice(("single", "single", "retired single")),
        2: rng.choice(("couple", "couple", "flatmates", "parent and child", "retired couple")),
        3: rng.choice(("family", "family", "flatmates")),
        4: rng.choice(("family", "family", "students")),
    }[size]
    shared = (
        rng.choice(_LAST) if shape in ("couple", "retired couple", "family", "parent and child") else None
    )
    members: list[dict[str, Any]] = []
    for k in range(size):
        if shape in ("flatmates", "students"):
            role, age = (
                ("student", rng.randint(18, 24)) if shape == "students" else ("adult", rng.randint(22, 40))
            )
        elif shape.startswith("retired"):
            role, age = "retired", rng.randint(66, 84)
        elif shape in ("family", "parent and child") and k >= (1 if shape == "parent and child" else 2):
            role, age = "child", rng.randint(6, 17)
        else:
            role, age = "adult", rng.randint(24, 64)
        first, last = _name(rng, shared, used)
        members.append(
            {
                "first": first,
                "last": last,
                "role": role,
                "age": age,
                "house": house,
                "household": h,
                "shape": shape,
                "ties": [],
                "facts": [],
            }
        )
    # bedrooms (two beds each): flatmates alternate; otherwise adults in the bedroom, children in the second
    for k, m in enumerate(members):
        if shape in ("flatmates", "students"):
            m["room"] = HOME_BEDROOMS[k % 2]
        else:
            m["room"] = HOME_BEDROOMS[1 if m["role"] == "child" else 0]
    for m in members:
        _occupation(rng, m, t)
    return members


def _occupation(rng: Any, m: dict[str, Any], t: _Town) -> None:
    if m["role"] in ("child", "student"):
        m["kind"] = "college"
        m["trade"] = "pupil" if m["role"] == "child" else f"student of {rng.choice(_STUDENT_SUBJECTS)}"
        m["hours"] = (9, 15) if m["role"] == "child" else (10, 16)
        m["does"] = (
            "attends classes" if m["role"] == "child" else "goes to lectures and studies in the library"
        )
    elif m["role"] == "retired":
        m["kind"], m["trade"], m["hours"], m["does"] = "retired", "retired", None, ""
    elif rng.random() < 0.08:
        m["kind"], m["trade"], m["hours"] = "home", rng.choice(("painter", "writer", "illustrator")), (9, 14)
        m["does"] = "works from home"
    else:
        trades = [tr for tr, spec in _TRADES.items() if t.by_kind.get(spec[0])]
        trade = rng.choice(trades)
        kind, start, end, does = _TRADES[trade]
        m["kind"], m["trade"], m["hours"], m["does"] = kind, trade, (start, end), does
    if m["kind"] in KINDS:
        m["work"] = rng.choice(t.nearest(m["kind"], m["house"], 2))
        m["work_arena"] = t.work_arena(m["work"], m["kind"])
        if m["trade"] == "librarian" and "library" in t.tree[m["work"]]:
            m["work_arena"] = "library"
    else:
        m["work"] = m["work_arena"] = None
    if m["hours"] and m["hours"][0] <= 7:
        m["rhythm"] = "early"
    elif m["hours"] and m["hours"][1] >= 22:
        m["rhythm"] = "late"
    else:
        m["rhythm"] = rng.choice(
            ("early", "regular", "regular", "late") if m["role"] != "child" else ("regular",)
        )


def _full(m: dict[str, Any]) -> str:
    return f"{m['first']} {m['last']}"


def _ties(rng: Any, people: list[dict[str, Any]]) -> None:
    """Household, colleague and neighbour ties, as seed memories of both sides."""
    by_house: dict[int, list[dict[str, Any]]] = {}
    for m in people:
        by_house.setdefault(m["household"], []).append(m)
    for members in by_house.values():
        shape = members[0]["shape"]
        for a in members:
            for b in members:
                if a is b:
                    continue
                if (
                    shape in ("couple", "retired couple", "family")
                    and a["role"] != "child"
                    and b["role"] != "child"
                ):
                    rel = f"{a['first']} is married to {_full(b)}."
                elif a["role"] == "child" and b["role"] != "child":
                    rel = f"{_full(b)} is {a['first']}'s parent."
                elif b["role"] == "child" and a["role"] != "child":
                    rel = f"{_full(b)} is {a['first']}'s child."
                elif a["role"] == "child":
                    rel = f"{_full(b)} is {a['first']}'s sibling."
                else:
                    rel = f"{a['first']} shares the house at {a['house']} with {_full(b)}."
                a["ties"].append(rel)
    by_work: dict[str, list[dict[str, Any]]] = {}
    for m in people:
        if m["work"] and m["role"] not in ("child", "student"):
            by_work.setdefault(m["work"], []).append(m)
    for sector, staff in sorted(by_work.items()):
        for a, b in zip(staff, staff[1:]):
            a["ties"].append(f"{a['first']} works with {_full(b)} at {sector}.")
            b["ties"].append(f"{b['first']} works with {_full(a)} at {sector}.")
    order = sorted(people, key=lambda m: (m["house"], _full(m)))
    for a, b in zip(order, order[7::7]):  # a friend a few houses away
        if a["household"] != b["household"] and rng.random() < 0.6:
            a["ties"].append(f"{a['first']} and {_full(b)} have been friends for years.")
            b["ties"].append(f"{b['first']} and {_full(a)} have been friends for years.")


def _plant_facts(rng: Any, people: list[dict[str, Any]], t: _Town) -> list[dict[str, Any]]:
    """Plant each fact in about one resident in twenty (at least one); the base's declarations."""
    park = (t.by_kind.get("park") or t.by_kind["cafe"])[0]
    pub = (t.by_kind.get("pub") or t.by_kind["cafe"])[0]
    street = people[0]["house"].split(" ", 1)[-1]
    values = {
        "park": park,
        "pub": pub,
        "street": street,
        "park_word": park.split()[0].lower(),
        "pub_word": pub.split()[-2].lower() if len(pub.split()) > 2 else pub.lower(),
    }
    out = []
    for key, text, words in _FACTS:
        sentence = text.format(**values)
        holders = rng.sample(people, max(1, len(people) // 20))
        for m in holders:
            m["facts"].append(sentence)
        out.append({"name": key, "about": sentence, "words": [w.format(**values) for w in words]})
    return out


def _persona(m: dict[str, Any], t: _Town, world: str) -> Persona:
    first, name = m["first"], _full(m)
    wake, bed = _RHYTHMS[m["rhythm"]]
    if m["role"] == "child":
        wake, bed = 7, 20
    work = m["work"]
    traits = ", ".join(_pick(m, _TRAITS, 3))
    hobby = _pick(m, _HOBBIES, 1)[0]
    if m["role"] == "retired":
        learned = f"{name} is a retired {_pick(m, tuple(_TRADES), 1)[0]} who lives at {m['house']} and enjoys {hobby}."
    elif m["role"] == "child":
        learned = f"{name} is {m['age']} years old, lives at {m['house']} and goes to {work}; {first} likes {hobby}."
    elif m["kind"] == "home":
        learned = f"{name} is a {m['trade']} who works from home at {m['house']} and enjoys {hobby}."
    else:
        article = "an" if m["trade"][0] in "aeiou" else "a"
        learned = (
            f"{name} is {article} {m['trade']} at {work}, where {first} {m['does']}. "
            f"{first} lives at {m['house']} and enjoys {hobby}."
        )
    project_kind = m["kind"] if m["role"] not in ("child", "student") else m["role"]
    project = _pick(m, _PROJECTS.get(project_kind, _PROJECTS["home"]), 1)[0]
    lifestyle = (
        f"{first} goes to bed around {_hour(bed)} and wakes up around {_hour(wake)}; eats breakfast "
        f"around {_hour(wake + 1)}, lunch around {_hour(12 if (m['hours'] or (0, 0))[0] < 11 else 14)} "
        f"and dinner around {_hour(min(bed - 3, 19) if bed < 24 else 20)}."
    )
    if m["hours"] and work:
        plan = f"{first} is at {work} from {_hour(m['hours'][0])} to {_hour(m['hours'][1])} on weekdays."
    elif m["hours"]:
        plan = f"{first} works at home from {_hour(m['hours'][0])} to {_hour(m['hours'][1])}."
    else:
        cafe = t.nearest("cafe", m["house"])[0]
        plan = f"{first} has no job to go to; most mornings {first} takes a walk and visits {cafe}."
    known: dict[str, dict[str, list[str]]] = {m["house"]: t.tree[m["house"]]}
    for kind in ("cafe", "market", "pub", "park", "college"):
        for sector in t.nearest(kind, m["house"]):
            known[sector] = t.tree[sector]
    if work:
        known[work] = t.tree[work]
    fields: dict[str, Any] = {
        "name": name,
        "first_name": first,
        "last_name": m["last"],
        "age": m["age"],
        "innate": traits,
        "learned": learned,
        "currently": f"{first} is {project}.",
        "lifestyle": lifestyle,
        "daily_plan_req": plan,
        "living_area": f"{world}:{m['house']}:{m['room']}",
        "known_places": {s: {a: list(objs) for a, objs in arenas.items()} for s, arenas in known.items()},
        "seed_memories": [*m["ties"], *m["facts"]],
        "importance_trigger_max": 250,
    }
    if "workplace" in Persona.model_fields and work:
        fields["workplace"] = f"{work}:{m['work_arena']}" if m["work_arena"] else work
    return Persona.model_validate(fields)


def _pick(m: dict[str, Any], options: Sequence[str], k: int) -> list[str]:
    """``k`` options chosen by the resident's name (stable whatever else changes)."""
    rng = rng_for(0, 0, _full(m), "blocks")
    return rng.sample(list(options), k)


def persona_file(p: Persona) -> str:
    """Relative path of a persona's file in the base folder."""
    stem = "".join(c if c.isalnum() else "_" for c in p.name.lower()).strip("_")
    while "__" in stem:
        stem = stem.replace("__", "_")
    return f"personas/{stem}.yaml"


def write_base(base: BaseSim, folder: Path, *, force: bool = False) -> Path:
    """Write ``base`` as a folder of aga's own format (``base.yaml`` + ``personas/*.yaml``).

    Raises:
        BaseSimError: the folder exists and ``force`` is not given.
    """
    if folder.exists() and any(folder.iterdir()) and not force:
        raise BaseSimError(f"{folder}: already exists; not overwriting it (use --force to replace it)")
    (folder / "personas").mkdir(parents=True, exist_ok=True)
    for old in (folder / "personas").glob("*.yaml"):
        old.unlink()
    files = []
    dump = {"width": 100, "sort_keys": False, "allow_unicode": True, "default_flow_style": None}
    for p in base.residents:
        rel = persona_file(p)
        files.append(rel)
        body = p.model_dump(exclude_defaults=True)
        body.pop("importance_trigger_max", None)
        (folder / rel).write_text(
            f"# {p.name}: generated by aga base generate; format described in docs/bases.md.\n"
            + yaml.safe_dump(body, **dump),
            encoding="utf-8",
        )
    head: dict[str, Any] = {
        "name": base.name,
        "description": base.description,
        "town": base.town,
        "start": base.start,
        "sec_per_step": base.sec_per_step,
        "seed": base.seed,
        "persona_defaults": {"importance_trigger_max": 250},
        "personas": files,
    }
    facts = getattr(base, "facts", None)
    if facts:
        head["facts"] = [f.model_dump(exclude_defaults=True) for f in facts]
    (folder / "base.yaml").write_text(
        "# Base simulation generated by `aga base generate`; format described in docs/bases.md.\n"
        + yaml.safe_dump(head, **dump),
        encoding="utf-8",
    )
    return folder
