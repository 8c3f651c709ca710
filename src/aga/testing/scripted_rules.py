"""Rules of the scripted test model: a plausible, deterministic answer per task.

TEST DOUBLE. Each rule reads what a real model sees: the rendered prompt (split back into the
parts its template filled, ``aga.testing.scripted.seen``), the options, the schema, plus the
task's one declared hint (``request.hint``) where it has one; never ``request.vars``. With the
request-seeded ``rng`` it returns the answer object as a dict (or, for choice tasks, one of
the options). Rules never fail on missing inputs: they fall back to something generic. They make
a scripted town look alive: residents get up by their lifestyle, go to work or study at the
place their persona names, lunch at Hobbs Cafe, spend evenings out, talk to people they know.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Callable, Sequence
from typing import Any

from aga.gateway.types import LLMRequest
from aga.testing.scripted import seen

Rule = Callable[[LLMRequest, random.Random], "dict[str, Any] | str"]

_WORD = re.compile(r"[a-z0-9']+")
_MINUTES = (5, 10, 15, 20, 25, 30, 40, 45, 50, 60, 90, 120)


def _v(request: LLMRequest, key: str, default: Any = "") -> Any:
    """The rendered text that filled placeholder ``key`` of the prompt (``default`` if none)."""
    value = seen(request).get(key)
    return default if value is None else value


def _persona(request: LLMRequest, label: str, default: str = "") -> str:
    """A line of the rendered persona block ("Habits: ..." -> its text)."""
    m = re.search(rf"^{label}: (.*)$", str(_v(request, "persona")), re.MULTILINE)
    return m.group(1).strip() if m else default


def _full_name(request: LLMRequest, default: str = "") -> str:
    """The name the prompt shows: the ``name`` part, else the persona's Name line."""
    name = str(_v(request, "name", ""))
    if name:
        return name
    m = re.match(r"(.*?) \(age", _persona(request, "Name"))
    return m.group(1) if m else (_persona(request, "Name") or default)


def _words(text: str) -> set[str]:
    return set(_WORD.findall(str(text).lower()))


def _hour_after(text: str, verb: str, default: int) -> int:
    """'... wakes up around 7 am ...' -> 7 (for verb 'wak')."""
    m = re.search(
        verb + r"\w*\s+(?:up\s+)?\D{0,20}?(\d{1,2})(?::\d\d)?\s*(am|pm|a\.m\.|p\.m\.)?", text, re.IGNORECASE
    )
    if not m:
        return default
    hour = int(m.group(1))
    suffix = (m.group(2) or "").lower()
    if suffix.startswith("p") and hour < 12:
        hour += 12
    if suffix.startswith("a") and hour == 12:
        hour = 0
    return hour % 24


def _inner(text: str) -> str:
    text = str(text)
    if "(" in text and text.rstrip().endswith(")"):
        return text[text.rfind("(") + 1 : text.rstrip().rfind(")")].strip() or text
    return text


# ---------------------------------------------------------------------- planning
def wake_up_hour(request: LLMRequest, rng: random.Random) -> dict[str, Any]:
    """The hour named in the lifestyle text ('wakes up around 7 am'), else 7."""
    return {"hour": _hour_after(_persona(request, "Habits"), "wak", 7)}


def _work_place(text: str, sectors: Sequence[str], home: str, rng: random.Random) -> str:
    low = text.lower()
    named = [s for s in sectors if s != home and s.lower() in low]
    if named:
        return max(named, key=lambda s: (low.count(s.lower()), len(s)))
    public = [s for s in sectors if s != home and "'s " not in s]
    return rng.choice(public) if public else home


def _work_phrase(text: str, place: str) -> str:
    low = text.lower()
    if place.lower() == "oak hill college" and "library" in low:
        return f"studying in the library at {place}"
    if "class" in low and "college" in place.lower():
        return f"attending classes at {place}"
    if re.search(r"\bstud(y|ies|ent|ying)\b", low):
        return f"studying at {place}"
    return f"working at {place}"


