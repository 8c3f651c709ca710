"""Importing storage folders of the original format: the shipped 3-agent base, edited copies,
memory streams, history CSVs, and the errors for broken folders."""

from __future__ import annotations

import re
import shutil
from datetime import datetime
from pathlib import Path

import pytest
from bases_helpers import HISTORY_N3, ORIGINAL_N3, copy_original, needs_reference, read_json, write_json

from aga.bases import load_base, validate_against_town
from aga.errors import BaseSimError

pytestmark = needs_reference

TILES = {"Isabella Rodriguez": (72, 14), "Klaus Mueller": (126, 46), "Maria Lopez": (123, 57)}


def error_of(target, **kw) -> str:
    with pytest.raises(BaseSimError) as info:
        load_base(target, **kw)
    assert "\n" not in str(info.value)
    return str(info.value)


def rename_persona(folder: Path, old: str, new: str) -> None:
    """Rename a persona everywhere the original format names it (folder, meta, scratch, environment)."""
    (folder / "personas" / old).rename(folder / "personas" / new)
    meta = read_json(folder / "reverie" / "meta.json")
    meta["persona_names"] = [new if n == old else n for n in meta["persona_names"]]
    write_json(folder / "reverie" / "meta.json", meta)
    scratch_path = folder / "personas" / new / "bootstrap_memory" / "scratch.json"
    scratch = read_json(scratch_path)
    first, last = new.split(" ", 1)
    scratch.update(name=new, first_name=first, last_name=last)
    write_json(scratch_path, scratch)
    env = read_json(folder / "environment" / "0.json")
    env[new] = env.pop(old)
    write_json(folder / "environment" / "0.json", env)


def test_imports_the_original_three_agent_base(reference_town) -> None:
    base = load_base(ORIGINAL_N3)
    assert base.name == "base_the_ville_isabella_maria_klaus" and base.town == "the_ville"
    assert base.start == datetime(2023, 2, 13, 0, 0) and base.sec_per_step == 10
    people = {p.name: p for p in base.residents}
    assert list(people) == ["Isabella Rodriguez", "Maria Lopez", "Klaus Mueller"]
    assert {n: p.age for n, p in people.items()} == {
        "Isabella Rodriguez": 34,
        "Maria Lopez": 21,
        "Klaus Mueller": 20,
    }
    assert {n: p.start_tile for n, p in people.items()} == TILES
    assert people["Klaus Mueller"].living_area == "the Ville:Dorm for Oak Hill College:Klaus Mueller's room"
    assert people["Isabella Rodriguez"].living_area == "the Ville:Isabella Rodriguez's apartment:main room"
    isabella = people["Isabella Rodriguez"].known_places
    assert set(isabella["Isabella Rodriguez's apartment"]["main room"]) == {
        "bed",
        "desk",
        "refrigerator",
        "closet",
        "shelf",
    }
    assert "piano" in isabella["Hobbs Cafe"]["cafe"] and "Oak Hill College" not in isabella
    assert people["Maria Lopez"].known_places["Oak Hill College"]["hallway"] == []
    assert (people["Maria Lopez"].recency_decay, people["Isabella Rodriguez"].recency_decay) == (0.99, 0.995)
    assert {p.importance_trigger_max for p in base.residents} == {150}
    assert all(p.seed_memories == [] and p.learned and p.lifestyle for p in base.residents)
    assert validate_against_town(base, reference_town) == []


def test_history_csv_is_merged_into_seed_memories() -> None:
    base = load_base(ORIGINAL_N3, history_csv=HISTORY_N3)
    people = {p.name: p for p in base.residents}
    maria = people["Maria Lopez"].seed_memories
    assert any("crush on Klaus Mueller" in m for m in maria)
    assert all(";" not in m and m == m.strip() for p in base.residents for m in p.seed_memories)
    assert all(5 <= len(p.seed_memories) <= 8 for p in base.residents)


def test_history_csv_on_a_bundled_base_appends_after_its_own_seeds() -> None:
    own = load_base("base_the_ville_isabella_maria_klaus")
    merged = load_base("base_the_ville_isabella_maria_klaus", history_csv=HISTORY_N3)
    for before, after in zip(own.residents, merged.residents, strict=True):
        assert after.seed_memories[: len(before.seed_memories)] == before.seed_memories
        assert len(after.seed_memories) > len(before.seed_memories)


