"""Question sets: the built-in ``diffusion`` and ``battery`` sets, and question files.

A question may hold ``{name}`` (the resident asked) and ``{other}`` (another resident of the
simulation; the k-th question naming ``{other}`` takes the k-th other resident in name order,
round robin). A question file is YAML::

    name: friends                 # optional; default: the file's stem
    questions:
      - What do you think of {other}?
      - text: What are you most proud of, {name}?
        category: self-knowledge   # optional
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from aga.errors import InputError

_PLACEHOLDER = re.compile(r"\{(\w+)\}")
PLACEHOLDERS = ("name", "other")


@dataclass(frozen=True)
class Question:
    """One question of a set (``text`` may hold ``{name}`` / ``{other}``)."""

    text: str
    category: str = ""


@dataclass(frozen=True)
class QuestionSet:
    """A named list of questions."""

    name: str
    questions: tuple[Question, ...]

    @property
    def texts(self) -> list[str]:
        """The question texts, placeholders unfilled."""
        return [q.text for q in self.questions]


DIFFUSION = QuestionSet(
    "diffusion",
    (
        Question(
            "Have you heard of a Valentine's Day party Isabella Rodriguez is hosting? If you have, when and where is it?",
            "party",
        ),
        Question("Do you know of anyone who is running for mayor? Who is it?", "mayor"),
        Question("Did you go to Isabella's Valentine's Day party? If you did not, why not?", "attendance"),
    ),
)
"""What the affordable fork's ``-q`` asked everyone: the party, the mayoral race, going to the party."""

_BATTERY: dict[str, tuple[str, ...]] = {
    "self-knowledge": (
        "Tell me a little about yourself.",
        "What do you do for a living, or what are you studying?",
        "What matters most to you in life?",
        "How would the people who know you describe you?",
        "What does a usual day look like for you?",
    ),
    "memory": (
        "Who is {other}?",
        "What do you know about {other}?",
        "When did you last talk with {other}, and what was it about?",
        "Who have you met or seen today?",
        "What is the most important thing that happened to you recently?",
    ),
    "plans": (
        "What are you planning to do today?",
        "What will you be doing at ten in the morning?",
        "Where will you have lunch today, and with whom?",
        "What is the next thing you mean to do?",
        "What do you hope to get done this week?",
    ),
    "reactions": (
        "The stove is on fire while you cook breakfast. What do you do?",
        "{other} looks upset and sits down next to you. What do you do?",
        "You find out you have a whole free afternoon. How do you spend it?",
        "Someone you do not know asks you for directions to Hobbs Cafe. What do you say?",
        "{other} invites you to something on the same evening you had other plans. How do you answer?",
    ),
    "reflection": (
        "If you could spend an hour with one person you have met recently, who would it be and why?",
        "What have you learned about yourself lately?",
        "What would you change about the way you spend your days?",
        "Who do you feel closest to, and why?",
        "What worries you these days?",
    ),
}

BATTERY = QuestionSet(
    "battery",
    tuple(Question(text, category) for category, texts in _BATTERY.items() for text in texts),
)
"""25 questions, five in each of the five categories of the original's interviews."""

BUILT_IN: dict[str, QuestionSet] = {s.name: s for s in (DIFFUSION, BATTERY)}


def load_question_set(ref: str | Path) -> QuestionSet:
    """A built-in set by name (``diffusion``, ``battery``) or a YAML question file.

    Raises:
        InputError: neither a built-in set nor a readable question file (names the file and entry).
    """
    text = str(ref)
    if text in BUILT_IN:
        return BUILT_IN[text]
    path = Path(text)
    if not path.is_file():
        raise InputError(
            f"no question set {text!r}: built-in sets are {', '.join(BUILT_IN)}, or give a YAML question file"
        )
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        raise InputError(f"{path}{where}: not valid YAML ({getattr(err, 'problem', err)})") from None
    if isinstance(data, list):
        data = {"questions": data}
    if not isinstance(data, dict) or not isinstance(data.get("questions"), list) or not data["questions"]:
        raise InputError(f"{path}: expected a 'questions:' list with at least one question")
    questions: list[Question] = []
    for k, item in enumerate(data["questions"], 1):
        if isinstance(item, str):
            q = Question(item.strip())
        elif isinstance(item, dict) and isinstance(item.get("text"), str):
            q = Question(item["text"].strip(), str(item.get("category") or ""))
        else:
            raise InputError(f"{path}: question {k} must be a text or a mapping with 'text:'")
        if not q.text:
            raise InputError(f"{path}: question {k} is empty")
        for found in _PLACEHOLDER.findall(q.text):
            if found not in PLACEHOLDERS:
                raise InputError(
                    f"{path}: question {k} has placeholder {{{found}}}; only {{name}} and {{other}} are filled in"
                )
        questions.append(q)
    name = str(data.get("name") or path.stem)
    if not re.match(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$", name):
        raise InputError(f"{path}: set name {name!r} must be letters, digits, '_', '-' or '.'")
    return QuestionSet(name, tuple(questions))


def fill(questions: Sequence[str], name: str, others: Sequence[str]) -> list[str]:
    """The questions for resident ``name``: ``{name}`` filled in, ``{other}`` with the others in turn.

    A question naming ``{other}`` when there is nobody else is asked about "someone in town".
    """
    out: list[str] = []
    k = 0
    for text in questions:
        other = "someone in town"
        if "{other}" in text:
            if others:
                other = others[k % len(others)]
            k += 1
        out.append(text.replace("{name}", name).replace("{other}", other))
    return out