def daily_plan(request: LLMRequest, rng: random.Random) -> dict[str, Any]:
    """A day built from the persona: work place named in its texts, meals, an evening out."""
    text = " ".join((_persona(request, "About"), str(_v(request, "daily_req")), str(_v(request, "persona"))))
    sectors = [s.strip() for s in str(_v(request, "places")).split(";") if s.strip()]
    home = str(request.hint or "")  # the declared hint of daily_plan: the resident's home sector
    wake = int(_v(request, "wake_hour", 7))
    bed = _hour_after(_persona(request, "Habits"), "bed", 23)
    idea = re.search(r"wants to do today: (.*)\.$", str(_v(request, "plan_note")), re.MULTILINE)
    bed = 23 if bed < wake + 4 else min(bed, 23)
    place = _work_place(text, sectors, home, rng)
    work = _work_phrase(text, place)
    cafe = "Hobbs Cafe" in sectors and ("hobbs cafe" in text.lower() or rng.random() < 0.3)
    lunch = "having lunch at Hobbs Cafe" if cafe else "having lunch at home"
    outings = [f"taking a walk in {s}" for s in sectors if "park" in s.lower()]
    outings += [f"having a drink at {s}" for s in sectors if "pub" in s.lower()]
    outings = outings or ["reading a book at home"]
    colleges = [s for s in sectors if "college" in s.lower() and s != home and s != place]
    morning = f"attending classes at {colleges[0]}" if colleges and "class" in text.lower() else work
    plan = [
        (wake, "waking up and getting ready for the day"),
        (wake + 1, "having breakfast at home"),
        (wake + 2, morning),
        (max(12, wake + 3), lunch),
        (max(13, wake + 4), work),
        (max(18, wake + 6), "having dinner at home"),
        (max(19, wake + 7), idea.group(1) if idea else rng.choice(outings)),  # Mind Wandering's idea
        (max(21, wake + 8), "relaxing at home"),
        (max(bed, wake + 9), "going to bed"),
    ]
    items: list[dict[str, Any]] = []
    last = -1
    for hour, activity in plan:
        if last < hour <= 23:
            items.append({"hour": hour, "activity": activity})
            last = hour
    return {"items": items}


_STEPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("breakfast", ("making coffee", "cooking breakfast", "eating breakfast", "washing the dishes")),
    ("lunch", ("ordering lunch", "eating lunch", "chatting over lunch", "paying the bill")),
    ("dinner", ("cooking dinner", "eating dinner", "cleaning up the kitchen")),
    ("getting ready", ("brushing teeth", "taking a shower", "getting dressed", "making the bed")),
    (
        "library",
        ("finding books on the bookshelf", "reading at the library table", "taking notes", "writing a draft"),
    ),
    (
        "studying",
        ("reviewing notes at the desk", "reading a textbook", "solving exercises", "taking a break"),
    ),
    ("classes", ("listening to the lecture", "taking notes", "asking a question", "packing up")),
    (
        "cafe",
        (
            "preparing coffee behind the cafe counter",
            "serving customers",
            "cleaning the tables",
            "restocking the cafe",
        ),
    ),
    (
        "working",
        (
            "checking the to-do list",
            "working on the main task",
            "taking a short break",
            "tidying up the workplace",
        ),
    ),
    ("walk", ("strolling along the path", "enjoying the garden", "sitting on a bench")),
    ("drink", ("ordering a drink at the bar", "chatting with other guests", "listening to music")),
    ("reading", ("choosing a book", "reading on the sofa", "making tea")),
    ("bed", ("brushing teeth", "changing into pajamas", "reading in bed", "falling asleep")),
)