def test_renamed_copy_with_other_count_and_world(tmp_path: Path) -> None:
    folder = copy_original(tmp_path, "springfield_pair")
    rename_persona(folder, "Isabella Rodriguez", "Ada Quill")
    rename_persona(folder, "Klaus Mueller", "Ben van Ortega")
    meta = read_json(folder / "reverie" / "meta.json")
    meta["persona_names"] = ["Ben van Ortega", "Ada Quill"]  # drop Maria, change the order
    meta.update(maze_name="springfield", curr_time="March 01, 2024, 06:30:00", sec_per_step=30)
    write_json(folder / "reverie" / "meta.json", meta)
    shutil.rmtree(folder / "personas" / "Maria Lopez")
    spatial_path = folder / "personas" / "Ada Quill" / "bootstrap_memory" / "spatial_memory.json"
    spatial = read_json(spatial_path)
    write_json(spatial_path, {"Springfield": spatial.pop("the Ville")})
    scratch_path = folder / "personas" / "Ada Quill" / "bootstrap_memory" / "scratch.json"
    scratch = read_json(scratch_path)
    scratch["living_area"] = "Springfield:Quill house:workshop"
    write_json(scratch_path, scratch)

    base = load_base(folder)
    assert base.name == "springfield_pair" and base.town == "springfield" and base.sec_per_step == 30
    assert base.start == datetime(2024, 3, 1, 6, 30)
    ben, ada = base.residents
    assert (ben.name, ben.first_name, ben.last_name) == ("Ben van Ortega", "Ben", "van Ortega")
    assert (ada.start_tile, ben.start_tile) == ((72, 14), (126, 46))
    assert ada.living_area == "Springfield:Quill house:workshop"
    assert "Hobbs Cafe" in ada.known_places and ada.age == 34


def test_more_personas_than_the_original(tmp_path: Path) -> None:
    folder = copy_original(tmp_path)
    meta = read_json(folder / "reverie" / "meta.json")
    env = read_json(folder / "environment" / "0.json")
    for i in range(1, 4):
        name = f"Twin{i} Lopez"
        shutil.copytree(folder / "personas" / "Maria Lopez", folder / "personas" / name)
        scratch_path = folder / "personas" / name / "bootstrap_memory" / "scratch.json"
        write_json(scratch_path, {**read_json(scratch_path), "name": name, "first_name": f"Twin{i}"})
        meta["persona_names"].append(name)
        env[name] = {"maze": "the_ville", "x": 120 + i, "y": 57}
    write_json(folder / "reverie" / "meta.json", meta)
    write_json(folder / "environment" / "0.json", env)
    base = load_base(folder)
    assert len(base.residents) == 6
    assert base.residents[-1].name == "Twin3 Lopez" and base.residents[-1].start_tile == (123, 57)


def test_memory_stream_becomes_seed_memories_newest_last(tmp_path: Path) -> None:
    folder = copy_original(tmp_path)
    nodes_path = (
        folder / "personas" / "Klaus Mueller" / "bootstrap_memory" / "associative_memory" / "nodes.json"
    )

    def node(count: int, kind: str, created: str, description: str) -> dict:
        return {"node_count": count, "type_count": count, "type": kind, "depth": 0, "created": created,
                "expiration": None, "subject": "Klaus Mueller", "predicate": "is", "object": "x",
                "description": description, "embedding_key": description, "poignancy": 3,
                "keywords": [], "filling": []}  # fmt: skip

    write_json(
        nodes_path,
        {  # the original writes newest first; a hand-edited file may be in any order
            "node_5": node(5, "event", "2023-02-13 09:00:00", "Klaus Mueller is reading in the library"),
            "node_2": node(2, "event", "2023-02-13 07:30:00", "desk is idle"),
            "node_6": node(6, "event", "2023-02-13 09:30:00", "Klaus Mueller is walking to Hobbs Cafe"),
            "node_4": node(4, "chat", "2023-02-13 08:30:00", "conversing about breakfast"),
            "node_1": node(1, "event", "2023-02-13 07:00:00", "Klaus Mueller is reading in the library"),
            "node_3": node(3, "thought", "2023-02-13 08:10:00", "Klaus Mueller wants to finish his paper"),
        },
    )
    klaus = next(p for p in load_base(folder).residents if p.name == "Klaus Mueller")
    assert klaus.seed_memories == [
        "Klaus Mueller wants to finish his paper",  # the repeated event is kept once, where it was newest
        "Klaus Mueller is reading in the library",
        "Klaus Mueller is walking to Hobbs Cafe",
    ]


def test_missing_environment_file_leaves_start_tiles_to_the_runner(tmp_path: Path) -> None:
    folder = copy_original(tmp_path)
    (folder / "environment" / "0.json").unlink()
    assert all(p.start_tile is None for p in load_base(folder).residents)


# ------------------------------------------------------------------------------------- errors


def test_meta_names_a_missing_persona_folder(tmp_path: Path) -> None:
    folder = copy_original(tmp_path)
    meta = read_json(folder / "reverie" / "meta.json")
    meta["persona_names"].append("Nobody Here")
    write_json(folder / "reverie" / "meta.json", meta)
    message = error_of(folder)
    assert re.search(
        r"meta\.json: field 'persona_names' lists 'Nobody Here', but the folder .* does not exist", message
    )


