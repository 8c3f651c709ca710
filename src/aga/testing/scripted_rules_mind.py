"""Rules of the scripted test model, part two: reflection, Social Memory and the savings, the cost
layer, interviews and whispers, the believability judge.

TEST DOUBLE, like :mod:`aga.testing.scripted_rules` (which imports these into its ``RULES``;
import that module, not this one). The same contract: a rule reads only what a real model sees.
"""

from __future__ import annotations

import random
import re
from typing import Any

from aga.gateway.types import LLMRequest
from aga.testing.scripted_rules import (
    _WORD,
    _emoji_for,
    _inner,
    _rating,
    _triple,
    _v,
    _words,
    chat_importance,
    event_triple,
    object_state,
)

# ---------------------------------------------------------------------- reflection
_PREFIX = re.compile(
    r"^(?:[A-Z][a-z]+ [A-Z][a-z]+ (?:has noticed|wonders about|pays attention to this):\s*)+"
)


def _statements(request: LLMRequest) -> list[str]:
    lines = [ln.strip() for ln in str(_v(request, "statements")).splitlines() if ln.strip()]
    return [_PREFIX.sub("", re.sub(r"^(?:\d+\.|-)\s*", "", ln)) for ln in lines]


def focal_points(request: LLMRequest, rng: random.Random) -> dict[str, Any]:
    """One question per recent statement, as many as asked."""
    name = str(_v(request, "name", "they"))
    count = int(_v(request, "count", 3))
    stmts = _statements(request) or ["the day"]
    picks = [stmts[-1 - (i % len(stmts))] for i in range(count)]
    return {"questions": [f"{name} wonders about: {s[:100]}" for s in picks]}


def insights(request: LLMRequest, rng: random.Random) -> dict[str, Any]:
    """Insights each citing one to three statement numbers that exist."""
    name = str(_v(request, "name", "They"))
    size = max(1, len(_statements(request)))
    count = int(_v(request, "count", 5))
    stmts = _statements(request) or ["the day"]
    out = []
    for _ in range(count):
        evidence = sorted(rng.sample(range(1, size + 1), k=min(size, rng.randint(1, 3))))
        topic = stmts[(evidence[0] - 1) % len(stmts)][:80]
        out.append({"insight": f"{name} has noticed: {topic}", "evidence": evidence})
    return {"insights": out}


def chat_planning_note(request: LLMRequest, rng: random.Random) -> dict[str, Any]:
    """A note about plans mentioned in the chat."""
    low = str(_v(request, "transcript")).lower()
    if "party" in low:
        return {"note": "I should remember the party at Hobbs Cafe."}
    if "lunch" in low:
        return {"note": "I should plan a lunch together this week."}
    return {"note": "Nothing in the conversation changes my plans."}


def chat_memo(request: LLMRequest, rng: random.Random) -> dict[str, Any]:
    """A memo naming the other speaker (the transcript's speaker who is not the resident)."""
    name = str(_v(request, "name", ""))
    speakers = re.findall(r"^([^:\n]+):", str(_v(request, "transcript")), re.MULTILINE)
    others = [x.strip() for x in speakers if x.strip() and x.strip() != name]
    other = others[0] if others else "someone"
    return {"note": f"I enjoyed catching up with {other}."}


# ---------------------------------------------------------------------- Social Memory and savings
def social_summary(request: LLMRequest, rng: random.Random) -> dict[str, Any]:
    """The earlier notes, or a plain first note, plus how many new memories came in."""
    name, other = str(_v(request, "name", "They")), str(_v(request, "other", "them"))
    earlier = str(_v(request, "summary", ""))
    new = len([ln for ln in str(_v(request, "statements")).splitlines() if ln.strip()])
    if not earlier or earlier.startswith("("):
        earlier = f"{name} knows {other} from around town and likes talking with them."
    return {"summary": f"{earlier.split(' (')[0]} ({new} new memories recalled)"[:600]}


_CLOSER = {"unknown": "acquaintance", "acquaintance": "friend", "friend": "good friend"}


def relationship_update(request: LLMRequest, rng: random.Random) -> dict[str, Any]:
    """One step closer after a pleasant chat; importance as the chat-importance rule."""
    before = str(_v(request, "relationship", "unknown"))
    name, other = str(_v(request, "name", "They")), str(_v(request, "other", "them"))
    notes = str(_v(request, "summary", "")).split(" (")[0]
    if not notes or notes == "nothing in particular":
        notes = f"{name} knows {other} from around town."
    recalled = str(_v(request, "recalled", "nothing new"))
    more = "" if recalled == "nothing new" else f" (and recalled {recalled.count(';') + 1} more)"
    return {
        "relationship": _CLOSER.get(before, before or "acquaintance"),
        "feeling": "friendly",
        "summary": notes + more,
        "importance": chat_importance(request, rng)["rating"] if _v(request, "summary", "") else 4,
    }


def _items(request: LLMRequest, key: str) -> list[str]:
    items = request.hint  # the declared hint of the batch tasks: the listed texts
    if isinstance(items, (list, tuple)) and items:
        return [str(x) for x in items]
    lines = [ln.strip() for ln in str(_v(request, key)).splitlines() if ln.strip()]
    return [re.sub(r"^\d+\.\s*", "", ln) for ln in lines] or ["something"]


def event_ratings(request: LLMRequest, rng: random.Random) -> dict[str, Any]:
    """The event-importance rule for each listed event."""
    return {
        "ratings": [{"event": t[:160], "rating": _rating(t)["rating"]} for t in _items(request, "events")]
    }


