"""Small text helpers shared by the cognitive steps: persona block, time strings, keywords."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

_CAPITALISED = re.compile(r"\b[A-Z][a-z]+(?:\s+[A-Z][a-z]+)*")


@dataclass(frozen=True)
class Identity:
    """Who a resident is (the persona's text fields)."""

    name: str
    first_name: str
    last_name: str
    age: int
    innate: str
    learned: str
    currently: str
    lifestyle: str
    daily_plan_req: str
    living_area: str
    workplace: str | None = None
    """'sector' or 'sector:arena' where they work or study (the persona's ``workplace:``)."""

    def block(self) -> str:
        """The persona block put into prompts (stable within a day, for prefix caching)."""
        return (
            f"Name: {self.name} (age {self.age})\n"
            f"Traits: {self.innate}\n"
            f"About: {self.learned}\n"
            f"Currently: {self.currently}\n"
            f"Habits: {self.lifestyle}"
        )


def day_text(when: datetime) -> str:
    """'Monday February 13, 2023'."""
    return when.strftime("%A %B %d, %Y")


def clock(minute_of_day: int) -> str:
    """'07:30' for minute 450 ('24:00' for 1440)."""
    return f"{minute_of_day // 60:02d}:{minute_of_day % 60:02d}"


def minute_of_day(when: datetime) -> int:
    """Whole minutes since midnight."""
    return when.hour * 60 + when.minute


def ceil_minute(when: datetime) -> datetime:
    """``when`` rounded up to the next whole minute (unchanged if already whole)."""
    if when.second == 0 and when.microsecond == 0:
        return when
    return when.replace(second=0, microsecond=0) + timedelta(minutes=1)


def midnight(when: datetime) -> datetime:
    """Start of the day of ``when``."""
    return when.replace(hour=0, minute=0, second=0, microsecond=0)


def steps_until(now: datetime, later: datetime, sec_per_step: int) -> int:
    """Whole steps from ``now`` until ``later`` (at least 0, rounded up)."""
    secs = (later - now).total_seconds()
    return max(0, math.ceil(secs / sec_per_step))


def last_part(address: str) -> str:
    """The last ':' part of an address ('bed' of 'the Ville:...:bed')."""
    return address.rsplit(":", 1)[-1]


def subtask_text(description: str) -> str:
    """'working (brewing coffee)' -> 'brewing coffee'; text without parentheses unchanged."""
    if "(" in description and description.rstrip().endswith(")"):
        inner = description[description.rfind("(") + 1 : description.rstrip().rfind(")")].strip()
        if inner:
            return inner
    return description.strip()


_BASE_VERBS = frozenset(
    "go get have eat make take read write study work prepare open close clean cook brush shower wash "
    "watch play stream attend visit meet talk chat walk run shop buy sit relax rest sleep wake review "
    "check finish start begin plan organize organise decorate invite serve set do drink listen practice "
    "practise call help leave return head come arrive spend browse research analyze analyse discuss "
    "teach learn greet welcome tidy lie put stop sweep mop order pay grab pick drive bake brew restock "
    "count lock unlock dress change pack hang continue focus enjoy explore look sing paint draw edit "
    "record film stretch exercise jog swim think reflect update respond reply send email text".split()
)
_DOUBLED = frozenset("get sit run shop stop set put plan jog chat swim begin".split())
_MEALS = frozenset("breakfast lunch dinner brunch supper".split())


def _ing(verb: str) -> str:
    low = verb.lower()
    if low in _DOUBLED:
        return low + low[-1] + "ing"
    if low.endswith("ie"):
        return low[:-2] + "ying"
    if low.endswith("e") and not low.endswith(("ee", "ye", "oe")):
        return low[:-1] + "ing"
    return low + "ing"


def activity_phrase(text: str) -> str:
    """An activity as it reads after "X is": "go to work" -> "going to work", "Read and take
    notes" -> "reading and taking notes", "Lunch at the cafe" -> "having lunch at the cafe" (small
    models write plan items as commands or bare nouns). Other texts keep their words."""
    words = text.strip().split()
    if not words:
        return text.strip()
    first = words[0].lower()
    if first in _MEALS:
        return "having " + " ".join([first, *words[1:]])
    if first not in _BASE_VERBS:
        if first.endswith("ing") and words[0][:1].isupper():
            words[0] = first
        return " ".join(words)
    out = [_ing(words[0])]
    for prev, word in zip(words, words[1:]):
        out.append(_ing(word) if prev.lower() == "and" and word.lower() in _BASE_VERBS else word)
    return " ".join(out)


_STATE_CUT = re.compile(r"\s(?:for|to|by|with|while|and|as|so|in order)\s|[,.;:(]")


def state_word(state: str) -> str:
    """The short object of an object's state triple, the way ``object_event_triple`` is asked to
    answer it ("used", "occupied"): "being used to brew coffee" -> "used", "occupied by Klaus" ->
    "occupied", "turned on" -> "turned on". The purpose after "for", "to", "by" ... is left to the
    description: like the original's short triples, it does not make a new event of every subtask."""
    text = state.strip().lower()
    if text.startswith("the ") and " is " in text:  # "the bed is occupied"
        text = text.split(" is ", 1)[1]
    text = re.sub(r"^(?:it\s+|is\s+|being\s+|currently\s+)+", "", text)
    head = _STATE_CUT.split(f" {text} ", maxsplit=1)[0].split()
    return " ".join(head[:3]) or "used"


def event_sentence(subject: str, text: str) -> str:
    """'Isabella Rodriguez is brewing coffee' from a subject and an activity description."""
    return f"{last_part(subject)} is {subtask_text(text)}"


def proper_nouns(text: str) -> list[str]:
    """Capitalised word runs of ``text`` ('Maria Lopez', 'Hobbs Cafe'), lower-cased, in order."""
    out = [m.group(0).lower() for m in _CAPITALISED.finditer(text)]
    return list(dict.fromkeys(out))


def sentences(texts: Iterable[str]) -> str:
    """Memories as one paragraph: each text a sentence with its full stop ("Klaus Mueller is
    reading. Klaus Mueller is taking notes."); run together without them, a small model reads
    "Klaus Mueller is reading Klaus Mueller is taking notes" as one muddled statement."""
    out = []
    for text in texts:
        text = text.strip()
        if text:
            out.append(text if text[-1] in ".!?" else text + ".")
    return " ".join(out)


def numbered(lines: Sequence[str], start: int = 1) -> str:
    r"""'1. a\n2. b'."""
    return "\n".join(f"{i}. {line}" for i, line in enumerate(lines, start))


def transcript(lines: Iterable[Sequence[str]]) -> str:
    """'Name: utterance' lines of a conversation."""
    return "\n".join(f"{speaker}: {utt}" for speaker, utt in lines)


def chat_minutes(lines: Iterable[Sequence[str]]) -> int:
    """How long a conversation takes: the original's length rule, at least one minute."""
    chars = sum(len(f"{speaker}: {utt}\n") for speaker, utt in lines)
    return max(1, math.ceil((chars // 8) / 30))