def task_decomp(request: LLMRequest, rng: random.Random) -> dict[str, Any]:
    """As many steps as the prompt asks for, chosen by keywords of the task, with rough minutes."""
    task = str(_v(request, "task", "the task")).lower()
    steps: tuple[str, ...] = ()
    for key, options in _STEPS:
        if key in task:
            steps = options
            break
    if not steps:
        steps = ("getting started", "focusing on the main part", "taking a short break", "finishing up")
    asked = re.search(r"Give (\d+) steps", request.user)  # the count the prompt asks for
    count = int(asked.group(1)) if asked else rng.randint(3, 6)
    chosen = [steps[i % len(steps)] for i in range(count)]
    if count > len(steps):
        chosen = list(steps) + [f"continuing {s}" for s in steps][: count - len(steps)]
    return {"subtasks": [{"activity": s, "minutes": rng.choice(_MINUTES[:8])} for s in chosen]}


def hourly_schedule(request: LLMRequest, rng: random.Random) -> dict[str, Any]:
    """The broad plan's item for the hour the prompt asks about (read from the prompt text:
    "Broad plan for today: a at 7:00, b at 9:00" and "from 08:00 to 09:00")."""
    text = request.user or ""
    broad = re.search(r"Broad plan for today: (.*)", text)
    hour = re.search(r"from (\d\d):00 to", text)
    items = re.findall(r"([^,]+?) at (\d{1,2}):00", broad.group(1)) if broad else []
    at = int(hour.group(1)) if hour else 12
    earlier = [(int(h), a.strip()) for a, h in items if int(h) <= at]
    return {"activity": max(earlier)[1] if earlier else "going about the day"}


def schedule_rewrite(request: LLMRequest, rng: random.Random) -> dict[str, Any]:
    """Keep the original plan after the interruption (its rows, rough minutes; the declared hint)."""
    after = request.hint or []
    acts = []
    for item in after:
        try:
            name, minutes = str(item[0]), int(item[1])
        except (TypeError, ValueError, IndexError):
            continue
        acts.append({"activity": name, "minutes": min(_MINUTES, key=lambda m: abs(m - minutes))})
    return {"activities": acts or [{"activity": "getting back to the day's plan", "minutes": 30}]}


def new_day_review(request: LLMRequest, rng: random.Random) -> dict[str, Any]:
    """A plain look back."""
    name = _full_name(request, "They")
    return {
        "plan_note": f"{name} wants to keep up with the usual work today.",
        "feelings": f"{name} feels rested and ready for a new day.",
    }


def new_day_revision(request: LLMRequest, rng: random.Random) -> dict[str, Any]:
    """Keep the status; today's notes become the standing requirements."""
    return {
        "currently": _persona(request, "Currently", "going about the day"),
        "daily_requirements": str(_v(request, "plan_note", "")) or "follow the usual routine",
    }


# ---------------------------------------------------------------------- choosing places
_HOME_WORDS = {
    "sleep",
    "sleeping",
    "bed",
    "wake",
    "waking",
    "breakfast",
    "dinner",
    "shower",
    "home",
    "morning",
    "dressed",
    "ready",
    "night",
    "teeth",
}
_ROOM_WORDS = {
    "kitchen": {"cook", "cooking", "breakfast", "dinner", "lunch", "dishes", "coffee", "tea"},
    "bathroom": {"shower", "teeth", "toilet", "bath", "brushing", "washing"},
    "garden": {"garden", "gardening", "plants"},
}
_OBJECT_WORDS = {
    "bed": {"sleep", "sleeping", "bed", "nap", "rest", "waking", "wake"},
    "desk": {
        "study",
        "studying",
        "write",
        "writing",
        "work",
        "working",
        "notes",
        "paper",
        "email",
        "reviewing",
    },
    "shower": {"shower"},
    "sink": {"teeth", "brushing", "washing", "dishes", "wash"},
    "cooking": {"cook", "cooking", "breakfast", "dinner", "meal"},
    "refrigerator": {"snack", "fridge"},
    "seating": {"eat", "eating", "lunch", "drink", "order", "ordering", "coffee"},
    "counter": {"serve", "serving", "customers", "preparing", "cashier", "bill", "paying", "pay"},
    "table": {"eat", "eating", "read", "reading", "notes"},
    "bookshelf": {"books", "book", "finding"},
    "sofa": {"relax", "relaxing", "reading", "tv", "sofa"},
    "closet": {"dressed", "clothes", "dress"},
}