def thought_notes(request: LLMRequest, rng: random.Random) -> dict[str, Any]:
    """The thought-importance and event-triple rules for each listed thought."""
    notes = []
    for text in _items(request, "thoughts"):
        triple = _triple(text, str(_v(request, "name")))
        notes.append({**triple, "importance": _rating(text)["rating"]})
    return {"notes": notes}


def chat_thoughts(request: LLMRequest, rng: random.Random) -> dict[str, Any]:
    """The planning-note and memo rules in one answer."""
    note, memo = chat_planning_note(request, rng)["note"], chat_memo(request, rng)["note"]
    return {
        "planning_note": note,
        "planning_importance": _rating(note)["rating"],
        "memo": memo,
        "memo_importance": _rating(memo)["rating"],
    }


def insights_all(request: LLMRequest, rng: random.Random) -> dict[str, Any]:
    """The insights rule, with the total count asked for, each rated and restated as a triple."""
    name = str(_v(request, "name"))
    out = insights(request, rng)
    for item in out["insights"]:
        item.update({**_triple(item["insight"], name), "importance": _rating(item["insight"])["rating"]})
    return out


# ---------------------------------------------------------------------- cost layer
def action_look(request: LLMRequest, rng: random.Random) -> dict[str, Any]:
    """The emoji and event-triple rules in one answer."""
    return {"emoji": _emoji_for(_inner(str(_v(request, "activity")))), **event_triple(request, rng)}


def action_details(request: LLMRequest, rng: random.Random) -> dict[str, Any]:
    """The emoji, event-triple and object-state rules in one answer."""
    return {**action_look(request, rng), "object_state": object_state(request, rng)["state"]}


def mind_wandering(request: LLMRequest, rng: random.Random) -> dict[str, Any]:
    """Finding out more about the last words of one of the memories that came back."""
    memories = [m for m in str(_v(request, "memories")).splitlines() if _WORD.search(m)]
    if not memories:
        return {"idea": "exploring a part of town not visited before"}
    words = _WORD.findall(rng.choice(memories).lower())
    return {"idea": f"finding out more about {' '.join(words[-3:])}"[:150]}


# ---------------------------------------------------------------------- interviews and whispers
# These rules read only the rendered prompt (request.user), as a real model would.
_PLAIN = frozenset(
    "what when where which with from that this have does your about there their they them will would "
    "could should know heard hear anyone anything someone been into just only also some more tell".split()
)


def _section(text: str, start: str) -> str:
    """The prompt text after the line ending with ``start`` (up to a blank line)."""
    at = text.find(start)
    if at < 0:
        return ""
    rest = text[at + len(start) :].lstrip("\n")
    return rest.split("\n\n", 1)[0]


def _content(text: str) -> set[str]:
    return {w for w in _words(text) if len(w) >= 4 and w not in _PLAIN}


def interview_answer(request: LLMRequest, rng: random.Random) -> dict[str, Any]:
    """The listed memory sharing the most words with the last question, or 'not heard of it'."""
    text = request.user or ""
    questions = re.findall(r"^Interviewer: (.*)$", text, re.MULTILINE)
    question = questions[-1] if questions else ""
    match = re.search(r"^What (.+?) remembers:$", text, re.MULTILINE)
    name = match.group(1) if match else ""
    memories = [
        re.sub(r"^\([^)]*\)\s*", "", ln[2:].strip())
        for ln in _section(text, " remembers:").splitlines()
        if ln.startswith("- ")
    ]
    wanted = _content(question) - _content(name)
    names = _content(" ".join(re.findall(r"(?<!^)(?<![.?!] )\b[A-Z][a-z]+", question)))
    best, score = "", 0.0
    for memory in memories:
        shared = wanted & _content(memory)
        value = len(shared - names) + 0.5 * len(shared & names)  # a name alone is not the topic
        if value > score:
            best, score = memory, value
    if score >= 2:
        return {"recalled": best[:600], "answer": f"Yes, I remember: {best}"[:600]}
    return {"recalled": "nothing", "answer": "I have not heard anything about that."}


def interview_memory(request: LLMRequest, rng: random.Random) -> dict[str, Any]:
    """'talking with an interviewer about <the first question's words>'."""
    lines = re.findall(r"^Interviewer: (.*)$", request.user or "", re.MULTILINE)
    topic = " ".join(sorted(_content(lines[0]))[:4]) if lines else ""
    return {"summary": f"talking with an interviewer about {topic or 'their day'}"[:160], "importance": 3}


def whisper_thought(request: LLMRequest, rng: random.Random) -> dict[str, Any]:
    """'I heard that <what was told>'."""
    match = re.search(r"was told: (.+)", request.user or "")
    told = match.group(1).strip().rstrip(".") if match else "something new"
    return {"thought": f"I heard that {told}."[:600]}


def whisper_importance(request: LLMRequest, rng: random.Random) -> dict[str, Any]:
    """Importance by keywords of the news."""
    match = re.search(r"now knows: (.+)", request.user or "")
    return _rating(match.group(1) if match else "")


def judge_believability(request: LLMRequest, rng: random.Random) -> dict[str, Any]:
    """1 for a line naming the resident in the third person after "I", 2 for an empty-ish line,
    else 3 (plain) or 4 (ten words or more): read from the prompt's Resident and Line."""
    text = request.user or ""
    name = re.search(r"^Resident: (.*)$", text, re.MULTILINE)
    line = re.search(r"^Line: (.*)$", text, re.MULTILINE)
    who = name.group(1).strip() if name else ""
    said = line.group(1).strip() if line else ""
    if who and who in said and re.search(r"\bI\b", said):
        return {"score": 1, "reason": "names the speaker as someone else"}
    words = said.split()
    if len(words) < 3:
        return {"score": 2, "reason": "too short to read as a person"}
    return {"score": 4 if len(words) >= 10 else 3, "reason": "plain and fitting"}
