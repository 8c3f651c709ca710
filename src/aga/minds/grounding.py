"""Grounding an activity: where it happens (sector, arena, object) and how it shows (emoji, event
triples, the used object's state).

Without savings this is the original chain of up to eight calls: three place choices, then the
emoji, the event triple, the object's state, its emoji and its triple. The cost layer cuts it:

* Lifestyle Policy (``ctx.policy``): a grounding stored for the same action text, at a place that
  exists in this town and that the resident knows (and may enter), is reused with no call; a new
  grounding is stored once the model chose its place (never a fallback place).
* ``MindConfig.plan_rules``: a sector or arena the activity names, the sector of the previous
  subtask of the same activity, and the home (own room) for sleep are taken without asking.
* ``MindConfig.action_details``: the five "how it shows" answers come from one call that
  generates the emoji, the event triple and the object's state (the object's emoji and triple
  follow from those).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from aga import aio
from aga.minds.action import DEFAULT_EMOJI, Grounding, is_object_address
from aga.minds.calls import ask
from aga.minds.schedule import REACT, ROOT, is_meal_text, is_sleep_text
from aga.minds.spatial import is_others_private
from aga.minds.text import last_part, state_word, subtask_text
from aga.policy import Grounding as PolicyGrounding
from aga.prompts.tasks import (
    ACTION_ARENA,
    ACTION_DETAILS,
    ACTION_EMOJI,
    ACTION_LOOK,
    ACTION_OBJECT,
    ACTION_SECTOR,
    EVENT_TRIPLE,
    OBJECT_EMOJI,
    OBJECT_EVENT_TRIPLE,
    OBJECT_STATE,
    Emoji,
    EventTriple,
)

if TYPE_CHECKING:
    from aga.gateway.task import Task
    from aga.minds.context import StepContext
    from aga.minds.state import Mind

__all__ = [
    "arena_options",
    "choose_place",
    "from_policy",
    "ground_action",
    "named_option",
    "pick_place",
    "policy_accepts",
    "sector_options",
    "to_policy",
]


# ---------------------------------------------------------------------- options
def sector_options(r: Mind) -> list[str]:
    """Known sectors the resident may go to, its home first."""
    home = r.home_sector
    others = [
        s for s in r.spatial.sectors() if s != home and not is_others_private(s, r.name, r.identity.last_name)
    ]
    return ([home] if home else []) + others


def arena_options(r: Mind, sector: str) -> list[str]:
    """Known arenas of ``sector`` the resident may enter (its own room first at home)."""
    arenas = [a for a in r.spatial.arenas(sector) if not is_others_private(a, r.name, r.identity.last_name)]
    if sector == r.home_sector and r.home_arena in arenas:
        arenas.remove(r.home_arena)
        arenas.insert(0, r.home_arena)
    return arenas


def named_option(text: str, options: list[str]) -> str | None:
    """The option that ``text`` names (whole words, any case), or None.

    When several are named, the longest name wins ("Dorm for Oak Hill College" over "Oak Hill
    College"); two different names of that length decide nothing.
    """
    low = text.casefold()
    named = [o for o in options if o.strip() and re.search(rf"(?<!\w){re.escape(o.casefold())}(?!\w)", low)]
    if not named:
        return None
    longest = max(len(o) for o in named)
    top = [o for o in named if len(o) == longest]
    return top[0] if len(top) == 1 else None


# ---------------------------------------------------------------------- who and where
_WORK_WORDS = re.compile(  # work, and a student's work: a lecture, a class, study for an exam
    r"\b(work|works|working|shift|open(?:s|ing)? (?:the|up)|clos(?:e|es|ing) (?:the|up)|serv(?:e|es|ing) customers"
    r"|lectures?|class|classes|study|studies|studying|exams?|homework)\b",
    re.IGNORECASE,
)


def is_work_text(text: str) -> bool:
    """Whether an activity is work or study (what sends a resident to the workplace)."""
    return bool(_WORK_WORDS.search(text))


_BED = re.compile(r"\bbed\b", re.IGNORECASE)

_HOME = re.compile(r"(?<![\w-])home(?![\w-])", re.IGNORECASE)
"""An activity that says where it happens: "relaxing at home" (Maria's evening, placed at the
pub by the sector prompt on the embedded model)."""


def haunt_list(r: Mind, sectors: list[str]) -> list[str]:
    """The places the persona's own text names, other than home and the workplace ("Hobbs Cafe"
    for Maria, who "likes to drop by Hobbs Cafe"): where a meal out or free time may go."""
    low = " ".join((r.identity.learned, r.identity.lifestyle, r.identity.currently)).casefold()
    skip = {r.home_sector, workplace(r)}
    named: list[str] = []
    for place in sorted(sectors, key=len, reverse=True):  # "Dorm for Oak Hill College" first
        pattern = rf"(?<!\w){re.escape(place.casefold())}(?!\w)"
        if re.search(pattern, low):
            if place not in skip:
                named.append(place)
            low = re.sub(pattern, " ", low)  # "Oak Hill College" inside it is not named again
    return named


def meal_place(r: Mind, text: str, sectors: list[str]) -> str | None:
    """Where a meal goes without a call (``plan_rules``): breakfast at home; lunch or dinner at
    the one place the persona names besides home and work (Klaus "often eats at Hobbs Cafe");
    None (ask) otherwise. The embedded model's sector pick sent Maria's breakfast, lunch, dinner
    and evening at home all to the pub, a place no line about her names."""
    if not is_meal_text(text):
        return None
    if re.search(r"\bbreakfast\b", text, re.IGNORECASE):
        return r.home_sector if r.home_sector in sectors else None
    named = haunt_list(r, sectors)
    return named[0] if len(named) == 1 else None


def workplace(r: Mind) -> str | None:
    """The sector where the resident works or studies: the persona's ``workplace:`` when it is
    a known place other than home, else None."""
    named = r.identity.workplace
    if not named:  # no guessing from the background: many residents work at home
        return None
    sector = str(named).split(":")[0].strip()  # "sector" or "sector:arena"
    return sector if sector in sector_options(r) and sector != r.home_sector else None


def current_place(r: Mind) -> str:
    """Where the resident is now, in words ("the cafe at Hobbs Cafe"), or "not known yet"."""
    a = r.action
    if a is None or a.address.startswith("<"):
        return "not known yet"
    parts = a.address.split(":")
    if len(parts) >= 3:
        return f"the {parts[2]} at {parts[1]}"
    return parts[1] if len(parts) == 2 else "not known yet"


def place_vars(r: Mind, description: str) -> dict[str, Any]:
    """What every place prompt shows about the person: who, works where, is where, needs what."""
    work = workplace(r)
    return {
        "name": r.name,
        "activity": description,
        "about": r.identity.learned,
        "workplace": work or "none",
        "current": current_place(r),
        "day_needs": r.identity.daily_plan_req or "nothing special",
    }


# ---------------------------------------------------------------------- the place
async def _choose(
    r: Mind, ctx: StepContext, task: Task[Any], options: list[str], vars: dict[str, Any], fallback: str
) -> tuple[str, bool]:
    """(pick, chosen): ``chosen`` is False when the model's answers were unusable and ``fallback``
    was taken. A single option is taken without asking."""
    if len(options) == 1:
        return options[0], True
    answer = await ctx.gateway.choose(task, options, vars, agent=r.name, game_time=ctx.now)
    if answer is None or answer not in options:
        return str(fallback), False
    return answer, True


def _previous_sector(r: Mind, parent: str | None) -> str | None:
    """The sector of the resident's current action when it is an earlier subtask of ``parent``."""
    a = r.action
    if parent in (None, ROOT, REACT) or a is None or a.kind != "plan" or a.parent != parent:
        return None
    parts = a.address.split(":")
    return parts[1] if not a.address.startswith("<") and len(parts) >= 3 else None