def _best(options: Sequence[str], wanted: set[str]) -> list[str]:
    """Options sharing the most words with ``wanted`` (ties: the larger share of the option's
    own words, so "Oak Hill College" beats "Dorm for Oak Hill College")."""
    scores = []
    for o in options:
        words = _words(o)
        hits = len(wanted & words)
        scores.append((hits, hits / max(1, len(words))))
    top = max(scores) if scores else (0, 0.0)
    return [o for o, s in zip(options, scores) if s == top and s[0] > 0]


def action_sector(request: LLMRequest, rng: random.Random) -> str:
    """The sector named in the activity; home for private activities; else some sector."""
    options = list(request.choices or ())
    query = _words(_v(request, "activity"))
    best = _best(options, query - {"the", "at", "in", "of", "and", "for", "to", "a"})
    if best:
        return rng.choice(best)
    home = str(_v(request, "home"))
    if home in options and (query & _HOME_WORDS or "home" in query):
        return home
    return home if home in options and rng.random() < 0.5 else rng.choice(options)


def action_arena(request: LLMRequest, rng: random.Random) -> str:
    """The arena named in the activity, a room matching it, else the first (own room)."""
    options = list(request.choices or ())
    query = _words(_v(request, "activity"))
    best = _best(options, query - {"the", "at", "in", "of", "and", "a"})
    if best:
        return rng.choice(best)
    for room, words in _ROOM_WORDS.items():
        if query & words:
            matches = [o for o in options if room in o.lower()]
            if matches:
                return matches[0]
    return options[0]


def action_object(request: LLMRequest, rng: random.Random) -> str:
    """The object named in the activity, or one suited to it, else any."""
    options = list(request.choices or ())
    query = _words(_v(request, "activity"))
    best = _best(options, query - {"the", "at", "in", "of", "and", "a", "on"})
    if best:
        return rng.choice(best)
    for obj_word, words in _OBJECT_WORDS.items():
        if query & words:
            matches = [o for o in options if obj_word in o.lower()]
            if matches:
                return rng.choice(matches)
    return rng.choice(options)


# ---------------------------------------------------------------------- how actions show
_EMOJI = (
    ("sleep", "😴"),
    ("bed", "🛌"),
    ("coffee", "☕"),
    ("breakfast", "🍳"),
    ("lunch", "🥪"),
    ("dinner", "🍝"),
    ("eat", "🍽️"),
    ("read", "📖"),
    ("book", "📚"),
    ("stud", "📝"),
    ("write", "✍️"),
    ("class", "🎓"),
    ("walk", "🚶"),
    ("drink", "🍺"),
    ("shower", "🚿"),
    ("teeth", "🪥"),
    ("serv", "🧑‍🍳"),
    ("work", "💼"),
    ("paint", "🎨"),
    ("music", "🎵"),
    ("talk", "💬"),
)


def _emoji_for(text: str) -> str:
    low = text.lower()
    for key, emoji in _EMOJI:
        if key in low:
            return emoji
    return "🙂"


def action_emoji(request: LLMRequest, rng: random.Random) -> dict[str, Any]:
    """An emoji by keyword of the activity."""
    return {"emoji": _emoji_for(str(_v(request, "activity")))}


def object_emoji(request: LLMRequest, rng: random.Random) -> dict[str, Any]:
    """An emoji by keyword of the object's state."""
    return {"emoji": _emoji_for(f"{_v(request, 'state')} {_v(request, 'object')}")}


def event_triple(request: LLMRequest, rng: random.Random) -> dict[str, Any]:
    """Predicate = first word of the activity (without -ing), object = its last word."""
    return _triple(str(_v(request, "activity", "being here")), str(_v(request, "name")))


