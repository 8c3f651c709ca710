"""A resident's state as one typed record: marked changes, the check that catches unmarked ones,
the JSON form, and the step modules' protocol."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from datetime import datetime

import pytest

from aga.minds import Resident
from aga.minds.schedule import Row
from aga.minds.state import STATE_VERSION, Mind, ResidentState, StateError

from .driver import Driver

MORNING = datetime(2023, 2, 13, 7, 50, 0)


def _walking(town, personas, scripted) -> Driver:  # type: ignore[no-untyped-def]
    d = Driver(town, scripted(), {n: Resident.from_persona(p, town) for n, p in personas.items()}, MORNING)
    while not any(len(r.planned_path) > 3 for r in d.residents.values()) and d.step < 2000:
        asyncio.run(d.run(1))
    return d


def test_an_unmarked_change_is_caught_by_the_check(town, personas, scripted) -> None:  # type: ignore[no-untyped-def]
    d = _walking(town, personas, scripted)
    r = next(r for r in d.residents.values() if len(r.planned_path) > 3)
    r.check_state()  # everything the steps changed was marked
    saved = r.to_state()
    r.state.planned_path.pop()  # a change past the Resident methods: nobody marks it
    r.state.rated["a text nobody rated"] = 7
    assert r.to_state() is saved  # it would not be saved...
    with pytest.raises(StateError, match=r"planned_path, rated") as err:
        r.check_state()  # ...and the check says so, naming the fields
    assert r.name in str(err.value)
    r.mark("planned_path", "rated")
    r.check_state()
    assert r.to_state() is not saved and r.to_state()["rated"]["a text nobody rated"] == 7


def test_the_check_runs_in_the_step_loop(town, personas, scripted, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A step module that changes the state behind the resident's back fails the next step loudly."""
    from aga.minds import execute

    real = execute.execute

    def sloppy(r, ctx):  # type: ignore[no-untyped-def]
        movement = real(r, ctx)
        r.state.importance_ele_n += 1  # not through a Resident method
        return movement

    monkeypatch.setattr(execute, "execute", sloppy)
    d = Driver(town, scripted(), {n: Resident.from_persona(p, town) for n, p in personas.items()}, MORNING)
    with pytest.raises(StateError, match="importance_ele_n"):
        asyncio.run(d.run(2))  # the first step's state is built after the change; the second one sees it


def test_assigning_a_field_marks_it_and_to_state_is_the_same_object_otherwise(town, personas) -> None:  # type: ignore[no-untyped-def]
    r = Resident.from_persona(personas["Klaus Mueller"], town)
    first = r.to_state()
    assert r.to_state() is first
    r.schedule = [Row("reading", 60)]
    second = r.to_state()
    assert second is not first and [row[:2] for row in second["schedule"]] == [["reading", 60]]
    r.check_state()


def test_the_json_form_round_trips_every_field(town, personas, scripted) -> None:  # type: ignore[no-untyped-def]
    d = _walking(town, personas, scripted)
    asyncio.run(d.run(30))
    for r in d.residents.values():
        data = json.loads(json.dumps(r.to_state()))
        assert data["version"] == STATE_VERSION
        assert set(data) == {"version"} | {f.name for f in dataclasses.fields(ResidentState)}
        again = ResidentState.from_json(data)
        assert again.to_json() == data == r.state.to_json()


def test_the_resident_offers_everything_the_step_modules_use(town, personas) -> None:  # type: ignore[no-untyped-def]
    r = Resident.from_persona(personas["Maria Lopez"], town)
    members = [
        m for m in dir(Mind) if not m.startswith("__") and m not in ("_is_protocol", "_is_runtime_protocol")
    ]
    members += list(Mind.__annotations__)
    missing = [m for m in members if not m.startswith("_abc") and not hasattr(r, m)]
    assert missing == []


def test_no_step_module_imports_the_resident_class() -> None:
    """The step modules work against the Mind protocol: resident.py imports them, never the reverse."""
    import ast
    from pathlib import Path

    import aga.minds

    folder = Path(aga.minds.__file__).parent
    importers = []
    for path in sorted(folder.glob("*.py")):
        if path.name in ("resident.py", "__init__.py"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            names += [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if any(n == "aga.minds.resident" for n in names):
                importers.append(path.name)
            if (
                isinstance(node, ast.ImportFrom)
                and node.module == "aga.minds"
                and any(a.name == "Resident" for a in node.names)
            ):
                importers.append(path.name)
    assert importers == []


def _store_text(value) -> str:  # type: ignore[no-untyped-def]
    """The store's encoding of a state (compact, keys sorted), written out here on purpose."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def test_the_state_text_is_the_stores_json_of_the_state_at_every_step(town, personas, scripted) -> None:  # type: ignore[no-untyped-def]
    d = _walking(town, personas, scripted)
    walker = next(r for r in d.residents.values() if len(r.planned_path) > 3)
    for _ in range(40):
        asyncio.run(d.run(1))
        for n, r in d.residents.items():
            text = r.to_state_json()
            assert text == _store_text(r.state.to_json()), n
            assert json.loads(text) == r.to_state()
    r = walker
    before = r.to_state_json()
    assert r.to_state_json() is before  # nothing marked: the same string
    if r.planned_path:
        r.step_along()  # one tile walked: the text follows, tile and path only
        after = json.loads(r.to_state_json())
        old = json.loads(before)
        assert after["tile"] == list(r.tile) and after["planned_path"] == [list(t) for t in r.planned_path]
        assert {k for k in after if after[k] != old[k]} <= {"tile", "planned_path"}


def test_path_text_follows_a_path_walked_from_its_front() -> None:
    from aga.minds.state import PathText, state_dumps

    pt = PathText()
    path = [(1, 2), (3, 4), (10, 200), (7, 7)]
    full = pt.text(path)
    assert full == state_dumps([list(t) for t in path])
    while path:
        path.pop(0)
        assert pt.text(path) == state_dumps([list(t) for t in path])
    assert pt.text([]) == "[]"
    other = [(1, 2), (3, 4)]  # a new list with other tiles: its own text
    assert pt.text(other) == "[[1,2],[3,4]]"
    other[:] = [(5, 6), (8, 9)]  # the same list changed in place (not by walking): noticed
    assert pt.text(other) == "[[5,6],[8,9]]"