def test_malformed_meta_json_names_line(tmp_path: Path) -> None:
    folder = copy_original(tmp_path)
    (folder / "reverie" / "meta.json").write_text('{\n  "step": 0,\n  "persona_names": [\n}\n')
    assert re.search(r"meta\.json: line 4, column 1: malformed JSON", error_of(folder))


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"persona_names": []}, r"meta\.json: field 'persona_names' must be a non-empty list"),
        ({"curr_time": "13/02/2023"}, r"meta\.json: field 'curr_time': cannot read '13/02/2023'"),
        ({"sec_per_step": "ten"}, r"meta\.json: field 'sec_per_step' must be a whole number >= 1"),
        ({"maze_name": None}, r"meta\.json: field 'maze_name' must be the name of the map"),
    ],
)
def test_bad_meta_fields(tmp_path: Path, change: dict, expected: str) -> None:
    folder = copy_original(tmp_path)
    write_json(folder / "reverie" / "meta.json", {**read_json(folder / "reverie" / "meta.json"), **change})
    assert re.search(expected, error_of(folder))


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("age", None, r"Maria Lopez/bootstrap_memory/scratch\.json: required field 'age' is missing"),
        ("age", "twenty", r"scratch\.json: field 'age': .*integer.*'twenty'"),
        (
            "name",
            "Maria Lopes",
            r"scratch\.json: field 'name' is 'Maria Lopes', but meta\.json and the folder",
        ),
        ("living_area", "dorm", r"scratch\.json: field 'living_area': expected 'world:sector:arena'"),
        ("vision_r", 0, r"scratch\.json: field 'vision_r': must be at least 1"),
    ],
)
def test_bad_scratch_fields(tmp_path: Path, field: str, value, expected: str) -> None:
    folder = copy_original(tmp_path)
    path = folder / "personas" / "Maria Lopez" / "bootstrap_memory" / "scratch.json"
    scratch = read_json(path)
    if value is None:
        del scratch[field]
    else:
        scratch[field] = value
    write_json(path, scratch)
    assert re.search(expected, error_of(folder))


def test_missing_spatial_memory(tmp_path: Path) -> None:
    folder = copy_original(tmp_path)
    (folder / "personas" / "Klaus Mueller" / "bootstrap_memory" / "spatial_memory.json").unlink()
    assert re.search(r"Klaus Mueller/bootstrap_memory/spatial_memory\.json: file not found", error_of(folder))


def test_bad_spatial_memory_shape(tmp_path: Path) -> None:
    folder = copy_original(tmp_path)
    path = folder / "personas" / "Klaus Mueller" / "bootstrap_memory" / "spatial_memory.json"
    write_json(path, {"the Ville": {"Hobbs Cafe": {"cafe": "piano"}}})
    assert (
        "spatial_memory.json: field 'the Ville.Hobbs Cafe.cafe' must be a list of object names"
        in error_of(folder)
    )


def test_bad_environment_entry(tmp_path: Path) -> None:
    folder = copy_original(tmp_path)
    env = read_json(folder / "environment" / "0.json")
    env["Maria Lopez"]["x"] = "left"
    write_json(folder / "environment" / "0.json", env)
    assert re.search(r"0\.json: field 'Maria Lopez': 'x' and 'y' must be tile numbers", error_of(folder))


def test_bad_memory_node(tmp_path: Path) -> None:
    folder = copy_original(tmp_path)
    path = folder / "personas" / "Maria Lopez" / "bootstrap_memory" / "associative_memory" / "nodes.json"
    write_json(path, {"node_1": {"type": "event", "created": "2023-02-13 07:00:00"}})
    assert "nodes.json: field 'node_1.description' must be text" in error_of(folder)


def test_meta_without_persona_folders(tmp_path: Path) -> None:
    folder = tmp_path / "half"
    write_json(folder / "reverie" / "meta.json", {"persona_names": ["A B"]})
    assert "has reverie/meta.json but no personas/<Full Name>/bootstrap_memory/scratch.json" in error_of(
        folder
    )


def test_history_csv_errors(tmp_path: Path) -> None:
    bad_name = tmp_path / "names.csv"
    bad_name.write_text("Name,Whisper\nMaria Lopez,likes tea\nKane Martinez,knows everyone\n")
    message = error_of(ORIGINAL_N3, history_csv=bad_name)
    assert re.search(r"names\.csv: line 3: field 'Name': 'Kane Martinez' is not a resident", message)
    assert "Maria Lopez" in message
    bad_header = tmp_path / "header.csv"
    bad_header.write_text("Who,What\nMaria Lopez,likes tea\n")
    assert "header.csv: line 1: expected the columns 'Name' and 'Whisper'" in error_of(
        ORIGINAL_N3, history_csv=bad_header
    )
    assert "missing.csv: file not found" in error_of(ORIGINAL_N3, history_csv=tmp_path / "missing.csv")
