"""Conversations: turn by turn until the end flag or 8 rounds; chat action, memory and cool-down."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from aga.minds import Resident
from aga.minds.converse import converse
from aga.minds.plan import next_action
from aga.minds.react import decide
from aga.minds.schedule import total
from aga.minds.text import chat_minutes

from .driver import make_ctx, with_rules

AT = datetime(2023, 2, 13, 10, 0, 0)


def _pair(town, personas, gw):  # type: ignore[no-untyped-def]
    a = Resident.from_persona(personas["Klaus Mueller"], town)
    b = Resident.from_persona(personas["Maria Lopez"], town)
    b.tile = next(t for t in town.nearby(a.tile, 2) if town.is_walkable(t) and t != a.tile)
    for r in (a, b):
        asyncio.run(next_action(r, make_ctx(town, gw, [a, b], AT)))
        r.drain_action_log()
    gw.ledger.drain()
    return a, b


def _turns(end_at: int | None):  # type: ignore[no-untyped-def]
    def rule(request, rng):  # type: ignore[no-untyped-def]
        turn = int(request.vars["turn"])
        return {
            "utterance": f"line {turn} from {request.vars['speaker']}",
            "end": end_at is not None and turn >= end_at,
        }

    return rule


def test_a_conversation_stops_at_the_end_flag(town, personas, scripted) -> None:  # type: ignore[no-untyped-def]
    gw = scripted(with_rules(conversation_turn=_turns(4)))
    a, b = _pair(town, personas, gw)
    asyncio.run(converse(a, b, make_ctx(town, gw, [a, b], AT, step=3600)))
    assert a.chat == [
        ("Klaus Mueller", "line 0 from Klaus Mueller"),
        ("Maria Lopez", "line 1 from Maria Lopez"),
        ("Klaus Mueller", "line 2 from Klaus Mueller"),
        ("Maria Lopez", "line 3 from Maria Lopez"),
        ("Klaus Mueller", "line 4 from Klaus Mueller"),
    ]
    assert b.chat == a.chat
    turns = [row for row in gw.ledger.drain() if row.task == "conversation_turn"]
    assert len(turns) == 5


def test_an_early_end_flag_counts_only_on_a_goodbye(town, personas, scripted) -> None:  # type: ignore[no-untyped-def]
    gw = scripted(with_rules(conversation_turn=_turns(1)))  # "end" from the 2nd line on
    a, b = _pair(town, personas, gw)
    asyncio.run(converse(a, b, make_ctx(town, gw, [a, b], AT, step=3600)))
    assert len(a.chat) == 4  # the flag on lines 2 and 3 is not taken: nobody said goodbye

    def bye(request, rng):  # type: ignore[no-untyped-def]
        turn = int(request.vars["turn"])
        return {"utterance": "Hello Maria!" if turn == 0 else "I have to go, see you later!", "end": True}

    gw = scripted(with_rules(conversation_turn=bye))
    a, b = _pair(town, personas, gw)
    asyncio.run(converse(a, b, make_ctx(town, gw, [a, b], AT, step=3600)))
    assert [line for _, line in a.chat] == ["Hello Maria!", "I have to go, see you later!"]


def test_a_conversation_lasts_at_most_eight_rounds(town, personas, scripted) -> None:  # type: ignore[no-untyped-def]
    gw = scripted(with_rules(conversation_turn=_turns(None)))
    a, b = _pair(town, personas, gw)
    asyncio.run(converse(a, b, make_ctx(town, gw, [a, b], AT, step=3600)))
    assert len(a.chat) == 16
    assert [s for s, _ in a.chat] == ["Klaus Mueller", "Maria Lopez"] * 8


def test_both_get_the_chat_action_memory_and_cooldown(town, personas, scripted) -> None:  # type: ignore[no-untyped-def]
    gw = scripted(with_rules(conversation_turn=_turns(3)))
    a, b = _pair(town, personas, gw)
    now = AT + timedelta(seconds=20)
    asyncio.run(converse(a, b, make_ctx(town, gw, [a, b], now, step=3602)))
    minutes = chat_minutes(a.chat)
    end = datetime(2023, 2, 13, 10, 1, 0) + timedelta(minutes=minutes)
    for me, other in ((a, b), (b, a)):
        assert me.action is not None and me.action.kind == "chat"
        assert me.action.address == f"<persona> {other.name}"
        assert me.action.grounding.event == ("chat with", other.name)
        assert me.action.end == end and me.chat_end == end and me.chatting_with == other.name
        assert me.cooldown[other.name] == 3602 + (end - now).total_seconds() // 10 + 800
        chats = [n for n in me.memory if n.kind == "chat"]
        assert (
            len(chats) == 1
            and chats[0].object == other.name
            and chats[0].filling == [list(x) for x in a.chat]
        )
        assert total(me.schedule) == 1440 and all(row.minutes > 0 for row in me.schedule)
        assert any(row.description == me.action.description and row.parent == "react" for row in me.schedule)
        log = me.drain_action_log()
        assert (
            log[0]["task"] == "chat"
            and log[0]["chat"]["person"] == other.name
            and log[0]["duration"] == minutes
        )
    view = a.view()
    assert view.chatting_with == "Maria Lopez" and view.emoji == "💬"


def test_no_new_chat_with_the_same_person_during_the_cooldown(town, personas, scripted) -> None:  # type: ignore[no-untyped-def]
    gw = scripted(with_rules(conversation_turn=_turns(1), decide_to_talk=lambda req, rng: {"answer": "yes"}))
    a, b = _pair(town, personas, gw)
    asyncio.run(converse(a, b, make_ctx(town, gw, [a, b], AT, step=0)))
    until = a.cooldown[b.name]
    assert until == (a.chat_end - AT).total_seconds() // 10 + 800  # type: ignore[operator]
    a.end_chat()
    b.end_chat()
    for r in (a, b):
        asyncio.run(next_action(r, make_ctx(town, gw, [a, b], a.action.end)))  # type: ignore[union-attr]
    seen = a.memory.add(
        "event",
        created=AT,
        subject=b.name,
        predicate="is",
        obj="x",
        description="Maria is here",
        embedding_key="Maria is here",
        importance=2,
    )
    gw.ledger.drain()
    blocked = asyncio.run(decide(a, make_ctx(town, gw, [a, b], AT, step=until - 1), [seen]))
    assert blocked is None
    assert [row.task for row in gw.ledger.drain() if row.task == "decide_to_talk"] == []
    allowed = asyncio.run(decide(a, make_ctx(town, gw, [a, b], AT, step=until), [seen]))
    assert allowed is not None and allowed.target == b.name


def test_a_conversation_with_no_usable_line_changes_nothing_but_the_cooldown(
    town, personas, scripted
) -> None:  # type: ignore[no-untyped-def]
    gw = scripted(with_rules(conversation_turn=lambda req, rng: "mumble"))
    a, b = _pair(town, personas, gw)
    before = a.action
    asyncio.run(converse(a, b, make_ctx(town, gw, [a, b], AT, step=50)))
    assert a.action is before and a.chatting_with is None
    assert not [n for n in a.memory if n.kind == "chat"]
    assert a.cooldown[b.name] == 850


def test_lines_are_cleaned_of_speaker_names_and_of_the_other_persons_part() -> None:
    from aga.minds.converse import own_words

    assert own_words("Klaus Mueller: Hi Maria!", "Klaus Mueller", "Maria Lopez") == "Hi Maria!"
    assert (
        own_words("Maria Lopez: Klaus: Oh hi. Maria Lopez: Hello!", "Klaus Mueller", "Maria Lopez")
        == "Oh hi."
    )
    assert own_words("Sure. Maria: yes", "Klaus Mueller", "Maria Lopez") == "Sure."
    assert own_words("Maria Lopez: hello", "Klaus Mueller", "Maria Lopez") == "hello"
    assert own_words("you: I'm fine, thanks.", "Klaus Mueller", "Maria Lopez") == "I'm fine, thanks."
    narrated = "Isabella, what kind of food do you offer? Klaus Mueller asked, interested in the cafe."
    assert (
        own_words(narrated, "Klaus Mueller", "Isabella Rodriguez")
        == "Isabella, what kind of food do you offer?"
    )
    assert own_words('"Good to see you, Maria!"', "Klaus Mueller", "Maria Lopez") == "Good to see you, Maria!"


def test_a_rewrite_that_repeats_the_chat_keeps_the_original_plan(town, personas, scripted) -> None:  # type: ignore[no-untyped-def]
    def echo(request, rng):  # type: ignore[no-untyped-def]
        return {"activities": [{"activity": f"{request.vars['inserted']} for a while", "minutes": 60}]}

    gw = scripted(with_rules(conversation_turn=_turns(1), schedule_rewrite=echo))
    a, b = _pair(town, personas, gw)
    before = [(row.description, row.minutes) for row in a.schedule]
    asyncio.run(converse(a, b, make_ctx(town, gw, [a, b], AT, step=3600)))
    summary = a.action.description  # type: ignore[union-attr]
    assert [row.description for row in a.schedule].count(summary) == 1
    assert not any(row.description.startswith(summary + " for") for row in a.schedule)
    kept = {d for d, _ in before}
    assert all(row.description in kept or row.description == summary for row in a.schedule)


def test_decide_to_talk_sees_only_what_was_known_before(town, personas, scripted) -> None:  # type: ignore[no-untyped-def]
    asked = []

    def talk(request, rng):  # type: ignore[no-untyped-def]
        asked.append(dict(request.vars))
        return {"answer": "no"}

    gw = scripted(with_rules(decide_to_talk=talk))
    a, b = _pair(town, personas, gw)
    a.memory.drain_changes()
    seen = a.memory.add(
        "event",
        created=AT,
        subject=b.name,
        predicate="is",
        obj="x",
        description="Maria Lopez is here",
        embedding_key="Maria Lopez is here",
        importance=2,
        keywords=[b.name],
    )
    assert asyncio.run(decide(a, make_ctx(town, gw, [a, b], AT), [seen])) is None
    assert asked and "Maria Lopez is here" not in asked[0]["context"]
    assert "friends and classmates" in asked[0]["context"]  # the seed memory: they know each other
    later = AT + timedelta(minutes=1)
    again = a.memory.add(
        "event",
        created=later,
        subject=b.name,
        predicate="is",
        obj="y",
        description="Maria Lopez is reading",
        embedding_key="Maria Lopez is reading",
        importance=2,
        keywords=[b.name],
    )
    asyncio.run(decide(a, make_ctx(town, gw, [a, b], later), [again]))
    assert (
        "Maria Lopez is here" in asked[1]["context"] and "Maria Lopez is reading" not in asked[1]["context"]
    )


def test_decide_to_talk_sees_each_remembered_text_once_with_the_reaction_rules(town, personas) -> None:  # type: ignore[no-untyped-def]
    from aga.minds import Resident
    from aga.minds.react import CONTEXT_NODES, about

    r = Resident.from_persona(personas["Klaus Mueller"], town)
    for i in range(12):
        text = "Maria Lopez is studying at the desk" if i % 2 else f"Maria Lopez said hello {i}"
        r.memory.add(
            "event", created=AT - timedelta(minutes=30 - i), subject="Maria Lopez", predicate="is",
            obj="desk", description=text, embedding_key=text, importance=2, keywords=["Maria Lopez"],
        )  # fmt: skip
    plain = about(r, "Maria Lopez", AT)
    distinct = about(r, "Maria Lopez", AT, distinct=True)
    assert plain.count("Maria Lopez is studying at the desk") == 5  # the original: every copy
    assert distinct.count("Maria Lopez is studying at the desk") == 1
    assert len(distinct) == len(set(distinct)) <= CONTEXT_NODES
    assert set(distinct) == set(plain)


def test_a_line_labelled_with_the_listeners_name_is_re_asked(town, personas, scripted) -> None:  # type: ignore[no-untyped-def]
    # the embedded day run: Maria, speaking to Klaus, wrote "Klaus Mueller: Hi Maria!"
    from aga.minds.converse import label_problem

    assert label_problem("Klaus Mueller: Hi Maria!", "Maria Lopez", "Klaus Mueller")
    assert label_problem("Klaus: hi", "Maria Lopez", "Klaus Mueller")
    assert label_problem("Maria Lopez: Hi Klaus!", "Maria Lopez", "Klaus Mueller") is None  # her own label
    asked: list[str] = []

    def rule(request, rng):  # type: ignore[no-untyped-def]
        asked.append(request.user)
        other = "Maria Lopez" if request.vars["speaker"] == "Klaus Mueller" else "Klaus Mueller"
        if len(asked) == 1:
            return {"utterance": f"{other}: Hi {request.vars['speaker'].split()[0]}!", "end": False}
        return {"utterance": f"line {request.vars['turn']}", "end": True}

    gw = scripted(with_rules(conversation_turn=rule))
    a, b = _pair(town, personas, gw)
    asyncio.run(converse(a, b, make_ctx(town, gw, [a, b], AT, step=3600)))
    assert "so it is Maria's line" in asked[1]
    assert a.chat[0] == ("Klaus Mueller", "line 0")


def test_a_line_about_the_listener_is_put_to_them_before_it_is_checked(town, personas, scripted) -> None:  # type: ignore[no-untyped-def]
    # the embedded day run: Maria said "I'm glad Klaus Mueller wants to learn ..." to Klaus three
    # times over, the turn defaulted and the conversation ended after one line
    asked: list[str] = []

    def rule(request, rng):  # type: ignore[no-untyped-def]
        asked.append(request.vars["speaker"])
        other = "Maria Lopez" if request.vars["speaker"] == "Klaus Mueller" else "Klaus Mueller"
        turn = int(request.vars["turn"])
        if turn >= 2:
            return {"utterance": "Goodbye, see you soon!", "end": True}
        topic = ["my exam", "the new cafe menu and its cakes"][turn]
        return {"utterance": f"I'm glad {other} wants to hear about {topic}.", "end": False}

    gw = scripted(with_rules(conversation_turn=rule))
    a, b = _pair(town, personas, gw)
    asyncio.run(converse(a, b, make_ctx(town, gw, [a, b], AT, step=3600)))
    assert a.chat == [
        ("Klaus Mueller", "I'm glad you want to hear about my exam."),
        ("Maria Lopez", "I'm glad you want to hear about the new cafe menu and its cakes."),
        ("Klaus Mueller", "Goodbye, see you soon!"),
    ]
    assert len(asked) == 3  # no re-ask was needed


def test_to_listener_rewrites_only_what_it_can_rewrite_safely() -> None:
    from aga.minds.address import to_listener

    k = "Klaus Mueller"
    assert to_listener("I hope Klaus Mueller comes to the party.", k) == "I hope you come to the party."
    assert (
        to_listener("Klaus Mueller is invited. I read Klaus's notes.", k)
        == "You are invited. I read your notes."
    )
    assert (
        to_listener("I'm catching up with Klaus before class.", k) == "I'm catching up with you before class."
    )
    assert (
        to_listener("Hi Klaus! Yes, Klaus Mueller, I agree.", k) == "Hi Klaus! Yes, Klaus Mueller, I agree."
    )
    assert to_listener("I'd help Klaus with his paper.", k) is None  # "his" may be Klaus again
    assert to_listener("Klaus Mueller swims daily.", k) is None  # a verb it does not know


def test_a_chat_brings_the_speakers_important_fresh_thought_as_news(town, personas, scripted) -> None:  # type: ignore[no-untyped-def]
    from aga.minds.converse import news_of

    gw = scripted(with_rules())
    a, _ = _pair(town, personas, gw)
    told = "Isabella is having a Valentine's Day party at Hobbs Cafe tomorrow at 5 pm."

    def thought(text: str, importance: int, when: datetime, defaulted: bool = False) -> None:
        a.memory.add(
            "thought", created=when, subject=a.name, predicate="thinks", obj="", description=text,
            embedding_key=text, importance=importance, defaulted=defaulted,
        )  # fmt: skip

    thought("I should tidy my desk.", 3, AT)
    thought("I might be rated badly.", 9, AT, defaulted=True)  # a stand-in rating is no news
    assert news_of(a, AT + timedelta(hours=1)) == a.identity.currently.strip()
    thought(told, 9, AT)
    assert news_of(a, AT + timedelta(hours=1)).endswith(f"Also on Klaus's mind: {told}")
    assert told not in news_of(a, AT + timedelta(hours=30))  # a day later it is old news
