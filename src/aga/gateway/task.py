"""Tasks: named prompt templates with the schema of their answer.

A template is a ``string.Template`` file. The part above a line holding only ``---`` is the
static instructions (sent first, as the system message); the part below is the changing input.
The gateway appends a fixed description of the answer format to the instructions (a compact JSON
shape derived from the schema), so the instructions stay identical from call to call and a local
model's prefix cache keeps working.
"""

from __future__ import annotations

import json
import string
from collections.abc import Callable, Hashable, Mapping
from dataclasses import KW_ONLY, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Generic, TypeVar, cast

from pydantic import BaseModel

from aga.errors import InputError
from aga.gateway.parsing import WrongAnswer

M = TypeVar("M", bound="BaseModel | None")  # None: a choice task (the answer is one of the options)

PROMPTS_DIR = Path(__file__).resolve().parent.parent / "prompts"
SEPARATOR = "---"

CHOICE_FORMAT = (
    'Answer with one JSON object and nothing else: {"choice": "<one option, copied exactly>"}. '
    "The options are listed at the end of the input."
)


@dataclass(frozen=True)
class Task(Generic[M]):
    """A named prompt and the shape of its answer.

    Args:
        name: the task name; the template is ``<template_dir>/<name>.txt`` and the name is the
            metrics key (``function_name_*.json``).
        schema: pydantic model of the answer, or None for a choice task.
        max_tokens: upper bound on the answer's tokens (always sent to the backend).
        temperature: sampling temperature.
        template_dir: where the template lives; ``src/aga/prompts`` by default.
        check: optional test of a valid answer for mistakes the schema cannot express (a
            subtask that repeats another plan item, ...): returns a one-line reason, or None
            when the answer is fine. A reason is treated like a schema error: the gateway
            re-asks with it and never returns that answer. Bind per call with
            ``dataclasses.replace(task, check=...)``; it is not part of the task's identity.
        hint: the name of at most one input the template need not show: it is handed to test
            doubles (``LLMRequest.hint``) and never sent to a model. Every other input must be
            used by the template.
    """

    name: str
    schema: type[M] | None
    _: KW_ONLY
    max_tokens: int
    temperature: float = 0.0
    template_dir: Path | None = field(default=None, compare=False)
    check: Callable[[Any], str | None] | None = field(default=None, compare=False, repr=False)
    hint: str | None = None

    def checked(self, answer: M) -> M:
        """``answer`` when :attr:`check` finds nothing wrong with it.

        Raises:
            WrongAnswer: the reason ``check`` gave (the gateway re-asks with it).
        """
        problem = self.check(answer) if self.check is not None else None
        if problem:
            raise WrongAnswer(problem)
        return answer

    def __post_init__(self) -> None:
        if self.template_dir is not None and not isinstance(self.template_dir, Path):
            object.__setattr__(self, "template_dir", Path(self.template_dir))

    @property
    def template_path(self) -> Path:
        """The template file of this task."""
        return (self.template_dir or PROMPTS_DIR) / f"{self.name}.txt"

    def json_schema(self) -> dict[str, Any] | None:
        """The JSON schema of the answer (None for choice tasks)."""
        return _json_schema(cast(Hashable, self.schema)) if self.schema is not None else None

    def placeholders(self) -> frozenset[str]:
        """The input names the template uses (its ``$name`` / ``${name}`` placeholders)."""
        instructions, body, _ = _load(str(self.template_path))
        return _names(instructions) | _names(body)

    def hint_of(self, vars: Mapping[str, Any]) -> Any:
        """The value of the declared hint input (None without a hint or when not given)."""
        return vars.get(self.hint) if self.hint is not None else None

    def render(self, vars: Mapping[str, Any]) -> tuple[str, str]:
        """Fill the template; returns ``(instructions, input)``.

        The instructions end with the fixed answer-format description.

        Raises:
            InputError: the template file is missing, names a placeholder ``vars`` lacks, or
                ``vars`` holds an input the template does not use (other than the declared hint);
                the message names the task, the template and the input names.
        """
        instructions, body, body_line = _load(str(self.template_path))
        path = self.template_path
        unused = sorted(set(vars) - self.placeholders() - ({self.hint} if self.hint else set()))
        if unused:
            raise InputError(
                f"task '{self.name}' ({path}): input(s) not used by the template: {', '.join(unused)}"
                " (drop them at the call site, use them in the template, or declare one as the task's hint)"
            )
        system = _substitute(instructions, vars, path, 1)
        user = _substitute(body, vars, path, body_line)
        fmt = CHOICE_FORMAT if self.schema is None else answer_format(self.json_schema() or {})
        system = f"{system.rstrip()}\n\n{fmt}" if system.strip() else fmt
        return system, user.strip()


