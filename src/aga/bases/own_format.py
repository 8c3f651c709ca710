"""The on-disk format of aga's own bases: ``base.yaml`` plus one YAML file per resident.

Layout (documented for users in docs/bases.md)::

    <folder>/base.yaml                 name, description, town, start, sec_per_step, seed,
                                       persona_defaults (optional), personas (list of files),
                                       facts (optional: seeded facts, see SeededFact)
    <folder>/personas/<first>_<last>.yaml   one Persona each

Only ``personas`` is required in base.yaml; the rest falls back to the BaseSim defaults and the
folder name. ``persona_defaults`` holds fields shared by every resident (typically the memory
hyper-parameters); a persona file overrides them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from aga.bases._files import LineMap, describe_validation, line_of, read_yaml, require_mapping
from aga.bases.checks import check_persona, check_unique_names
from aga.bases.model import BaseSim, Persona
from aga.errors import BaseSimError

BASE_FILE = "base.yaml"
_BASE_KEYS = (
    "name",
    "description",
    "town",
    "start",
    "sec_per_step",
    "seed",
    "persona_defaults",
    "personas",
    "facts",
)
_IDENTITY = ("name", "first_name", "last_name")


def is_own_format(folder: Path) -> bool:
    """Whether ``folder`` holds a base of aga's own format."""
    return (folder / BASE_FILE).is_file()


def load_own_format(folder: Path) -> BaseSim:
    """Read a base folder of aga's own format.

    Args:
        folder: the folder holding ``base.yaml``.

    Raises:
        BaseSimError: a file is missing or malformed, a field is missing or has a wrong type,
            or two residents share a name. The message names the file, line and field.
    """
    base_path = folder / BASE_FILE
    data, lines = read_yaml(base_path)
    head = dict(require_mapping(data, base_path, "base.yaml"))
    for key in head:
        if key not in _BASE_KEYS:
            raise BaseSimError(
                f"{base_path}: line {lines.get((key,), '?')}: unknown field '{key}' "
                f"(known: {', '.join(_BASE_KEYS)})"
            )
    defaults = _persona_defaults(head.pop("persona_defaults", None), base_path, lines)
    files = _persona_files(head.pop("personas", None), base_path, lines)
    head.setdefault("name", folder.name)
    _check_start(head.get("start"), base_path, lines)

    residents: list[Persona] = []
    sources: list[Path] = []
    for index, relative in enumerate(files):
        where = f"{base_path} line {lines.get(('personas', index), '?')}"
        path = folder / relative
        residents.append(
            load_persona_file(path, defaults, listed_in=where, base_path=base_path, base_lines=lines)
        )
        sources.append(path)
    check_unique_names(residents, sources)
    try:
        sim = BaseSim.model_validate({**head, "residents": residents})
    except ValidationError as err:
        raise BaseSimError(describe_validation(err, base_path, lines)) from None
    if sim.start.tzinfo is not None:
        raise BaseSimError(
            f"{base_path}: line {lines.get(('start',), '?')}: field 'start': give a local time "
            f"without a time zone, e.g. 2023-02-13 00:00:00"
        )
    return sim


def load_persona_file(
    path: Path,
    defaults: Mapping[str, Any] | None = None,
    *,
    listed_in: str = "",
    base_path: Path | None = None,
    base_lines: LineMap | None = None,
) -> Persona:
    """Read one persona YAML file, filling absent fields from ``defaults``.

    ``first_name`` and ``last_name`` may be left out when ``name`` has at least two words:
    the first word is the first name, the rest the last name.

    Args:
        path: the persona file.
        defaults: the base's ``persona_defaults`` (already checked).
        listed_in: where the file is listed (for the "not found" message).
        base_path: base.yaml, named when a bad value came from its defaults.
        base_lines: the line map of base.yaml.
    """
    data, lines = read_yaml(path, listed_in=listed_in)
    own = dict(require_mapping(data, path, "a persona file"))
    _derive_names(own, path, lines)
    merged = {**(defaults or {}), **own}
    try:
        persona = Persona.model_validate(merged)
    except ValidationError as err:
        wrong = [p for p in err.errors(include_url=False) if p["type"] != "missing"]
        field = wrong[0]["loc"][0] if wrong and wrong[0]["loc"] else ""
        if field not in own and base_path is not None and field in (defaults or {}):
            raise BaseSimError(
                describe_validation(err, base_path, base_lines, prefix=("persona_defaults",))
            ) from None
        raise BaseSimError(describe_validation(err, path, lines)) from None
    check_persona(persona, path, {str(k[0]): v for k, v in lines.items() if len(k) == 1})
    return persona


def _derive_names(own: dict[str, Any], path: Path, lines: LineMap) -> None:
    """Fill first/last name from the full name when the file leaves them out."""
    name = own.get("name")
    if not isinstance(name, str) or ("first_name" in own and "last_name" in own):
        return
    words = name.split()
    if len(words) < 2:
        missing = "first_name" if "first_name" not in own else "last_name"
        raise BaseSimError(
            f"{path}: required field '{missing}' is missing (cannot be derived from the one-word "
            f"name {name!r} on line {line_of(lines, ('name',))})"
        )
    own.setdefault("first_name", words[0])
    own.setdefault("last_name", " ".join(words[1:]))


def _persona_defaults(value: Any, base_path: Path, lines: LineMap) -> dict[str, Any]:
    """Check ``persona_defaults``: a mapping of Persona fields other than the identity ones."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise BaseSimError(
            f"{base_path}: line {lines.get(('persona_defaults',), '?')}: field 'persona_defaults' "
            f"must be a mapping of persona fields"
        )
    for key in value:
        if key not in Persona.model_fields or key in _IDENTITY:
            raise BaseSimError(
                f"{base_path}: line {lines.get(('persona_defaults', key), '?')}: "
                f"field 'persona_defaults.{key}' is not a shared persona field"
            )
    return dict(value)


def _persona_files(value: Any, base_path: Path, lines: LineMap) -> list[str]:
    """Check ``personas``: a non-empty list of distinct relative file paths."""
    line = lines.get(("personas",))
    if value is None:
        raise BaseSimError(f"{base_path}: required field 'personas' is missing (list of persona files)")
    if not isinstance(value, list) or not value:
        raise BaseSimError(f"{base_path}: line {line}: field 'personas' must be a non-empty list of files")
    seen: set[str] = set()
    for index, item in enumerate(value):
        at = lines.get(("personas", index), line)
        if not isinstance(item, str) or not item.strip():
            raise BaseSimError(f"{base_path}: line {at}: field 'personas[{index}]' must be a file path")
        if Path(item).is_absolute() or ".." in Path(item).parts:
            raise BaseSimError(
                f"{base_path}: line {at}: field 'personas[{index}]': {item!r} must be a path inside the base folder"
            )
        if item in seen:
            raise BaseSimError(f"{base_path}: line {at}: field 'personas[{index}]': {item!r} is listed twice")
        seen.add(item)
    return list(value)


def _check_start(value: Any, base_path: Path, lines: LineMap) -> None:
    """A bare date would silently mean midnight; ask for the time too."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        raise BaseSimError(
            f"{base_path}: line {lines.get(('start',), '?')}: field 'start': give a date and a time, "
            f"e.g. 2023-02-13 00:00:00"
        )
