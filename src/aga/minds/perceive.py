"""Perception: what a resident notices this step, turned into event memories.

As in the original: the places within the vision radius join the spatial memory; events on
tiles of the resident's current arena within the radius are taken closest first, up to the
attention bandwidth; an event whose (subject, predicate, object) is among the newest
``retention`` event memories is not stored again. New events are rated (idle ones are 1 without
asking), embedded in one batch, and counted towards the reflection trigger.

Savings (``MindConfig`` switches; off, every other event costs one ``event_importance`` call):

- ``reuse_ratings``: a text this resident rated before keeps its rating; sleep counts as 1 like
  idleness; an object's event that only mirrors someone's activity ("the stove is being used
  for cooking" while Klaus cooks at it) takes the rating of that activity ("Klaus Mueller is
  cooking"), asked for under that text if needed.
- ``batch_ratings``: the events of one step still to rate go in one ``event_ratings`` call;
  when one of them is the resident's own activity, its next activities of the day (up to
  ``AHEAD_MINUTES`` ahead) are rated in the same call and kept for when they start.
- ``stored_ratings`` (with the Lifestyle Policy): the ratings the model gives a resident for
  their own activities ("Isabella Rodriguez is brushing teeth") and seed memories are kept in the
  public policy store; a later simulation in the same storage folder takes them from there
  instead of asking again (the same resident, the same text: the model's own earlier answer).
- ``defer_ratings``: events still to rate are stored with their importance unknown and rated
  together (:func:`settle_ratings`) once ``DEFER_COUNT`` texts wait, the oldest has waited
  ``DEFER_MINUTES``, or something needs them: a chat, a reflection, a new day. Their importance
  counts towards the reflection trigger when it is known.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from aga import aio
from aga.minds.calls import ask, embed
from aga.minds.memory import MemoryNode
from aga.minds.schedule import index_at, is_sleep_text
from aga.minds.spatial import visible_places
from aga.minds.text import event_sentence, last_part, minute_of_day, numbered
from aga.prompts.tasks import (
    EVENT_IMPORTANCE,
    EVENT_RATINGS,
    THOUGHT_IMPORTANCE,
    Ratings,
    exactly,
)

if TYPE_CHECKING:
    from aga.minds.context import StepContext
    from aga.minds.state import Mind
    from aga.world import Event

DEFAULT_IMPORTANCE = 4
AHEAD_MINUTES = 180
"""How far ahead in its schedule a resident's own activities are rated with the current one."""
BATCH_MAX = 8
"""Most events rated in one ``event_ratings`` call."""
RATED_CAP = 400
"""Ratings kept ahead of time per resident (the oldest are forgotten first)."""
DEFER_COUNT = 8
"""Distinct texts waiting for a rating that make :func:`settle_ratings` ask at once."""
DEFER_MINUTES = 60
"""Game minutes the oldest deferred event may wait for its rating."""
SEED_TIME = datetime(2000, 1, 1)
"""Creation time of seed memories until their first step stamps them with the game time."""


async def rate(r: Mind, ctx: StepContext, text: str, *, thought: bool = False) -> int:
    """Importance 1..10 of an event or thought seen by ``r`` (4 when the model fails).

    With ``reuse_ratings``, a text this resident has already rated (the same event seen again
    once it has left the retention window) keeps its rating without asking again.
    """
    rating = await rate_or_none(r, ctx, text, thought=thought)
    return DEFAULT_IMPORTANCE if rating is None else rating


async def rate_or_none(
    r: Mind, ctx: StepContext, text: str, *, thought: bool = False, seed: bool = False
) -> int | None:
    """As :func:`rate`, but None when the model gave nothing usable (so no memo keeps it). The
    model's rating of one's own activity or of a ``seed`` memory is kept for later simulations
    (saving ``stored_ratings``)."""
    key = "thought" if thought else "event"
    known = r.memory.known_rating(key, text) if _reuse(ctx) else None
    if known is None:
        known = stored_rating(r, ctx, key, text)
    if known is not None:
        return known
    task = THOUGHT_IMPORTANCE if thought else EVENT_IMPORTANCE
    vars = {"persona": r.identity.block(), "name": r.name, key: text}
    ans = await ask(ctx, r.name, task, vars)
    if ans is None:
        return None
    if seed or not thought:
        keep_ratings(r, ctx, {text: int(ans.rating)}, kind=key)
    return int(ans.rating)


