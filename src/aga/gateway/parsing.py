"""Reading a model's answer: find the JSON object, check it against the schema or the options.

Models wrap JSON in code fences, prose or both; small local models add preambles. We take the
first balanced ``{...}`` that parses and validate it. Every failure is an ``AnswerProblem`` whose
message is short enough to send back to the model as a repair note.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


class AnswerProblem(ValueError):
    """The answer could not be read or did not fit; the message explains it in one line."""


class WrongAnswer(AnswerProblem):
    """The answer fits its schema but is wrong in a way a task's check can tell (a plan without
    dinner, a chat line about the listener): a re-ask shows it in plain words, not as JSON."""


def in_words(text: str) -> str:
    """A valid answer's values in plain words ("get up, 6; having lunch, 12"), for a re-ask: a
    small model shown its JSON answer again copies it back word for word (the 1.5B model did so
    on 2 of 2 day plans at temperatures 0.5 and 0.8, and changed it when shown its values)."""

    def flat(value: Any) -> str:
        if isinstance(value, dict):
            return ", ".join(flat(v) for v in value.values())
        if isinstance(value, list):
            return "; ".join(flat(v) for v in value)
        if isinstance(value, bool):
            return "yes" if value else "no"
        return str(value)

    try:
        return flat(extract_object(text))
    except AnswerProblem:
        return text


def extract_object(text: str) -> dict[str, Any]:
    """The first balanced JSON object in ``text`` that parses.

    Raises:
        AnswerProblem: there is no JSON object in the text.
    """
    start = text.find("{")
    if start < 0:
        raise AnswerProblem("the answer holds no JSON object")
    last_error = "the JSON object is not closed (answer cut short?)"
    while start >= 0:
        end = _balanced_end(text, start)
        if end is None:
            break
        try:
            value = json.loads(text[start : end + 1])
        except json.JSONDecodeError as err:
            last_error = f"the JSON object does not parse: {err.msg} at character {err.pos}"
        else:
            if isinstance(value, dict):
                return value
        start = text.find("{", start + 1)
    raise AnswerProblem(last_error)


def _balanced_end(text: str, start: int) -> int | None:
    """Index of the brace closing the one at ``start`` (string-aware), or None."""
    depth = 0
    in_string = False
    escaped = False
    for i in range(start, len(text)):
        ch = text[i]
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return i
    return None


def parse_answer(text: str, schema: type[M]) -> M:
    """The answer as an instance of ``schema``.

    Raises:
        AnswerProblem: no JSON object, or it does not fit the schema (message names the fields).
    """
    data = extract_object(text)
    try:
        return schema.model_validate(data)
    except ValidationError as err:
        raise AnswerProblem(_describe(err)) from None


def _describe(err: ValidationError) -> str:
    parts = []
    for e in err.errors()[:3]:
        where = ".".join(str(p) for p in e["loc"]) or "answer"
        parts.append(f"{where}: {e['msg']}")
    more = f" (+{err.error_count() - 3} more)" if err.error_count() > 3 else ""
    return "; ".join(parts) + more


_SPACES = re.compile(r"\s+")
_EDGES = " \t\r\n\"'`.,;:!*-"


def normalise(text: str) -> str:
    """Case-folded, whitespace-collapsed text without surrounding quotes or punctuation."""
    return _SPACES.sub(" ", text.strip(_EDGES)).casefold().strip(_EDGES)


def match_choice(text: str, options: Sequence[str]) -> str:
    """The option the answer names (exact, or case- and space-insensitive).

    Accepts ``{"choice": "..."}`` anywhere in the text, or the bare option as the whole answer.

    Raises:
        AnswerProblem: the answer names none of the options.
    """
    candidate: str
    try:
        data = extract_object(text)
    except AnswerProblem:
        candidate = text
    else:
        value = data.get("choice")
        if value is None and len(data) == 1:
            value = next(iter(data.values()))
        if not isinstance(value, (str, int, float)):
            raise AnswerProblem('the answer has no "choice" field holding one of the options')
        candidate = str(value)
    if candidate in options:
        return candidate
    wanted = normalise(candidate)
    for option in options:
        if normalise(option) == wanted:
            return option
    shown = candidate if len(candidate) <= 80 else candidate[:77] + "..."
    raise AnswerProblem(f"{shown!r} is not one of the options; copy one option exactly")