def answer_format(schema: Mapping[str, Any]) -> str:
    """A short, fixed description of the JSON answer: one line with the object's shape.

    Alternatives are written ``a|b|c`` (numbers bare, texts quoted), free text as ``"<text>"``.
    """
    return f"Answer with one JSON object of this shape and nothing else: {_shape(schema, schema)}"


@lru_cache(maxsize=32)
def _json_schema(schema: type[BaseModel]) -> dict[str, Any]:
    return schema.model_json_schema()


@lru_cache(maxsize=256)
def _load(path: str) -> tuple[str, str, int]:
    """Read a template once: (instructions, input, first line number of the input)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"prompt template {path} not found") from None
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.strip() == SEPARATOR:
            return "\n".join(lines[:i]), "\n".join(lines[i + 1 :]), i + 2
    return "", text, 1


@lru_cache(maxsize=512)
def _names(text: str) -> frozenset[str]:
    """The placeholder names of a template text."""
    out = set()
    for m in string.Template.pattern.finditer(text):
        name = m.group("named") or m.group("braced")
        if name:
            out.add(name)
    return frozenset(out)


def _substitute(text: str, vars: Mapping[str, Any], path: Path, first_line: int) -> str:
    try:
        return string.Template(text).substitute({k: _as_text(v) for k, v in vars.items()})
    except KeyError as err:
        name = err.args[0]
        line = first_line + _line_of(text, name)
        raise InputError(
            f"{path}:{line}: placeholder ${name} has no value (inputs given: {', '.join(sorted(vars))})"
        ) from None
    except ValueError as err:
        raise InputError(f"{path}: bad placeholder in template: {err} (write $$ for a dollar sign)") from None


def _line_of(text: str, name: str) -> int:
    for i, line in enumerate(text.splitlines()):
        if f"${name}" in line or f"${{{name}}}" in line:
            return i
    return 0


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)):
        return "\n".join(_as_text(v) for v in value)
    return str(value)


def _shape(node: Mapping[str, Any], root: Mapping[str, Any], depth: int = 0) -> str:
    """Compact text showing the shape of a JSON-schema node."""
    if depth > 6:
        return "..."
    if "$ref" in node:
        node = _resolve(node["$ref"], root)
    if "const" in node:
        return json.dumps(node["const"], ensure_ascii=False)
    if "enum" in node:
        return "|".join(json.dumps(v, ensure_ascii=False) for v in node["enum"])
    for key in ("anyOf", "oneOf"):
        if key in node:
            options = [o for o in node[key] if o.get("type") != "null"]
            return _shape(options[0], root, depth + 1) if options else "null"
    kind = node.get("type")
    if kind == "object" or "properties" in node:
        inner = ", ".join(
            f"{json.dumps(k)}: {_shape(v, root, depth + 1)}" for k, v in node.get("properties", {}).items()
        )
        return "{" + inner + "}"
    if kind == "array":
        return "[" + _shape(node.get("items", {}), root, depth + 1) + ", ...]"
    if kind == "integer":
        return "<integer>"
    if kind == "number":
        return "<number>"
    if kind == "boolean":
        return "true|false"
    return '"<text>"'


def _resolve(ref: str, root: Mapping[str, Any]) -> Mapping[str, Any]:
    node: Any = root
    for part in ref.lstrip("#/").split("/"):
        node = node.get(part, {}) if isinstance(node, Mapping) else {}
    return node if isinstance(node, Mapping) else {}
