"""Who a chat line is said to: names said to their bearer, and a line put into the second person.

A small model often writes a line about the listener instead of to them ("I'm glad Klaus Mueller
wants to learn about it", said to Klaus). :func:`to_listener` turns the simple cases into "you"
("I'm glad you want to learn about it") before the line is checked, so that a conversation does
not end because three re-asks came back in the third person again. It rewrites only what it can
rewrite safely and gives up (None) otherwise; the line is then re-asked as before.
"""

from __future__ import annotations

import re

GREETING = re.compile(
    r"(?:^|[\s,.!?;:(\"'-])(?:hi|hey|hello|yes|yeah|no|oh|well|thanks|thank you|sure|dear|good morning|morning)$"
)


def vocative(low: str, start: int, end: int) -> bool:
    """Whether the name at ``low[start:end]`` is said to its bearer ("Yes, Klaus Mueller, ...",
    "Hi Klaus Mueller!"): it stands after the start, a punctuation mark or a greeting, and before
    a punctuation mark or the end."""
    before, after = low[:start].rstrip(), low[end:].lstrip()
    before_ok = not before or before[-1] in ",.!?;:-(\"'" or bool(GREETING.search(before))
    return before_ok and (not after or after[0] in ",.!?;:-)\"'")


_YOU_VERB = {
    "is": "are",
    "was": "were",
    "has": "have",
    "does": "do",
    "isn't": "aren't",
    "wasn't": "weren't",
    "hasn't": "haven't",
    "doesn't": "don't",
    "cares": "care",
    "comes": "come",
    "enjoys": "enjoy",
    "feels": "feel",
    "gets": "get",
    "goes": "go",
    "helps": "help",
    "hopes": "hope",
    "keeps": "keep",
    "knows": "know",
    "likes": "like",
    "looks": "look",
    "loves": "love",
    "makes": "make",
    "needs": "need",
    "plans": "plan",
    "says": "say",
    "seems": "seem",
    "sounds": "sound",
    "spends": "spend",
    "studies": "study",
    "thinks": "think",
    "tries": "try",
    "wants": "want",
    "works": "work",
    "writes": "write",
}
"""A third-person verb after the listener's name and its form after "you"."""

_NOT_VERBS = {"as", "across", "besides", "plus", "thus", "towards", "this", "always", "perhaps", "us"}
"""Words ending in "s" that are not a third-person verb after a name ("Klaus as well")."""

_PRONOUN = re.compile(r"\b(?:he|she|him|his|her|hers|himself|herself)\b", re.IGNORECASE)
"""A line with these may speak of the listener twice over; it is left for a re-ask."""


def to_listener(line: str, listener: str) -> str | None:
    """``line`` with each mention of ``listener`` that is not a greeting or a call by name
    turned into "you" (or "your"), the verb after it agreeing; the line unchanged when there is
    no such mention; None when a mention cannot be rewritten safely (a he/she in the line, a
    verb not known)."""
    full, first = listener, listener.split()[0]
    pattern = re.compile(
        rf"\b(?:{re.escape(full)}|{re.escape(first)})(?![\w-])('s\b|')?(\s+([A-Za-z']+))?", re.IGNORECASE
    )
    low = line.casefold()
    out: list[str] = []
    at = 0
    changed = False
    for m in pattern.finditer(line):
        name_end = m.start() + len(m.group(0)) - len(m.group(1) or "") - len(m.group(2) or "")
        if not m.group(1) and vocative(low, m.start(), name_end):
            continue
        if _PRONOUN.search(line):
            return None
        sentence_start = not line[: m.start()].strip() or line[: m.start()].rstrip()[-1] in '.!?"'
        if m.group(1):  # "Klaus's paper" -> "your paper"
            word = "your" + (m.group(2) or "")
        else:
            nxt = (m.group(3) or "").casefold()
            if nxt in _YOU_VERB:
                word = "you" + m.group(2).replace(m.group(3), _YOU_VERB[nxt])
            elif nxt.endswith("s") and nxt not in _NOT_VERBS:
                return None  # "Klaus Mueller studies..." with a verb not listed: leave it
            else:
                word = "you" + (m.group(2) or "")
        if sentence_start:
            word = word[0].upper() + word[1:]
        out.append(line[at : m.start()] + word)
        at = m.end()
        changed = True
    if not changed:
        return line
    return "".join(out) + line[at:]