async def pick_place(
    r: Mind, ctx: StepContext, description: str, *, parent: str | None = None
) -> tuple[str, bool]:
    """Pick sector, arena and object among known places: (address, chosen).

    ``chosen`` is False when a fallback stood in for an unusable answer (home sector, home arena,
    a random known object) or the place had to be patched to exist; such places are never stored
    by the Lifestyle Policy. An arena without known objects gives an arena-level address.
    """
    town = ctx.town
    rules = ctx.config.plan_rules
    sectors = sector_options(r)
    home = r.home_sector
    chosen = True
    sector = None
    asleep = rules and is_sleep_text(description) and home in sectors
    if asleep:
        sector = home  # one sleeps at home, in one's own room
    elif rules:
        previous = _previous_sector(r, parent)
        root_text = parent if parent not in (None, ROOT, REACT) else description
        work = workplace(r) if _WORK_WORDS.search(root_text) else None
        named = named_option(description, sectors)
        at_home = home if _HOME.search(description) and home in sectors else None
        sector = (
            named
            or at_home
            or (previous if previous in sectors else None)
            or work
            or meal_place(r, root_text, sectors)
        )
    if sector is None:
        haunts = ", ".join(haunt_list(r, sectors)) or "none named"
        sector_vars = {**place_vars(r, description), "home": home, "haunts": haunts}
        sector, ok = await _choose(r, ctx, ACTION_SECTOR, sectors, sector_vars, home or sectors[0])
        chosen &= ok
    arenas = arena_options(r, sector)
    if not arenas:
        sector, arenas = home, arena_options(r, home)
        chosen = False
    fallback_arena = r.home_arena if sector == home and r.home_arena in arenas else arenas[0]
    arena = None
    if asleep and r.home_arena in arenas:
        arena = r.home_arena
    elif rules:
        arena = named_option(description, arenas)
    if arena is None:
        arena_vars = {
            **{k: v for k, v in place_vars(r, description).items() if k != "day_needs"},  # not in its prompt
            "sector": sector,
            "home_arena": r.home_arena if sector == home else "none here",
        }
        arena, ok = await _choose(r, ctx, ACTION_ARENA, arenas, arena_vars, fallback_arena)
        chosen &= ok
    objects = r.spatial.objects(sector, arena)
    arena_address = f"{r.world}:{sector}:{arena}"
    if not objects:
        if town.has_address(arena_address):
            return arena_address, chosen
        return r.identity.living_area, False
    activity = subtask_text(description)
    beds = [o for o in objects if _BED.search(o)] if asleep else []
    if beds:  # one sleeps, or naps, in a bed: Maria's "taking a nap" was put at her desk
        obj = beds[0]
    else:
        spare = ctx.rng(r.name, "object fallback").choice(objects)
        obj_vars = {"activity": activity, "arena": arena}
        obj, ok = await _choose(r, ctx, ACTION_OBJECT, objects, obj_vars, spare)
        chosen &= ok
    address = f"{arena_address}:{obj}"
    if town.has_address(address):
        return address, chosen
    return (arena_address, False) if town.has_address(arena_address) else (r.identity.living_area, False)


