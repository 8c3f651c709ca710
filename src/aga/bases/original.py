"""Import a storage folder of the original Generative Agents format into a :class:`BaseSim`.

Recognised by ``reverie/meta.json`` plus ``personas/<Full Name>/bootstrap_memory/scratch.json``.
What is read (and nothing assumed about names, counts, the folder name or the world's name):

- ``reverie/meta.json``: ``curr_time`` (else ``start_date`` at midnight), ``sec_per_step``,
  ``maze_name`` (becomes the town name), ``persona_names``, ``step`` (default 0);
- per persona, ``bootstrap_memory/scratch.json``: identity texts, living area, hyper-parameters;
  ``spatial_memory.json``: world > sector > arena > objects, kept without the world level;
  ``associative_memory/nodes.json`` (optional): event and thought descriptions become seed
  memories, oldest first, newest last (chats and "is idle" events are left out);
- ``environment/<step>.json`` (optional): the start tile ``(x, y)``; without it the runner picks
  a spawn tile of the living area.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from aga.bases._files import describe_validation, read_json, require_mapping
from aga.bases.checks import check_persona, check_unique_names
from aga.bases.model import BaseSim, KnownPlaces, Persona
from aga.errors import BaseSimError

META = Path("reverie") / "meta.json"
_TIME_FORMAT = "%B %d, %Y, %H:%M:%S"
_DATE_FORMAT = "%B %d, %Y"
_NODE_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
_SCRATCH_FIELDS = (
    "name", "first_name", "last_name", "age", "innate", "learned", "currently", "lifestyle",
    "daily_plan_req", "living_area", "vision_r", "att_bandwidth", "retention", "recency_decay",
    "importance_trigger_max", "recency_w", "relevance_w", "importance_w",
)  # fmt: skip
_OPTIONAL_SCRATCH = {"daily_plan_req"}


def is_original_format(folder: Path) -> bool:
    """Whether ``folder`` looks like an original-format storage folder."""
    if not (folder / META).is_file():
        return False
    personas = folder / "personas"
    return personas.is_dir() and any(
        (child / "bootstrap_memory" / "scratch.json").is_file() for child in personas.iterdir()
    )


def load_original_format(folder: Path) -> BaseSim:
    """Read an original-format storage folder.

    Raises:
        BaseSimError: meta.json or a persona file is missing or malformed, meta.json names a
            persona folder that does not exist, or a scratch field is missing or mistyped.
    """
    meta_path = folder / META
    meta = require_mapping(read_json(meta_path), meta_path, "meta.json")
    names = _persona_names(meta, meta_path)
    start = _start_time(meta, meta_path)
    step = _int_field(meta, "step", meta_path, default=0, minimum=0)
    sec_per_step = _int_field(meta, "sec_per_step", meta_path, minimum=1)
    town = meta.get("maze_name")
    if not isinstance(town, str) or not town.strip():
        raise BaseSimError(f"{meta_path}: field 'maze_name' must be the name of the map, got {town!r}")
    tiles = _start_tiles(folder / "environment" / f"{step}.json")

    residents: list[Persona] = []
    sources: list[Path] = []
    for name in names:
        memory_dir = folder / "personas" / name / "bootstrap_memory"
        if not memory_dir.is_dir():
            raise BaseSimError(
                f"{meta_path}: field 'persona_names' lists {name!r}, but the folder {memory_dir} does not exist"
            )
        residents.append(_load_persona(memory_dir, name, tiles.get(name)))
        sources.append(memory_dir / "scratch.json")
    check_unique_names(residents, sources)
    return BaseSim(
        name=folder.name,
        description=f"imported from the original-format storage folder {folder.name}",
        town=town.strip(),
        start=start,
        sec_per_step=sec_per_step,
        seed=0,
        residents=residents,
    )


def _persona_names(meta: Mapping[str, Any], meta_path: Path) -> list[str]:
    names = meta.get("persona_names")
    if not isinstance(names, list) or not names:
        raise BaseSimError(f"{meta_path}: field 'persona_names' must be a non-empty list of full names")
    seen: set[str] = set()
    for index, name in enumerate(names):
        if not isinstance(name, str) or not name.strip():
            raise BaseSimError(
                f"{meta_path}: field 'persona_names[{index}]' must be a full name, got {name!r}"
            )
        if name in seen:
            raise BaseSimError(f"{meta_path}: field 'persona_names[{index}]': {name!r} is listed twice")
        seen.add(name)
    return list(names)


def _start_time(meta: Mapping[str, Any], meta_path: Path) -> dt.datetime:
    """``curr_time`` if present, else ``start_date`` at midnight."""
    for field, fmt in (("curr_time", _TIME_FORMAT), ("start_date", _DATE_FORMAT)):
        value = meta.get(field)
        if value is None:
            continue
        if not isinstance(value, str):
            raise BaseSimError(f"{meta_path}: field '{field}' must be text like 'February 13, 2023'")
        try:
            return dt.datetime.strptime(value.strip(), fmt)
        except ValueError:
            example = "February 13, 2023, 00:00:00" if field == "curr_time" else "February 13, 2023"
            raise BaseSimError(
                f"{meta_path}: field '{field}': cannot read {value!r} as a time like {example!r}"
            ) from None
    raise BaseSimError(f"{meta_path}: required field 'curr_time' (or 'start_date') is missing")


def _int_field(
    data: Mapping[str, Any], field: str, path: Path, *, default: int | None = None, minimum: int = 0
) -> int:
    value = data.get(field, default)
    if value is None:
        raise BaseSimError(f"{path}: required field '{field}' is missing")
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise BaseSimError(f"{path}: field '{field}' must be a whole number >= {minimum}, got {value!r}")
    return value


def _start_tiles(path: Path) -> dict[str, tuple[int, int]]:
    """Name -> (x, y) from an environment file; {} when the file does not exist."""
    if not path.is_file():
        return {}
    data = require_mapping(read_json(path), path, "an environment file")
    tiles: dict[str, tuple[int, int]] = {}
    for name, entry in data.items():
        if not isinstance(entry, Mapping):
            raise BaseSimError(f"{path}: field '{name}' must be an object with 'x' and 'y'")
        xy = [entry.get("x"), entry.get("y")]
        if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in xy):
            raise BaseSimError(f"{path}: field '{name}': 'x' and 'y' must be tile numbers >= 0, got {xy}")
        tiles[name] = (int(xy[0] or 0), int(xy[1] or 0))  # both checked above
    return tiles


def _load_persona(memory_dir: Path, name: str, tile: tuple[int, int] | None) -> Persona:
    scratch_path = memory_dir / "scratch.json"
    scratch = require_mapping(read_json(scratch_path), scratch_path, "scratch.json")
    fields: dict[str, Any] = {}
    for field in _SCRATCH_FIELDS:
        if field in scratch and scratch[field] is not None:
            fields[field] = scratch[field]
        elif field in _OPTIONAL_SCRATCH:
            fields[field] = ""
    if "name" not in fields:
        raise BaseSimError(f"{scratch_path}: required field 'name' is missing")
    if fields["name"] != name:
        raise BaseSimError(
            f"{scratch_path}: field 'name' is {fields['name']!r}, but meta.json and the folder "
            f"name say {name!r}"
        )
    spatial_path = memory_dir / "spatial_memory.json"
    fields["known_places"] = _known_places(spatial_path)
    fields["seed_memories"] = _seed_memories(memory_dir / "associative_memory" / "nodes.json")
    fields["start_tile"] = tile
    try:
        persona = Persona.model_validate(fields)
    except ValidationError as err:
        path = spatial_path if err.errors()[0]["loc"][:1] == ("known_places",) else scratch_path
        raise BaseSimError(describe_validation(err, path)) from None
    check_persona(persona, scratch_path)
    return persona


def _known_places(path: Path) -> KnownPlaces:
    """World > sector > arena > objects, merged over worlds, without the world level."""
    tree = require_mapping(read_json(path), path, "spatial_memory.json")
    places: KnownPlaces = {}
    for world, sectors in tree.items():
        if not isinstance(sectors, Mapping):
            raise BaseSimError(f"{path}: field '{world}' must map sectors to arenas")
        for sector, arenas in sectors.items():
            if not isinstance(arenas, Mapping):
                raise BaseSimError(f"{path}: field '{world}.{sector}' must map arenas to object lists")
            known = places.setdefault(sector.strip(), {})
            for arena, objects in arenas.items():
                if not isinstance(objects, list) or not all(isinstance(o, str) for o in objects):
                    raise BaseSimError(
                        f"{path}: field '{world}.{sector}.{arena}' must be a list of object names"
                    )
                merged = known.setdefault(arena.strip(), [])
                merged.extend(o.strip() for o in objects if o.strip() not in merged)
    return places


def _seed_memories(path: Path) -> list[str]:
    """Event and thought descriptions of a memory stream, oldest first; [] when there is none."""
    if not path.is_file():
        return []
    nodes = require_mapping(read_json(path), path, "nodes.json")
    dated: list[tuple[dt.datetime, int, str]] = []
    for node_id, node in nodes.items():
        if not isinstance(node, Mapping):
            raise BaseSimError(f"{path}: field '{node_id}' must be a memory node object")
        kind = node.get("type")
        if kind not in ("event", "thought", "chat"):
            raise BaseSimError(f"{path}: field '{node_id}.type' must be event, thought or chat, got {kind!r}")
        if kind == "chat":
            continue
        text = node.get("description")
        if not isinstance(text, str):
            raise BaseSimError(f"{path}: field '{node_id}.description' must be text, got {text!r}")
        created = node.get("created")
        try:
            when = dt.datetime.strptime(str(created), _NODE_TIME_FORMAT)
        except ValueError:
            raise BaseSimError(
                f"{path}: field '{node_id}.created': cannot read {created!r} as 'YYYY-MM-DD HH:MM:SS'"
            ) from None
        count = node.get("node_count")
        order = count if isinstance(count, int) else _id_number(node_id)
        text = text.strip()
        if text and not (kind == "event" and text.endswith(" is idle")):
            dated.append((when, order, text))
    dated.sort(key=lambda item: (item[0], item[1]))
    newest_position = {text: index for index, (_, _, text) in enumerate(dated)}
    return [text for index, (_, _, text) in enumerate(dated) if newest_position[text] == index]


def _id_number(node_id: str) -> int:
    """The number in ``node_<n>`` (0 when there is none), to order nodes without node_count."""
    digits = node_id.rsplit("_", 1)[-1]
    return int(digits) if digits.isdigit() else 0
