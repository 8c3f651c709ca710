"""aga's own base format: loading folders, defaults, and one clear error per kind of mistake."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from aga.bases import load_base
from aga.errors import BaseSimError

PERSONA = """\
name: Ada Quill
age: 30
innate: calm, precise, kind
learned: Ada Quill repairs clocks in a small workshop.
currently: Ada Quill is restoring an old tower clock.
lifestyle: Ada goes to bed around 10 pm and wakes up around 6 am; eats lunch around noon.
living_area: "Springfield:Quill house:workshop"
known_places:
  Quill house:
    workshop: [bench, bed]
seed_memories:
  - Ada Quill promised the mayor the tower clock by Friday.
"""

SECOND = PERSONA.replace("Ada Quill", "Ben Ortega").replace("Ada goes", "Ben goes")


def make_base(root: Path, persona_texts: dict[str, str] | None = None, head: str | None = None) -> Path:
    """Write a small base of our format (two residents unless told otherwise)."""
    texts = (
        persona_texts if persona_texts is not None else {"ada_quill.yaml": PERSONA, "ben_ortega.yaml": SECOND}
    )
    folder = root / "tiny_base"
    (folder / "personas").mkdir(parents=True)
    for file_name, text in texts.items():
        (folder / "personas" / file_name).write_text(text, encoding="utf-8")
    listing = "".join(f"  - personas/{file_name}\n" for file_name in texts)
    if head is None:
        head = (
            "description: two clock makers\ntown: springfield\nstart: 2024-05-01 06:30:00\nsec_per_step: 30\n"
        )
        head += "seed: 7\npersona_defaults:\n  recency_decay: 0.98\n  vision_r: 5\n"
    (folder / "base.yaml").write_text(head + "personas:\n" + listing, encoding="utf-8")
    return folder


def error_of(target) -> str:
    with pytest.raises(BaseSimError) as info:
        load_base(target)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_loads_a_folder_with_defaults_and_derived_names(tmp_path: Path) -> None:
    base = load_base(make_base(tmp_path))
    assert base.name == "tiny_base" and base.town == "springfield" and base.seed == 7
    assert base.start.isoformat() == "2024-05-01T06:30:00" and base.sec_per_step == 30
    ada, ben = base.residents
    assert (ada.first_name, ada.last_name, ben.name) == ("Ada", "Quill", "Ben Ortega")
    assert ada.recency_decay == 0.98 and ada.vision_r == 5 and ada.retention == 8
    assert ada.known_places == {"Quill house": {"workshop": ["bench", "bed"]}}
    assert ada.seed_memories == ["Ada Quill promised the mayor the tower clock by Friday."]


def test_persona_file_overrides_defaults_and_base_yaml_path_works(tmp_path: Path) -> None:
    folder = make_base(tmp_path, {"ada.yaml": PERSONA + "vision_r: 3\n"})
    base = load_base(folder / "base.yaml")
    assert base.residents[0].vision_r == 3 and base.residents[0].recency_decay == 0.98


def test_bundled_copy_loads_from_its_folder(tmp_path: Path) -> None:
    import aga.bases

    source = Path(aga.bases.__file__).parent / "base_the_ville_isabella_maria_klaus"
    copy = shutil.copytree(source, tmp_path / "edited")
    assert [p.name for p in load_base(copy).residents] == [
        "Isabella Rodriguez",
        "Maria Lopez",
        "Klaus Mueller",
    ]


def test_unknown_name_lists_the_bundled_bases() -> None:
    message = error_of("base_of_nowhere")
    assert "unknown base 'base_of_nowhere'" in message and "base_the_ville_n25" in message


def test_empty_name() -> None:
    assert "no base given" in error_of("")


def test_missing_folder(tmp_path: Path) -> None:
    assert "base folder not found" in error_of(tmp_path / "nope")


def test_folder_that_is_not_a_base(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    assert re.search(r"empty: not a base folder: expected base\.yaml", error_of(tmp_path / "empty"))


def test_malformed_yaml_names_file_and_line(tmp_path: Path) -> None:
    folder = make_base(tmp_path, {"ada.yaml": PERSONA.replace("age: 30", "age: [30")})
    message = error_of(folder)
    assert "ada.yaml" in message and re.search(r"line \d+, column \d+: malformed YAML", message)


def test_duplicate_key_names_both_lines(tmp_path: Path) -> None:
    folder = make_base(tmp_path, {"ada.yaml": PERSONA + "age: 31\n"})
    assert re.search(r"ada\.yaml: line 13: key 'age' appears twice \(first on line 2\)", error_of(folder))


def test_missing_required_field(tmp_path: Path) -> None:
    folder = make_base(tmp_path, {"ada.yaml": PERSONA.replace("age: 30\n", "")})
    assert re.search(r"ada\.yaml: required field 'age' is missing", error_of(folder))


def test_all_missing_fields_are_named_at_once(tmp_path: Path) -> None:
    folder = make_base(tmp_path, {"ada.yaml": "name: Ada Quill\nage: 30\ninnate: a, b, c\n"})
    message = error_of(folder)
    assert (
        "ada.yaml: required fields 'learned', 'currently', 'lifestyle', 'living_area' are missing" in message
    )


def test_wrong_type_names_line_and_field(tmp_path: Path) -> None:
    folder = make_base(tmp_path, {"ada.yaml": PERSONA.replace("age: 30", "age: thirty")})
    message = error_of(folder)
    assert re.search(r"ada\.yaml: line 2: field 'age': .*integer.*'thirty'", message)


def test_wrong_nested_type_names_the_path(tmp_path: Path) -> None:
    folder = make_base(tmp_path, {"ada.yaml": PERSONA.replace("[bench, bed]", "bench")})
    assert re.search(r"ada\.yaml: line 10: field 'known_places\.Quill house\.workshop'", error_of(folder))


def test_unknown_field_is_rejected(tmp_path: Path) -> None:
    folder = make_base(tmp_path, {"ada.yaml": PERSONA + "favourite_colour: blue\n"})
    assert re.search(r"ada\.yaml: line 13: unknown field 'favourite_colour'", error_of(folder))


def test_bad_default_names_base_yaml(tmp_path: Path) -> None:
    head = "persona_defaults:\n  vision_r: far\n"
    message = error_of(make_base(tmp_path, head=head))
    assert re.search(r"base\.yaml: line 2: field 'persona_defaults\.vision_r'", message)


def test_identity_fields_are_not_defaults(tmp_path: Path) -> None:
    message = error_of(make_base(tmp_path, head="persona_defaults:\n  name: Everyone\n"))
    assert "base.yaml: line 2: field 'persona_defaults.name' is not a shared persona field" in message


def test_unknown_base_field(tmp_path: Path) -> None:
    message = error_of(make_base(tmp_path, head="twon: springfield\n"))
    assert "base.yaml: line 1: unknown field 'twon'" in message


def test_missing_persona_file_names_the_listing_line(tmp_path: Path) -> None:
    folder = make_base(tmp_path)
    (folder / "personas" / "ben_ortega.yaml").unlink()
    message = error_of(folder)
    assert re.search(r"ben_ortega\.yaml: file not found \(listed in .*base\.yaml line \d+\)", message)


def test_personas_list_missing_or_empty(tmp_path: Path) -> None:
    folder = make_base(tmp_path)
    (folder / "base.yaml").write_text("town: the_ville\n")
    assert "required field 'personas' is missing" in error_of(folder)
    (folder / "base.yaml").write_text("personas: []\n")
    assert "line 1: field 'personas' must be a non-empty list" in error_of(folder)


def test_persona_path_must_stay_inside_the_folder(tmp_path: Path) -> None:
    folder = make_base(tmp_path)
    (folder / "base.yaml").write_text("personas:\n  - ../../etc/passwd\n")
    assert "must be a path inside the base folder" in error_of(folder)


def test_duplicate_resident_names(tmp_path: Path) -> None:
    folder = make_base(tmp_path, {"ada.yaml": PERSONA, "ada_again.yaml": PERSONA})
    message = error_of(folder)
    assert re.search(
        r"ada_again\.yaml: field 'name': resident 'Ada Quill' is already defined in .*ada\.yaml", message
    )


def test_bad_living_area(tmp_path: Path) -> None:
    folder = make_base(
        tmp_path, {"ada.yaml": PERSONA.replace("Springfield:Quill house:workshop", "workshop")}
    )
    assert re.search(
        r"ada\.yaml: line 7: field 'living_area': expected 'world:sector:arena'", error_of(folder)
    )


def test_empty_text_field(tmp_path: Path) -> None:
    folder = make_base(tmp_path, {"ada.yaml": PERSONA.replace("calm, precise, kind", '" "')})
    assert re.search(r"ada\.yaml: line 3: field 'innate': must not be empty", error_of(folder))


def test_one_word_name_needs_explicit_first_and_last(tmp_path: Path) -> None:
    folder = make_base(tmp_path, {"ada.yaml": PERSONA.replace("name: Ada Quill", "name: Ada")})
    assert "required field 'first_name' is missing" in error_of(folder)


def test_start_with_time_zone_or_without_time(tmp_path: Path) -> None:
    folder = make_base(tmp_path, head="start: 2024-05-01 06:30:00+02:00\n")
    assert "field 'start': give a local time without a time zone" in error_of(folder)
    (folder / "base.yaml").write_text("start: 2024-05-01\npersonas: [personas/ada_quill.yaml]\n")
    assert "field 'start': give a date and a time" in error_of(folder)


def test_persona_file_that_is_not_a_mapping(tmp_path: Path) -> None:
    folder = make_base(tmp_path, {"ada.yaml": "- just\n- a list\n"})
    assert "ada.yaml: a persona file must be a mapping of fields, found a list" in error_of(folder)


def test_non_utf8_file(tmp_path: Path) -> None:
    folder = make_base(tmp_path)
    (folder / "personas" / "ada_quill.yaml").write_bytes(b"name: Ad\xe9\n")
    assert "ada_quill.yaml: not UTF-8 text" in error_of(folder)