def _stored(ctx: StepContext) -> bool:
    return ctx.config.stored_ratings and ctx.policy.enabled


def stored_rating(r: Mind, ctx: StepContext, kind: str, text: str) -> int | None:
    """The rating of ``text`` an earlier simulation stored for ``r`` (saving ``stored_ratings``)."""
    return ctx.policy.find_rating(r.name, kind, text) if _stored(ctx) else None


def keep_ratings(r: Mind, ctx: StepContext, ratings: dict[str, int], *, kind: str = "event") -> None:
    """Store the model's ratings for later simulations (saving ``stored_ratings``): of events,
    only the resident's own activities; thoughts as given (the callers pass seed memories)."""
    if not _stored(ctx):
        return
    mine = f"{r.name} is "
    kept = ratings if kind == "thought" else {t: v for t, v in ratings.items() if t.startswith(mine)}
    if kept:
        ctx.policy.add_ratings(r.name, kind, kept, ctx.step)


def _reuse(ctx: StepContext) -> bool:
    return ctx.config.reuse_ratings


def rating_key(r: Mind, ctx: StepContext, subject: str, sentence: str) -> str:
    """The text whose rating an event takes: its own sentence, or, for an object in use by a
    resident (saving ``reuse_ratings``), the sentence of that resident's activity."""
    if not _reuse(ctx) or ":" not in subject:
        return sentence
    user = _where(ctx).user.get(subject)  # the first resident by name using it
    if user is not None:
        return event_sentence(user, ctx.views[user].description)
    return sentence


def known_rating(r: Mind, ctx: StepContext, key: str) -> int | None:
    """A rating that costs no call: by rule, given before, given ahead of time, or stored by an
    earlier simulation."""
    if _reuse(ctx):
        if is_sleep_text(key):
            return 1
        known = r.memory.known_rating("event", key)
        if known is not None:
            return known
    if _reuse(ctx) or ctx.config.batch_ratings:
        ahead = r.rated.get(key)
        if ahead is not None:
            return ahead
    return stored_rating(r, ctx, "event", key)


def upcoming(r: Mind, ctx: StepContext, skip: set[str]) -> list[str]:
    """Sentences of the resident's next activities (within ``AHEAD_MINUTES``) not rated yet."""
    if not r.schedule:
        return []
    now = minute_of_day(ctx.now)
    i = index_at(r.schedule, now)
    start = sum(row.minutes for row in r.schedule[:i])
    out: list[str] = []
    for row in r.schedule[i:]:
        if start >= now + AHEAD_MINUTES:
            break
        start += row.minutes
        text = event_sentence(r.name, row.description)
        if text not in skip and text not in out and known_rating(r, ctx, text) is None:
            out.append(text)
    return out


async def rate_events(r: Mind, ctx: StepContext, keys: list[str]) -> dict[str, int | None]:
    """Ratings of the distinct texts ``keys`` (none of them known yet), by the configured path;
    None for a text the model gave no usable rating for (the caller uses the default)."""
    if not keys:
        return {}
    if not ctx.config.batch_ratings:
        ratings = await aio.gather(*(rate_or_none(r, ctx, k) for k in keys))
        return dict(zip(keys, ratings))
    mine = f"{r.name} is "
    ahead = upcoming(r, ctx, set(keys)) if any(k.startswith(mine) for k in keys) else []
    items = [*keys, *ahead]
    chunks = [items[i : i + BATCH_MAX] for i in range(0, len(items), BATCH_MAX)]
    answers = await aio.gather(*(_rate_chunk(r, ctx, chunk) for chunk in chunks))
    out: dict[str, int | None] = {}
    for chunk, ans in zip(chunks, answers):
        for k, text in enumerate(chunk):
            out[text] = None if ans is None else ans[k]
    extra = {t: v for t in ahead if (v := out[t]) is not None}
    if extra:
        r.remember_ratings(extra, cap=RATED_CAP)
    return {k: out[k] for k in keys}


async def _rate_chunk(r: Mind, ctx: StepContext, texts: list[str]) -> list[int | None] | None:
    """One call for several texts (a single text takes the one-event task); None when unusable."""
    if len(texts) == 1:
        return [await rate_or_none(r, ctx, texts[0])]
    task = replace(EVENT_RATINGS, schema=exactly(Ratings, "ratings", len(texts)))
    vars = {"persona": r.identity.block(), "name": r.name, "events": numbered(texts), "items": texts}
    ans = await ask(ctx, r.name, task, vars)
    if ans is None:
        return None
    ratings = [int(x.rating) for x in ans.ratings]
    keep_ratings(r, ctx, dict(zip(texts, ratings, strict=True)))
    return [*ratings]