async def choose_place(r: Mind, ctx: StepContext, description: str) -> str:
    """The address where ``description`` happens (see :func:`pick_place`)."""
    address, _chosen = await pick_place(r, ctx, description)
    return address


# ---------------------------------------------------------------------- how it shows
async def _details_one_call(r: Mind, ctx: StepContext, description: str, obj: str) -> tuple[Grounding, bool]:
    """Emoji, event triple and the used object's state from one call.

    The object's emoji is the activity's and its triple is (object, "is", the state's head word,
    :func:`state_word`: "used", "occupied"): what the two extra calls of the original mostly give
    (the embedded model, asked "The bed is occupied.", answers ("is", "occupied")), so they are
    not generated. A triple carrying the whole state ("being used for serving customers") would
    make each subtask at the counter a new event for everyone in view, where the original's short
    triple keeps it one memory while it is among the newest ``retention``.
    """
    activity = subtask_text(description)
    vars = {"name": r.name, "activity": description, "object": obj or "none"}
    if obj:
        ans = await ask(ctx, r.name, ACTION_DETAILS, vars)
        if ans is None:  # no made-up object state: the object stays idle to others
            return Grounding("", DEFAULT_EMOJI, ("is", activity[:160])), False
        state = ans.object_state
        obj_event = ("is", state_word(state))
        return Grounding("", ans.emoji, (ans.predicate, ans.object), state, ans.emoji, obj_event), True
    look = await ask(ctx, r.name, ACTION_LOOK, {"name": r.name, "activity": description})  # no object
    if look is None:
        return Grounding("", DEFAULT_EMOJI, ("is", activity[:160])), False
    return Grounding("", look.emoji, (look.predicate, look.object)), True


