"""Reading YAML, JSON and CSV files of a base with errors that name the file, the line and the field.

Everything here raises :class:`aga.errors.BaseSimError` with one line of text. YAML documents are
read twice (once composed, to know on which line each key sits; once constructed, for the values);
base files are small, so that costs nothing worth measuring.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from aga.errors import BaseSimError

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

Loc = tuple[str | int, ...]
LineMap = dict[Loc, int]
"""Path of keys/indexes inside a document -> 1-based line where that key or item starts."""


def read_text(path: Path, *, listed_in: str = "") -> str:
    """The UTF-8 text of ``path``; a missing, unreadable or non-UTF-8 file is a BaseSimError.

    Args:
        path: the file to read.
        listed_in: where the file was referenced from (added to the "not found" message).
    """
    where = f" (listed in {listed_in})" if listed_in else ""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BaseSimError(f"{path}: file not found{where}") from None
    except IsADirectoryError:
        raise BaseSimError(f"{path}: expected a file, found a folder{where}") from None
    except UnicodeDecodeError as err:
        raise BaseSimError(f"{path}: not UTF-8 text (byte {err.start})") from None
    except OSError as err:
        raise BaseSimError(f"{path}: cannot read: {err.strerror}") from None


def read_yaml(path: Path, *, listed_in: str = "") -> tuple[Any, LineMap]:
    """Parse one YAML document and map its keys to line numbers.

    Duplicate keys in a mapping are rejected (YAML would silently keep the last one).

    Returns:
        ``(data, lines)``: the plain Python value and the key-path -> line map.
    """
    text = read_text(path, listed_in=listed_in)
    try:
        node = yaml.compose(text, Loader=_Loader)
        data = yaml.load(text, Loader=_Loader)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        place = f" line {mark.line + 1}, column {mark.column + 1}:" if mark is not None else ""
        problem = err.problem or err.context or "unreadable"
        raise BaseSimError(f"{path}:{place} malformed YAML: {problem}") from None
    except yaml.YAMLError as err:
        raise BaseSimError(f"{path}: malformed YAML: {str(err).splitlines()[0]}") from None
    lines: LineMap = {}
    if node is not None:
        _walk(node, (), lines, path)
    return data, lines


def _walk(node: yaml.Node, loc: Loc, lines: LineMap, path: Path) -> None:
    """Record the line of every key/item below ``node``; reject duplicate keys."""
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            line = key_node.start_mark.line + 1
            if key in seen:
                raise BaseSimError(
                    f"{path}: line {line}: key '{key}' appears twice (first on line {seen[key]})"
                )
            seen[key] = line
            lines[loc + (key,)] = line
            _walk(value_node, loc + (key,), lines, path)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines[loc + (index,)] = item.start_mark.line + 1
            _walk(item, loc + (index,), lines, path)


def read_json(path: Path, *, listed_in: str = "") -> Any:
    """Parse a JSON file; a syntax error names the line and column."""
    text = read_text(path, listed_in=listed_in)
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise BaseSimError(
            f"{path}: line {err.lineno}, column {err.colno}: malformed JSON: {err.msg}"
        ) from None


def line_of(lines: LineMap, loc: Sequence[str | int]) -> int | None:
    """Line of the deepest known prefix of ``loc`` (None when nothing matches)."""
    loc = tuple(loc)
    while loc:
        if loc in lines:
            return lines[loc]
        loc = loc[:-1]
    return None


def field_name(loc: Sequence[str | int]) -> str:
    """Render a pydantic location as ``known_places.Hobbs Cafe.cafe[0]``."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + str(part)
    return text or "(document)"


def describe_validation(
    err: ValidationError, path: Path, lines: LineMap | None = None, *, prefix: Loc = ()
) -> str:
    """One line naming the file, the line (when known) and the field of the first problem.

    Args:
        err: the pydantic error.
        path: the file the data came from.
        lines: the key-path -> line map of that file, if it is YAML.
        prefix: where the validated data sits inside the file (for nested documents).
    """
    problems = err.errors(include_url=False)
    missing = [field_name(prefix + tuple(p["loc"])) for p in problems if p["type"] == "missing"]
    others = [p for p in problems if p["type"] != "missing"]
    if not others:
        names = ", ".join(f"'{name}'" for name in missing)
        plural = "s" if len(missing) > 1 else ""
        return f"{path}: required field{plural} {names} {'are' if plural else 'is'} missing"
    first = others[0]
    loc = tuple(first["loc"])
    field = field_name(prefix + loc)
    line = line_of(lines or {}, prefix + loc)
    place = f"{path}: line {line}:" if line is not None else f"{path}:"
    if first["type"] == "extra_forbidden":
        text = f"{place} unknown field '{field}'"
    else:
        got = first.get("input")
        shown = repr(got) if isinstance(got, (str, int, float, bool)) or got is None else type(got).__name__
        text = f"{place} field '{field}': {first['msg']} (got {shown[:60]})"
    if len(others) > 1:
        text += f" (and {len(others) - 1} more problem{'s' if len(others) > 2 else ''})"
    if missing:
        text += f"; also missing: {', '.join(missing)}"
    return text


def require_mapping(data: Any, path: Path, what: str = "the file") -> Mapping[str, Any]:
    """``data`` as a mapping, or a BaseSimError saying what it is instead."""
    if not isinstance(data, Mapping):
        kind = "empty" if data is None else f"a {type(data).__name__}"
        raise BaseSimError(f"{path}: {what} must be a mapping of fields, found {kind}")
    return data