def noticed(r: Mind, ctx: StepContext) -> list[Event]:
    """Distinct events in view (same arena, within radius), closest first, up to the bandwidth."""
    near = ctx.events.near(ctx.town, r.tile, r.params.vision_r, same_arena=True)
    out: list[Event] = []
    seen: set[Event] = set()
    for _tile, ev in near:
        if ev in seen:
            continue
        seen.add(ev)
        out.append(ev)
        if len(out) >= r.params.att_bandwidth:
            break
    return out


_SNAPSHOT: list[Any] = [None, None]


class _Where:
    """Per-step index of the snapshot: who uses which object (the first resident by name)."""

    def __init__(self, ctx: StepContext) -> None:
        self.user: dict[str, str] = {}
        for name in sorted(ctx.views):
            v = ctx.views[name]
            if v.description and v.address not in self.user:
                self.user[v.address] = name


def _where(ctx: StepContext) -> _Where:
    if _SNAPSHOT[0] is not ctx.views:
        _SNAPSHOT[0] = ctx.views
        _SNAPSHOT[1] = _Where(ctx)
    return _SNAPSHOT[1]


def scene(r: Mind, ctx: StepContext) -> tuple[Any, ...]:
    """What decides the events in view: the board, the tile, and the board's stamps of the
    places and cells the vision square touches (``TileEvents.stamp``: they move on whenever an
    event is added to or taken from a tile there). When the scene is unchanged, so are the events
    in view; and when those events brought no new memory last time, they bring none again (the
    retention window only changes when perception adds an event memory). Skipping that case
    changes nothing, so a resumed run (which starts without this cache) does exactly what an
    uninterrupted one does."""
    return (id(ctx.events), r.tile, ctx.events.stamp(ctx.town, r.tile, r.params.vision_r))


async def perceive(r: Mind, ctx: StepContext) -> list[MemoryNode]:
    """Look around; store and return the new event memories of this step."""
    if r._seen_tile != r.tile:
        r.spatial.learn_all(visible_places(ctx.town, r.tile, r.params.vision_r))
        r._seen_tile = r.tile
    look = scene(r, ctx)
    if look == r._quiet_scene:
        return []  # the same events as last time, when they brought nothing new: nothing again
    r._quiet_scene = None
    events = noticed(r, ctx)
    if not events:
        r._quiet_scene = look
        return []
    recent = r.memory.recent_event_triples(r.params.retention)
    fresh: list[tuple[str, str, str, str]] = []
    for ev in events:
        if ev.predicate is None:
            pred, obj, desc = "is", "idle", "idle"
        else:
            pred, obj, desc = ev.predicate, ev.object or "", ev.description or ev.predicate
        triple = (ev.subject, pred, obj)
        if triple in recent:
            continue
        recent.add(triple)
        fresh.append((ev.subject, pred, obj, event_sentence(ev.subject, desc)))
    if not fresh:
        r._quiet_scene = look
        return []
    keys: list[str | None] = [
        None if p == "is" and o == "idle" else rating_key(r, ctx, s, d) for s, p, o, d in fresh
    ]
    given = {k: known_rating(r, ctx, k) for k in keys if k is not None}
    todo = [k for k, v in given.items() if v is None]
    later: set[str] = set()
    failed: set[str] = set()
    if ctx.config.defer_ratings:
        later, todo = set(todo), []
    if _reuse(ctx) or ctx.config.batch_ratings or ctx.config.defer_ratings:
        asked, vectors = await aio.gather(rate_events(r, ctx, todo), embed(ctx, [d for *_x, d in fresh]))
        failed = {k for k, v in asked.items() if v is None}
        given.update({k: DEFAULT_IMPORTANCE if v is None else v for k, v in asked.items()})
        ratings: list[int | None] = [1 if k is None else given[k] for k in keys]
        stand_in = [k is not None and k in failed for k in keys]
    else:  # the original path: one call per event that is not idle, repeats included
        asked_each = await aio.gather(
            *(rate_or_none(r, ctx, d) for (_s, _p, _o, d), k in zip(fresh, keys) if k)
        )
        vectors = await embed(ctx, [d for *_x, d in fresh])
        it = iter(asked_each)
        each = [None if k is None else next(it) for k in keys]
        stand_in = [k is not None and v is None for k, v in zip(keys, each)]
        ratings = [1 if k is None else (DEFAULT_IMPORTANCE if v is None else v) for k, v in zip(keys, each)]
    if _reuse(ctx):
        shadowed = {
            k: given[k]
            for (_s, _p, _o, d), k in zip(fresh, keys)
            if k is not None and k != d and k not in later and k not in failed
        }
        if any(r.rated.get(k) != v for k, v in shadowed.items()):
            r.remember_ratings({k: v for k, v in shadowed.items() if v is not None})
    nodes: list[MemoryNode] = []
    for k, (s, p, o, d) in enumerate(fresh):
        importance = ratings[k]
        filling: list[int] = []
        if s == r.name and p == "chat with":
            last = r.memory.last_chat_with(o)
            if last is not None:
                filling = [last.id]
        node = r.memory.add(
            "event",
            created=ctx.now,
            subject=s,
            predicate=p,
            obj=o,
            description=d,
            embedding_key=d,
            importance=importance,
            keywords=[last_part(s), last_part(o)],
            filling=filling,
            vector=vectors[k],
            defaulted=stand_in[k],
        )
        if importance is None:
            r.defer_rating(node.id, keys[k] or d)
        if stand_in[k]:  # a stand-in rating: not counted towards reflection, rated again next step
            r.count_event(None)
            r._heal_due = True
        else:
            r.count_event(importance)
        nodes.append(node)
    return nodes