async def _details_five_calls(
    r: Mind, ctx: StepContext, description: str, obj: str
) -> tuple[Grounding, bool]:
    """The original's separate calls: emoji, event triple, object state, its emoji and triple.

    When the object's state is not given, the object keeps no state (others see it idle) and its
    emoji and triple are not asked."""
    activity = subtask_text(description)
    defaulted: list[bool] = []

    async def asked(task: Task[Any], vars: dict[str, Any], fallback: Any) -> Any:
        ans = await ask(ctx, r.name, task, vars)
        defaulted.append(ans is None)
        return fallback if ans is None else ans

    async def own_event() -> tuple[str, str]:
        fb = EventTriple(predicate="is", object=activity[:160])
        ans = await asked(EVENT_TRIPLE, {"name": r.name, "activity": description}, fb)
        return ans.predicate, ans.object

    async def emoji() -> str:
        ans = await asked(ACTION_EMOJI, {"activity": activity}, Emoji(emoji=DEFAULT_EMOJI))
        return str(ans.emoji)

    async def object_side() -> tuple[str | None, str | None, tuple[str, str] | None]:
        if not obj:
            return None, None, None
        state_vars = {"object": obj, "name": r.name, "activity": activity}
        given = await ask(ctx, r.name, OBJECT_STATE, state_vars)
        if given is None:  # no made-up object state: the object stays idle to others
            defaulted.append(True)
            return None, None, None
        state = given.state
        o_emoji, o_event = await aio.gather(
            asked(OBJECT_EMOJI, {"object": obj, "state": state}, Emoji(emoji=DEFAULT_EMOJI)),
            asked(
                OBJECT_EVENT_TRIPLE,
                {"object": obj, "state": state},
                EventTriple(predicate="is", object=state[:160]),
            ),
        )
        return state, o_emoji.emoji, (o_event.predicate, o_event.object)

    (pred, objt), em, (state, o_em, o_ev) = await aio.gather(own_event(), emoji(), object_side())
    return Grounding("", em, (pred, objt), state, o_em, o_ev), not any(defaulted)


# ---------------------------------------------------------------------- policy conversion
def to_policy(r: Mind, g: Grounding) -> PolicyGrounding | None:
    """The policy's form of a grounding (full triples, place as parts); None for special addresses."""
    parts = g.address.split(":")
    if g.address.startswith("<") or len(parts) not in (3, 4):
        return None
    _world, sector, arena, *rest = parts
    obj = rest[0] if rest else ""
    try:
        return PolicyGrounding(
            sector=sector,
            arena=arena,
            object=obj,
            emoji=g.emoji,
            event=(r.name, g.event[0], g.event[1]),
            object_state=g.obj_description,
            object_emoji=g.obj_emoji,
            object_event=(obj, g.obj_event[0], g.obj_event[1]) if g.obj_event is not None else None,
        )
    except ValueError:
        return None


def from_policy(r: Mind, g: PolicyGrounding) -> Grounding:
    """The minds' form of a stored grounding, at its place in the resident's world."""
    p, o = g.event[1] or "is", g.event[2] or "here"
    obj_event = None
    if g.object and g.object_event is not None:
        obj_event = (g.object_event[1] or "is", g.object_event[2] or "used")
    return Grounding(
        address=g.address(r.world),
        emoji=g.emoji,
        event=(p, o),
        obj_description=g.object_state if g.object else None,
        obj_emoji=g.object_emoji if g.object else None,
        obj_event=obj_event,
        reused=True,
    )


def policy_accepts(r: Mind, ctx: StepContext, g: PolicyGrounding) -> bool:
    """A stored place may be reused: it exists in this town, the resident knows it, may enter it."""
    if not ctx.town.has_address(g.address(r.world)) or not r.spatial.knows(g.sector, g.arena, g.object):
        return False
    last = r.identity.last_name
    return not is_others_private(g.sector, r.name, last) and not is_others_private(g.arena, r.name, last)


# ---------------------------------------------------------------------- the seam
async def ground_action(
    r: Mind, ctx: StepContext, description: str, *, key: str | None = None, parent: str | None = None
) -> Grounding:
    """Where ``description`` happens and how it shows (place, emoji, event triples).

    Args:
        r: the resident.
        ctx: the step.
        description: the activity text the resident does.
        key: the text the Lifestyle Policy files this grounding under (the canonical text of a
            short activity, see ``plan.next_action``); default ``description``.
        parent: the schedule row's parent (lets ``plan_rules`` keep a subtask in its activity's sector).

    Returns:
        The grounding; ``reused`` is True when it came from the Lifestyle Policy (no call).
    """
    policy = ctx.policy
    key = key or description
    if policy.enabled:
        stored = policy.find_grounding(r.name, key, ctx.step, accept=lambda g: policy_accepts(r, ctx, g))
        if stored is not None:
            return from_policy(r, stored)
    address, chosen = await pick_place(r, ctx, description, parent=parent)
    obj = last_part(address) if is_object_address(address) else ""
    details = _details_one_call if ctx.config.action_details else _details_five_calls
    look, complete = await details(r, ctx, description, obj)
    grounding = Grounding(
        address=address,
        emoji=look.emoji,
        event=look.event,
        obj_description=look.obj_description,
        obj_emoji=look.obj_emoji,
        obj_event=look.obj_event,
    )
    if policy.enabled and chosen and complete:
        stored_form = to_policy(r, grounding)
        if stored_form is not None:
            policy.add_grounding(r.name, key, stored_form, ctx.step)
    return grounding
