"""Phase 2: a conversation between two residents, turn by turn.

The initiator speaks first; each round both speak once; the conversation stops when a turn
sets the end flag or after ``max_chat_rounds`` rounds. Before each utterance the speaker recalls
what it knows about the other and what is relevant to the last lines:

- Social Memory off (``--disable_relationship``, the original path): a relationship summary over
  the memories retrieved about the other (:func:`relationship_context`, one call per utterance)
  and the raw memories retrieved for the last lines go into the utterance prompt.
- Social Memory on: the stored tie (relationship, feeling, running summary; see
  :mod:`aga.minds.social`) opens the conversation, refreshed by a call only when retrieval
  brings new memories; what the lines bring to mind joins the prompt; one update per side after
  the chat.

Afterwards: one summary, then for both residents a chat action lasting as long as the
conversation's length calls for, a rewritten schedule around it, an 800-step cool-down for the
pair, and a chat memory.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from aga import aio
from aga.minds.action import CHAT_EMOJI, PERSONA_PREFIX, Action, Grounding
from aga.minds.address import to_listener, vocative
from aga.minds.calls import ask, embed
from aga.minds.perceive import DEFAULT_IMPORTANCE, settle_ratings
from aga.minds.react import fit_reaction
from aga.minds.retrieve import merge_unique, retrieve
from aga.minds.social import Running, keep_summary, open_summary, recall, settle_tie
from aga.minds.state import ActionLogEntry
from aga.minds.text import ceil_minute, chat_minutes, last_part, steps_until, subtask_text, transcript
from aga.prompts.tasks import (
    CHAT_IMPORTANCE,
    CONVERSATION_SUMMARY,
    CONVERSATION_TURN,
    LINE_CHARS,
    RELATIONSHIP_SUMMARY,
    Turn,
)

if TYPE_CHECKING:
    from aga.minds.context import StepContext
    from aga.minds.state import Mind

RECENT_CHAT_MINUTES = 480

NEWS_IMPORTANCE = 7
"""A thought this important (rated 1-10) from the last :data:`NEWS_HOURS` is news the speaker
brings to a chat beside their 'currently' line: Klaus, told of Isabella's party at noon, thought
it worth a 9 and then talked with Maria three times that day without a word of it (his news
was only his research paper)."""
NEWS_HOURS = 24


def news_of(speaker: Mind, now: datetime) -> str:
    """What ``speaker`` has to tell: their 'currently' line and their most important recent
    thought (a rating the model gave, not a stand-in for a failed one)."""
    news = speaker.identity.currently.strip()
    fresh = [
        n
        for n in speaker.memory.newest(("thought",), 40)
        if not n.defaulted
        and (n.importance or 0) >= NEWS_IMPORTANCE
        and timedelta(0) <= now - n.created <= timedelta(hours=NEWS_HOURS)
        and n.description.strip() not in news
    ]
    if fresh:
        best = max(fresh, key=lambda n: (n.importance or 0, n.created))
        news = f"{news} Also on {speaker.name.split()[0]}'s mind: {best.description.strip()}".strip()
    return news or "nothing in particular"


def _status(r: Mind) -> str:
    return subtask_text(r.action.description) if r.action else "idle"


async def relationship_context(speaker: Mind, other: Mind, ctx: StepContext) -> str:
    """The original path (Social Memory off): what ``speaker`` knows about ``other`` before
    saying something, one summary call over the memories retrieved about them before every
    utterance ('' when nothing is remembered). Social Memory replaces it (:mod:`aga.minds.social`)."""
    if not speaker.memory.dim:
        return ""
    vec = await embed(ctx, [other.name])
    nodes = retrieve(
        speaker.memory,
        vec,
        ctx.now,
        ctx.config.chat_retrieve_count,
        speaker.params.weights,
        unique=not ctx.config.original_pipeline,
    )[0]
    if not nodes:
        return ""
    ans = await ask(
        ctx,
        speaker.name,
        RELATIONSHIP_SUMMARY,
        {
            "name": speaker.name,
            "other": other.name,
            "statements": "\n".join(f"- {n.embedding_key}" for n in nodes),
        },
    )
    return "" if ans is None else ans.summary


def _past_chat(speaker: Mind, other: Mind, ctx: StepContext) -> str:
    node = speaker.memory.last_chat_with(other.name)
    if node is None:
        return ""
    minutes = int((ctx.now - node.created).total_seconds() // 60)
    if minutes > RECENT_CHAT_MINUTES:
        return ""
    return f"{minutes} minutes ago, {speaker.name} and {other.name} talked: {node.description}."


async def _recall(speaker: Mind, listener: Mind, lines: list[tuple[str, str]], ctx: StepContext) -> str:
    """The original path: a relationship summary and the raw memories relevant to the moment."""
    relation = await relationship_context(speaker, listener, ctx)
    focal = [f"{listener.name} is {_status(listener)}"]
    if relation:
        focal.insert(0, relation)
    if lines:
        focal.append(transcript(lines[-4:]))
    memories: list[str] = []
    if speaker.memory.dim:
        groups = retrieve(
            speaker.memory,
            await embed(ctx, focal),
            ctx.now,
            ctx.config.turn_retrieve_count,
            speaker.params.weights,
            unique=not ctx.config.original_pipeline,
        )
        memories = [n.embedding_key for n in merge_unique(groups)]
    return "; ".join(([relation] if relation else []) + memories)


async def next_turn(
    speaker: Mind,
    listener: Mind,
    lines: list[tuple[str, str]],
    ctx: StepContext,
    initiator: Mind,
    running: Running | None = None,
) -> tuple[str, bool] | None:
    """The speaker's next utterance and end flag, or None when the model gave nothing usable.

    With ``running`` (Social Memory) the speaker's running summary about the listener stands in
    for the per-utterance relationship summary and raw memories.
    """
    if running is None:
        in_mind = await _recall(speaker, listener, lines, ctx)
    else:
        await recall(running, transcript(lines[-4:]), ctx)
        in_mind = running.context()
    other = listener if speaker is initiator else speaker
    situation = (
        f"{initiator.name} was {_status(initiator)} when {initiator.name} saw {other.name}, "
        f"who was {_status(other)}, and started a conversation."
    )
    place = ctx.town.address(speaker.tile, "arena")
    parts = place.split(":")
    where = f"{parts[2]} in {parts[1]}" if len(parts) >= 3 else (last_part(place) or "outside")
    vars = {
        "persona": speaker.identity.block(),
        "speaker": speaker.name,
        "listener": listener.name,
        "memories": in_mind or "nothing in particular",
        "news": news_of(speaker, ctx.now),
        "past": _past_chat(speaker, listener, ctx),
        "place": where,
        "situation": situation,
        "transcript": transcript(lines) or "(nobody has spoken yet)",
        "turn": len(lines),
    }

    def spoken(answer: Turn) -> str:
        said = own_words(answer.utterance, speaker.name, listener.name)
        return to_listener(said, listener.name) or said

    def check(answer: Turn) -> str | None:
        said = spoken(answer)
        return (
            label_problem(answer.utterance, speaker.name, listener.name)
            or line_problem(said, speaker.name, listener.name)
            or repeat_problem(said, lines)
        )

    checked = replace(CONVERSATION_TURN, check=check)
    ans = await ask(ctx, speaker.name, checked, vars)
    if ans is None or not getattr(ans, "utterance", ""):
        return None
    line = spoken(ans)
    if len(ans.utterance) >= LINE_CHARS:  # the grammar closed the line at its cap, mid-sentence
        line = whole_sentences(line)
    return (line, bool(ans.end)) if line else None


def whole_sentences(line: str) -> str:
    """``line`` up to its last finished sentence ("... on Friday. And then we" -> "... on
    Friday."), or cut after its last whole word with "..." when no sentence ends in it."""
    text = line.rstrip()
    if text[-1:] in ".!?\"')":
        return text
    ends = [m.end() for m in re.finditer(r"[.!?][\"')]?(?=\s)", text)]
    if ends:
        return text[: ends[-1]]
    head = text.rsplit(" ", 1)[0] if " " in text else text
    return head.rstrip(",;:- ") + "..."


_THIRD_PERSON_VERB = (
    r"(?:is|was|has|had|will|would|can|could|should|seems|looks|says|said|thinks|wants|needs|"
    r"likes|loves|knows|feels|and i)"
)


def line_problem(line: str, speaker: str, listener: str) -> str | None:
    """Why a chat line is wrong in a way the schema cannot say: it speaks of the listener in the
    third person ("I can't wait to meet Klaus Mueller" said to Klaus) or the speaker names
    themself; None when it is fine (a first name in a greeting is fine)."""
    if not line.strip():
        return "the line is empty; write what the speaker says"
    low = line.casefold()
    lfirst, sfirst = listener.split()[0].casefold(), speaker.split()[0].casefold()
    you = listener.split()[0]
    named = [
        m for m in re.finditer(re.escape(listener.casefold()), low) if not vocative(low, m.start(), m.end())
    ]
    if named or re.search(rf"\b{re.escape(lfirst)}(?:\s+{_THIRD_PERSON_VERB}\b|'s\b)", low):
        return (
            f"{speaker} is talking to {listener}, so {listener} is 'you': write the line to {you} "
            f'("you"), not about {listener}'
        )
    if any(vocative(low, m.start(), m.end()) for m in re.finditer(re.escape(speaker.casefold()), low)):
        return (  # "No, Klaus Mueller! ..." said by Klaus: he calls himself by name
            f"{speaker} is the one speaking and is talking to {listener}: call them {you} or "
            f'"you", and never say your own name, {speaker}'
        )
    own = "|".join(re.escape(n) for n in (speaker.casefold(), sfirst))
    if re.search(rf"\b(?:{own})(?:\s+{_THIRD_PERSON_VERB}\b|'s\b)", low):
        return f'{speaker} is the one speaking: {speaker} says "I", never their own name'
    if _HELP_DESK.search(line):
        return (
            f"this line talks like a help desk answering a customer, not like {speaker} chatting with "
            f"{you}; say what {speaker.split()[0]} would say to someone they know, about their own "
            "day, news and plans"
        )
    return None


def label_problem(utterance: str, speaker: str, listener: str) -> str | None:
    """Why a line is the listener's, not the speaker's: it begins with the listener's name as a
    label (Maria, to speak to Klaus, wrote "Klaus Mueller: Hi Maria!"); None otherwise."""
    text = utterance.strip().lower()
    for name in (listener, listener.split()[0]):
        if text.startswith(name.lower() + ":"):
            you = listener.split()[0]
            return (
                f"the line begins '{name}:', so it is {you}'s line; write only what {speaker} says "
                f"to {you}, with no name before it"
            )
    return None


_HELP_DESK = re.compile(
    r"\b(?:i apologi[sz]e|as an (?:ai|assistant|language model)|how (?:can|may) i (?:help|assist) you|"
    r"(?:provide|give) me (?:with )?(?:more|some|further) (?:information|details)|"
    r"(?:could|can|would) you (?:please )?(?:clarify|specify|provide)|"
    r"i'?m sorry,? but i'?m not sure how to help|(?:can'?t|cannot) (?:assist|help) (?:you )?with that|"
    r"i don'?t have any (?:\w+ ){0,3}assistance)\b",
    re.IGNORECASE,
)
"""What the coder-tuned 1.5B model says when it slips into its assistant role in a chat (the
embedded day run: "I'm sorry, but I'm not sure how to help with the decorations. Can you please
provide me with more information?", then both speakers said it back and forth)."""


def _words(line: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", line.casefold())


def repeat_problem(line: str, lines: list[tuple[str, str]]) -> str | None:
    """Why a chat line is a repeat: it says again (nearly word for word) a line already said in
    this conversation, by either speaker; None when it is new. A small model copies the last
    lines otherwise, and the chat loops on one sentence."""
    mine = _words(line)
    if len(mine) < 3:  # "Thanks!", "See you." may come twice
        return None
    words = set(mine)
    for who, said in lines:
        theirs = set(_words(said))
        if not theirs:
            continue
        overlap = len(words & theirs) / len(words | theirs)
        if overlap >= 0.75:
            return (
                f'this line repeats what {who} already said ("{said[:80]}"); write something new '
                "that answers the last line and moves the conversation on, or end it"
            )
    return None


def own_words(utterance: str, speaker: str, listener: str) -> str:
    """The speaker's own line: without a leading "Name:" and cut where the model starts writing
    the other person's line ("... Maria Lopez: ...")."""
    names = {speaker, listener, speaker.split()[0], listener.split()[0]}
    text = utterance.strip()
    changed = True
    while changed:
        changed = False
        for name in (*names, *_LABELS):
            if text.lower().startswith(name.lower() + ":"):
                text = text[len(name) + 1 :].strip()
                changed = True
    cut = len(text)
    for name in (listener, listener.split()[0]):
        at = re.search(rf"(?:^|\s){re.escape(name)}:", text)
        if at:
            cut = min(cut, at.start())
    # narration after the line ("... do you offer? Klaus Mueller asked, interested in ...")
    who = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    told = re.search(rf"(?<=[.!?\"])\s+(?:{who})\s+(?:{_NARRATION})\b", text)
    if told and told.start() > 0:
        cut = min(cut, told.start())
    return text[:cut].strip().strip('"').strip()


_LABELS = ("you", "me", "speaker", "answer", "reply")
"""Labels a small model puts before a line instead of a name ("you: I'm sorry, ...")."""

_NARRATION = "said|says|asked|asks|replied|replies|added|adds|answered|answers|smiled|smiles|laughed|nodded"


async def talk(
    a: Mind, b: Mind, ctx: StepContext, running: dict[str, Running] | None = None
) -> list[tuple[str, str]]:
    """The lines of a conversation started by ``a`` (at most ``max_chat_rounds`` rounds).

    ``running`` (Social Memory) maps each speaker's name to its running summary of the other.
    """
    lines: list[tuple[str, str]] = []
    for _round in range(ctx.config.max_chat_rounds):
        for speaker, listener in ((a, b), (b, a)):
            run = running.get(speaker.name) if running else None
            turn = await next_turn(speaker, listener, lines, ctx, a, run)
            if turn is None:
                return lines
            lines.append((speaker.name, turn[0]))
            if turn[1] and (len(lines) >= MIN_CHAT_LINES or farewell(turn[0])):
                return lines
    return lines


MIN_CHAT_LINES = 4
"""An end flag is honoured from the 4th line on, or on a line that says goodbye: a small model
sets it on the first or second line of most chats ("Hi Klaus, do you need anything?" and
done), so nobody gets to answer an invitation."""

_FAREWELL = re.compile(
    r"\b(?:good ?bye|bye|see you|see ya|talk (?:to you )?(?:later|soon)|take care|catch you later|"
    r"(?:have|enjoy) (?:a|your) (?:good|nice|great|lovely)|(?:got|have) to go|gotta go|until then|"
    r"good ?night)\b",
    re.IGNORECASE,
)


def farewell(line: str) -> bool:
    """Whether a chat line takes leave ("See you tomorrow!", "Take care, Maria.")."""
    return _FAREWELL.search(line) is not None


async def converse(a: Mind, b: Mind, ctx: StepContext) -> None:
    """Phase 2: ``a`` talks with ``b``; mutates exactly these two residents."""
    await aio.gather(settle_ratings(a, ctx, force=True), settle_ratings(b, ctx, force=True))
    before = {r.name: _status(r) for r in (a, b)}
    running: dict[str, Running] | None = None
    if ctx.config.relationship:
        opened = await aio.gather(
            open_summary(a, b, before[b.name], ctx), open_summary(b, a, before[a.name], ctx)
        )
        running = {a.name: opened[0], b.name: opened[1]}
    lines = await talk(a, b, ctx, running)
    cooldown_end = ctx.step + ctx.config.chat_cooldown_steps
    if not lines:
        for me, other in ((a, b), (b, a)):
            if running is not None:
                keep_summary(me, running[me.name])
            me.set_cooldown(other.name, cooldown_end)
        return
    text = transcript(lines)
    ans = await ask(
        ctx,
        a.name,
        CONVERSATION_SUMMARY,
        {"names": f"{a.name} and {b.name}", "transcript": text},
    )
    # without a summary the chat is described by its first line (what was said, not made up),
    # and its memory is marked as a stand-in
    summary = chat_phrase(ans.summary) if ans is not None else f'talking with {b.name} ("{lines[0][1][:80]}")'
    stand_in = ans is None
    minutes = chat_minutes(lines)
    end = ceil_minute(ctx.now) + timedelta(minutes=minutes)
    cooldown_end = ctx.step + steps_until(ctx.now, end, ctx.sec_per_step) + ctx.config.chat_cooldown_steps
    runs = running or {}
    await aio.gather(
        _start_chat(
            a, b, ctx, lines, summary, minutes, end, cooldown_end, runs.get(a.name), before, stand_in
        ),
        _start_chat(
            b, a, ctx, lines, summary, minutes, end, cooldown_end, runs.get(b.name), before, stand_in
        ),
    )


_CHAT_VERB = re.compile(
    r"^(?:.*?\b)?(?:discuss(?:ing|es|ed)?|(?:talk|chat|convers)(?:ing|s|ed|e|es)?\s+(?:about|over|on))\s+",
    re.IGNORECASE,
)


_LOWER_FIRST = {"the", "a", "an", "their", "his", "her", "its", "our", "my", "some", "plans", "how", "what"}
"""First words of a topic that lose their capital after "conversing about" (names keep theirs)."""


def chat_phrase(summary: str) -> str:
    """A chat's summary as the phrase that follows "<name> is": "conversing about X".

    Small models write "Klaus and Isabella discussing X" or "They talked about X" although the
    prompt asks for "conversing about X"; the topic is kept, the frame made whole, so the memory
    reads "Klaus Mueller is conversing about X" and not "Klaus Mueller is Klaus and Isabella ...".
    """
    text = summary.strip().rstrip(".").strip()
    low = text.lower()
    for start in ("conversing about", "conversing with", "talking about", "talking with", "chatting"):
        if low.startswith(start):
            return text[0].lower() + text[1:]
    found = _CHAT_VERB.match(text)
    topic = text[found.end() :] if found else text
    first = topic.split(" ", 1)[0]
    if first.lower() in _LOWER_FIRST:  # "The party" -> "the party"; names keep their capital
        topic = first.lower() + topic[len(first) :]
    return f"conversing about {topic}" if topic else "conversing"


async def _start_chat(
    me: Mind,
    other: Mind,
    ctx: StepContext,
    lines: list[tuple[str, str]],
    summary: str,
    minutes: int,
    end: datetime,
    cooldown_end: int,
    run: Running | None,
    before: dict[str, str],
    stand_in: bool = False,
) -> None:
    await fit_reaction(me, ctx, summary, minutes)
    grounding = Grounding(
        address=f"{PERSONA_PREFIX}{other.name}", emoji=CHAT_EMOJI, event=("chat with", other.name)
    )
    action = Action("chat", summary, ctx.now, end, grounding, None)
    me.set_action(action)
    me.start_chat(other.name, lines, end, cooldown_end)
    description = f"{me.name} is {summary}"
    if ctx.config.relationship:
        context = f"{me.name} was {before[me.name]}; {other.name} was {before[other.name]}."
        settled, vec = await aio.gather(
            settle_tie(me, other.name, run, ctx, before=context, convo=summary, lines=transcript(lines)),
            embed(ctx, [description]),
        )
        importance = DEFAULT_IMPORTANCE if settled is None else settled
        stand_in = stand_in or settled is None
    else:
        rating, vec = await aio.gather(
            ask(
                ctx,
                me.name,
                CHAT_IMPORTANCE,
                {"persona": me.identity.block(), "name": me.name, "summary": summary},
            ),
            embed(ctx, [description]),
        )
        importance = DEFAULT_IMPORTANCE if rating is None else int(rating.rating)
        stand_in = stand_in or rating is None
    if stand_in:
        me._heal_due = True  # rated again at the next step
    me.memory.add(
        "chat",
        created=ctx.now,
        subject=me.name,
        predicate="chat with",
        obj=other.name,
        description=description,
        embedding_key=description,
        importance=importance,
        keywords=[me.name, other.name],
        filling=[list(line) for line in lines],
        vector=vec[0],
        defaulted=stand_in,
    )
    me.log_action(
        ActionLogEntry(
            task="chat",
            parent=None,
            is_new=True,
            duration=minutes,
            time=ctx.now.strftime("%Y-%m-%d %H:%M:%S"),
            chat={"person": other.name, "message": [list(line) for line in lines]},
        )
    )