def _triple(activity: str, name: str) -> dict[str, Any]:
    words = _WORD.findall(_inner(activity or "being here").lower())
    name_words = _words(name)
    words = [w for w in words if w not in name_words and w not in ("is", "are")] or ["is", "here"]
    verb = words[0]
    if verb.endswith("ing") and len(verb) > 5:
        verb = verb[:-3]
    return {"predicate": verb, "object": words[-1] if len(words) > 1 else "something"}


def object_state(request: LLMRequest, rng: random.Random) -> dict[str, Any]:
    """'being used for <activity>'."""
    activity = _inner(str(_v(request, "activity", "something")))
    return {"state": f"being used for {activity}"[:150]}


def object_event_triple(request: LLMRequest, rng: random.Random) -> dict[str, Any]:
    """(object, 'is', 'used')."""
    state = str(_v(request, "state", "used"))
    return {"predicate": "is", "object": "used" if "used" in state else state[:60]}


# ---------------------------------------------------------------------- importance
_IMPORTANT = (
    (9, ("death", "died", "love", "married", "engaged", "fired", "breakup", "pregnant")),
    (7, ("party", "mayor", "election", "valentine", "argument", "secret", "crush")),
    (5, ("conversing", "conversation", "talk", "chat", "meet", "friend", "plan", "research")),
    (3, ("work", "study", "studying", "class", "serving", "paper", "customers")),
    (2, ("breakfast", "lunch", "dinner", "eat", "walk", "shower", "coffee", "reading")),
    (1, ("idle", "sleep", "sleeping", "bed")),
)


def _rating(text: str) -> dict[str, Any]:
    low = _words(text)
    for value, keys in _IMPORTANT:
        if any(k in low for k in keys):
            return {"rating": value}
    return {"rating": 3}


def event_importance(request: LLMRequest, rng: random.Random) -> dict[str, Any]:
    """Importance by keywords of the event."""
    return _rating(str(_v(request, "event")))


def thought_importance(request: LLMRequest, rng: random.Random) -> dict[str, Any]:
    """Importance by keywords of the thought."""
    return _rating(str(_v(request, "thought")))


def chat_importance(request: LLMRequest, rng: random.Random) -> dict[str, Any]:
    """Importance by keywords of the conversation summary (at least 4)."""
    return {"rating": max(4, _rating(str(_v(request, "summary")))["rating"])}


# ---------------------------------------------------------------------- reactions and chats
def decide_to_talk(request: LLMRequest, rng: random.Random) -> dict[str, Any]:
    """Mostly yes to acquaintances not talked to recently, rarely to strangers (the prompt says
    what the person remembers of the other: nothing in particular for a stranger)."""
    known = str(_v(request, "context", "")).strip(" .").lower() not in ("", "nothing in particular")
    recent = bool(_v(request, "last_chat", ""))
    chance = 0.2 if not known else (0.25 if recent else 0.8)
    return {"answer": "yes" if rng.random() < chance else "no"}


def decide_to_react(request: LLMRequest, rng: random.Random) -> dict[str, Any]:
    """Wait half of the time."""
    return {"answer": "wait" if rng.random() < 0.5 else "continue"}


def relationship_summary(request: LLMRequest, rng: random.Random) -> dict[str, Any]:
    """A plain summary naming the other person."""
    name, other = str(_v(request, "name", "They")), str(_v(request, "other", "them"))
    return {"summary": f"{name} knows {other} from around town and likes talking with them."}


def _chat_length(a: str, b: str) -> int:
    """2..6 utterances, fixed per pair of speakers."""
    digest = hashlib.sha256("|".join(sorted((a, b))).encode()).digest()
    return 2 + digest[0] % 5


