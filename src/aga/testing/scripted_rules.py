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
        text = rng.choice(lines)
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
        return {"note": "remember the party at Hobbs Cafe."}
    if "lunch" in low:
        return {"note": "plan a lunch together this week."}
    return {"note": "nothing in the conversation changes the plans."}


def chat_memo(request: LLMRequest, rng: random.Random) -> dict[str, Any]:
    """A memo naming the other speaker (the transcript's speaker who is not the resident)."""
    name = str(_v(request, "name", ""))
    speakers = re.findall(r"^([^:\n]+):", str(_v(request, "transcript")), re.MULTILINE)
    others = [x.strip() for x in speakers if x.strip() and x.strip() != name]
    other = others[0] if others else "someone"
    return {"note": f"enjoyed catching up with {other}."}


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
    return {"planning_note": note, "memo": memo}


def insights_all(request: LLMRequest, rng: random.Random) -> dict[str, Any]:
    """The insights rule, with the total count asked for."""
    return insights(request, rng)


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