async def settle_ratings(r: Mind, ctx: StepContext, *, force: bool = False) -> None:
    """Rate the deferred events (saving ``defer_ratings``) when enough wait, the oldest has
    waited long enough, or ``force`` (something is about to use their importance)."""
    deferred = r.deferred
    if not deferred:
        return
    memory = r.memory
    live = [i for i in deferred if memory.has(i)]
    if (  # most steps: too few texts wait, and not for long (checked before sorting anything)
        not force
        and live
        and len({deferred[i] for i in live}) < DEFER_COUNT
        and ctx.now - memory.node(min(live)).created < timedelta(minutes=DEFER_MINUTES)
    ):
        return
    ids = sorted(live)
    keys = list(dict.fromkeys(deferred[i] for i in ids))
    given = {k: known_rating(r, ctx, k) for k in keys}
    given.update(await rate_events(r, ctx, [k for k, v in given.items() if v is None]))
    for i in ids:
        key, rating = r.deferred[i], given[r.deferred[i]]
        if rating is None:  # the model failed: a marked stand-in, not counted, rated again next step
            r.memory.set_importance(i, DEFAULT_IMPORTANCE, defaulted=True)
            r._heal_due = True
            continue
        if key != r.memory.node(i).description:
            r.remember_ratings({key: rating})
        r.memory.set_importance(i, rating)
        r.spend_importance(rating)
    r.clear_deferred()


async def heal_memory(r: Mind, ctx: StepContext) -> None:
    """Rate and embed memories that lack an importance or a vector (seed memories, or nodes
    whose vectors were not stored), and rate again the stand-in ratings of failed answers (a
    rating that comes now counts towards reflection; one that fails again stays marked)."""
    stand_ins = [n for n in r.memory.stand_ins() if n.id not in r.deferred]
    again = await aio.gather_or_cancel(
        [rate_or_none(r, ctx, n.description, thought=n.kind == "thought") for n in stand_ins]
    )
    for node, rating in zip(stand_ins, again):
        if rating is not None:
            r.memory.set_importance(node.id, rating)
            if node.kind == "event":
                r.spend_importance(rating)
    pending = r.memory.pending()
    if not pending:
        return
    unrated = [n for n in pending if n.importance is None and n.id not in r.deferred]
    ratings = await aio.gather_or_cancel(
        [
            rate_or_none(r, ctx, n.description, thought=n.kind == "thought", seed=n.created == SEED_TIME)
            for n in unrated
        ]
    )
    for node, rating in zip(unrated, ratings):
        if rating is None:
            r.memory.set_importance(node.id, DEFAULT_IMPORTANCE, defaulted=True)
        else:
            r.memory.set_importance(node.id, rating)
        if node.created == SEED_TIME:
            r.memory.restamp(node.id, ctx.now)
    unembedded = [n for n in pending if not r.memory.has_vector(n.id)]
    if unembedded:
        vectors = await embed(ctx, [n.embedding_key for n in unembedded])
        for node, vec in zip(unembedded, vectors):
            r.memory.set_vector(node.id, vec)