def conversation_turn(request: LLMRequest, rng: random.Random) -> dict[str, Any]:
    """A greeting, small talk about what they are doing, a goodbye; ends after 2-6 lines."""
    speaker, listener = str(_v(request, "speaker", "A")), str(_v(request, "listener", "B"))
    said = str(_v(request, "transcript", ""))
    turn = len(re.findall(r"^[^:\n]+: ", said, re.MULTILINE))  # lines said so far, as the prompt shows them
    length = _chat_length(speaker, listener)
    first = listener.split()[0] if listener else "there"
    if turn == 0:
        text = f"Hi {first}! How is your day going?"
    elif turn + 1 >= length:
        text = f"It was good to see you, {first}. Talk to you later!"
    else:
        lines = [
            f"I have been busy today, {first}, but it is going well.",
            "Are you coming to the party at Hobbs Cafe?",
            "I am working on something I care a lot about these days.",
            "We should have lunch together sometime this week.",
            "Have you heard any news around town?",
        ]
        fresh = [line for line in lines if line not in said] or lines
        text = rng.choice(fresh)
    return {"utterance": text, "end": turn + 1 >= length}


def conversation_summary(request: LLMRequest, rng: random.Random) -> dict[str, Any]:
    """'conversing about <topic>' from keywords of the transcript."""
    low = str(_v(request, "transcript")).lower()
    for key, topic in (
        ("party", "the party at Hobbs Cafe"),
        ("lunch", "having lunch together"),
        ("news", "news around town"),
        ("working", "what they are working on"),
    ):
        if key in low:
            return {"summary": f"conversing about {topic}"}
    return {"summary": "conversing about their day"}


# The rules of reflection, Social Memory and the savings, the cost layer, interviews and the judge
# live in scripted_rules_mind.py, which uses the helpers above (so it is imported only here).
from aga.testing.scripted_rules_mind import (  # noqa: E402
    action_details,
    action_look,
    chat_memo,
    chat_planning_note,
    chat_thoughts,
    event_ratings,
    focal_points,
    insights,
    insights_all,
    interview_answer,
    interview_memory,
    judge_believability,
    mind_wandering,
    relationship_update,
    social_summary,
    thought_notes,
    whisper_importance,
    whisper_thought,
)

RULES: dict[str, Rule] = {
    "wake_up_hour": wake_up_hour,
    "daily_plan": daily_plan,
    "task_decomp": task_decomp,
    "hourly_schedule": hourly_schedule,
    "schedule_rewrite": schedule_rewrite,
    "new_day_review": new_day_review,
    "new_day_revision": new_day_revision,
    "action_sector": action_sector,
    "action_arena": action_arena,
    "action_object": action_object,
    "action_emoji": action_emoji,
    "object_emoji": object_emoji,
    "event_triple": event_triple,
    "object_state": object_state,
    "object_event_triple": object_event_triple,
    "event_importance": event_importance,
    "thought_importance": thought_importance,
    "chat_importance": chat_importance,
    "decide_to_talk": decide_to_talk,
    "decide_to_react": decide_to_react,
    "relationship_summary": relationship_summary,
    "conversation_turn": conversation_turn,
    "conversation_summary": conversation_summary,
    "focal_points": focal_points,
    "insights": insights,
    "chat_planning_note": chat_planning_note,
    "chat_memo": chat_memo,
    "action_details": action_details,
    "action_look": action_look,
    "mind_wandering": mind_wandering,
    "social_summary": social_summary,
    "relationship_update": relationship_update,
    "event_ratings": event_ratings,
    "thought_notes": thought_notes,
    "chat_thoughts": chat_thoughts,
    "insights_all": insights_all,
    "interview_answer": interview_answer,
    "interview_memory": interview_memory,
    "whisper_thought": whisper_thought,
    "whisper_importance": whisper_importance,
    "judge_believability": judge_believability,
}
"""Task name -> rule. Every task of ``aga.prompts.tasks`` has one."""


def rule_for(task: str) -> Rule | None:
    """The rule of ``task`` (None if it has none)."""
    return RULES.get(task)


__all__ = ["RULES", "rule_for"]
