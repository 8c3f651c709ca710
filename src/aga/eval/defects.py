"""Text defects small models make, each a pure function of one text and who wrote it.

- :func:`chat_third_person`: a speaker naming themself, or the listener not as a form of
  address ("I can't wait to meet Klaus Mueller", said to Klaus).
- :func:`thought_third_person`: a thought about oneself in the third person ("I'm looking
  forward to meeting Klaus Mueller", thought by Klaus).
- :func:`not_a_sentence`: a description that is not a sentence ("Klaus Mueller is Read and take
  notes in the library": a plan item pasted after "is").
- :func:`repeated_lines`: the same line said twice in one conversation.
- :func:`help_desk`: a chat line in an assistant's voice ("Can you please provide me with more
  information?"), the coder-tuned model slipping out of the resident.
- :func:`copied_subtasks`: a step of an activity that is another item of the day's plan
  ("Getting up (Read and take notes in the library)").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

_GREETINGS = (
    "hi",
    "hey",
    "hello",
    "thanks",
    "thank you",
    "dear",
    "oh",
    "yes",
    "no",
    "well",
    "sorry",
    "morning",
    "good morning",
    "good afternoon",
    "good evening",
    "bye",
    "goodbye",
    "see you",
    "ah",
    "welcome",
)
_FIRST_PERSON = re.compile(r"(?<![\w'])(i|i'm|i've|i'll|i'd|me|my|mine|myself)(?![\w'])", re.IGNORECASE)
_INTRO = re.compile(r"(?:\bi'm|\bi am|\bmy name is|\bthis is|\bcall me|\bit's)\s*$", re.IGNORECASE)
_BASE_VERBS = frozenset(
    "read take go eat have make write study get prepare attend talk chat check cook walk watch play stream "
    "brush wake work head spend finish start continue review grab buy visit meet help plan".split()
)


def _name_forms(full: str) -> list[str]:
    first = full.split()[0] if full.split() else full
    return [full] if first == full else [full, first]


def _occurrences(line: str, name: str) -> list[tuple[int, int]]:
    pat = re.compile(r"(?<![\w.@])" + re.escape(name) + r"(?![\w@]|\.\w)", re.IGNORECASE)
    return [(m.start(), m.end()) for m in pat.finditer(line)]


def _is_address(line: str, start: int, end: int) -> bool:
    """Whether the name at ``line[start:end]`` is a form of address (vocative)."""
    before = line[:start].rstrip()
    after = line[end:].lstrip()
    before_ok = (
        before == ""
        or before[-1] in ",.!?;:-—(\"'"
        or any(
            before.lower().endswith(g) and (len(before) == len(g) or not before[-len(g) - 1].isalnum())
            for g in _GREETINGS
        )
    )
    after_ok = after == "" or after[0] in ",.!?;:-—)\"'"
    return before_ok and after_ok


def _full_spans(line: str, full: str) -> list[tuple[int, int]]:
    return _occurrences(line, full)


def _mentions(line: str, full: str) -> list[tuple[int, int]]:
    """Spans naming ``full`` (the full name, or the first name outside a full name)."""
    spans = _full_spans(line, full)
    first = full.split()[0]
    if first != full:
        for s, e in _occurrences(line, first):
            if not any(fs <= s < fe for fs, fe in spans):
                spans.append((s, e))
    return sorted(spans)


def chat_third_person(speaker: str, listener: str, line: str) -> bool:
    """Whether ``speaker`` names themself, or names ``listener`` other than as a form of address.

    Introductions ("Hi, I'm Isabella") and addressing ("Hey Klaus!", "Thanks, Klaus.") do not fire.
    """
    for s, _ in _mentions(line, speaker):
        if not _INTRO.search(line[:s]):
            return True
    return any(not _is_address(line, s, e) for s, e in _mentions(line, listener))


def thought_third_person(agent: str, thought: str) -> bool:
    """Whether a thought of ``agent`` treats them as someone else: it speaks as "I" and names
    them, or names them twice (as its subject and again as its object)."""
    spans = _mentions(thought, agent)
    if not spans:
        return False
    if _FIRST_PERSON.search(thought):
        return True
    return len(_full_spans(thought, agent)) >= 2


_IS_WORD = re.compile(r"\b(is|are)\s+([A-Za-z][\w'-]*)")


def not_a_sentence(description: str, names: Iterable[str] = ()) -> bool:
    """Whether a description "S is P" pastes a plan item after "is": P starts with a
    capitalised word that is no name, or with a bare verb ("is read and take notes")."""
    proper = {w.lower() for n in names for w in n.split()}
    m = _IS_WORD.search(description)
    if m is None:
        return False
    word = m.group(2).split("'")[0]
    if word[0].isupper() and word.lower() not in proper and word not in ("I",):
        return True
    return word.lower() in _BASE_VERBS


_ASSISTANT = re.compile(
    r"\b(?:apologi[sz]e for (?:any|the) (?:confusion|inconvenience)|i apologi[sz]e|"
    r"as an (?:ai|assistant|ai language model|language model)|"
    r"(?:how|what) (?:can|may) i (?:help|assist|do for) you(?: with)?(?: today)?\?|"
    r"(?:provide|give) me (?:with )?(?:more|some|further|additional) (?:information|details|context)|"
    r"(?:could|can|would) you (?:please )?(?:clarify|specify|elaborate|provide)|"
    r"i'?m (?:sorry|afraid),? but i (?:can(?:no|')t|am unable|'?m unable|'?m not (?:sure|able)))",
    re.IGNORECASE,
)


def help_desk(line: str) -> bool:
    """Whether a chat line is said in an assistant's voice, not a resident's ("I apologize, but
    I'm not sure how to help with that. Could you please provide more details?")."""
    return _ASSISTANT.search(line) is not None


def _norm(line: str) -> str:
    return re.sub(r"[^\w ]+", "", " ".join(line.lower().split())).strip()


def repeated_lines(lines: Sequence[tuple[str, str]]) -> int:
    """How many lines of one conversation repeat an earlier line (same words, any speaker)."""
    seen: set[str] = set()
    count = 0
    for _, text in lines:
        key = _norm(text)
        if not key:
            continue
        if key in seen:
            count += 1
        seen.add(key)
    return count


def _subtask(activity: str) -> tuple[str, str] | None:
    text = activity.strip()
    if text.endswith(")") and " (" in text:
        at = text.index(" (")
        return text[:at].strip(), text[at + 2 : -1].strip()
    return None


def copied_subtasks(activities: Iterable[str]) -> list[str]:
    """Activities ``"item (step)"`` of one resident's day whose step is another item of that day."""
    acts = list(dict.fromkeys(activities))
    items = {_norm(p[0]) if (p := _subtask(a)) else _norm(a) for a in acts}
    out = []
    for a in acts:
        parts = _subtask(a)
        if parts and _norm(parts[1]) != _norm(parts[0]) and _norm(parts[1]) in items:
            out.append(a)
    return out
