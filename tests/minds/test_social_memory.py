"""Social Memory: ties per directed pair, summaries refreshed only by new memories, one update
per side after a chat, and the original per-utterance path when it is off."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta

from aga.minds import MindConfig, Resident
from aga.minds.converse import converse
from aga.minds.plan import next_action
from aga.minds.social import Tie

from .driver import make_ctx, with_rules

AT = datetime(2023, 2, 13, 10, 0, 0)
SOCIAL = MindConfig(relationship=True)
SOCIAL_TASKS = {"social_summary", "relationship_update"}


def _lines(n: int):  # type: ignore[no-untyped-def]
    """A scripted-model rule: numbered lines, the conversation ends with line ``n - 1`` (a goodbye)."""

    def rule(request, rng):  # type: ignore[no-untyped-def]
        turn = int(request.vars["turn"])
        last = turn >= n - 1
        return {
            "utterance": f"line {turn} from {request.vars['speaker']}" + (" Bye!" if last else ""),
            "end": last,
        }

    return rule


def _pair(town, personas, gw):  # type: ignore[no-untyped-def]
    a = Resident.from_persona(personas["Klaus Mueller"], town)
    b = Resident.from_persona(personas["Maria Lopez"], town)
    b.tile = next(t for t in town.nearby(a.tile, 2) if town.is_walkable(t) and t != a.tile)
    for r in (a, b):  # rates and embeds the seed memories, plans the day
        asyncio.run(r.think(make_ctx(town, gw, [a, b], AT)))
        r.drain_action_log()
    gw.ledger.drain()
    return a, b


def _chat(town, gw, a, b, step, config=SOCIAL, when=AT):  # type: ignore[no-untyped-def]
    asyncio.run(converse(a, b, make_ctx(town, gw, [a, b], when, step=step, config=config)))
    return [row.task for row in gw.ledger.drain() if row.kind == "llm"]


def _end_chat(town, gw, a, b):  # type: ignore[no-untyped-def]
    end = a.chat_end
    for r in (a, b):
        r.end_chat()
        asyncio.run(next_action(r, make_ctx(town, gw, [a, b], end)))
    gw.ledger.drain()
    return end


def test_a_chat_opens_from_a_summary_and_leaves_a_tie_on_both_sides(town, personas, scripted) -> None:  # type: ignore[no-untyped-def]
    asked: list[tuple[str, dict]] = []

    def update(request, rng):  # type: ignore[no-untyped-def]
        asked.append((request.task, dict(request.vars)))
        first = request.vars["name"].split()[0]
        return {
            "relationship": f"classmate of {first}",
            "feeling": "warm",
            "summary": f"{first}'s notes",
            "importance": 7,
        }

    gw = scripted(with_rules(conversation_turn=_lines(4), relationship_update=update))
    a, b = _pair(town, personas, gw)
    tasks = _chat(town, gw, a, b, step=3600)

    assert "relationship_summary" not in tasks and "chat_importance" not in tasks
    assert tasks.count("conversation_turn") == 4
    assert tasks.count("relationship_update") == 2
    # both open from a summary of what they remember; the lines themselves cost no summary call
    assert tasks.count("social_summary") == 2
    for me, other in ((a, b), (b, a)):
        tie = me.ties[other.name]
        assert tie.relationship == f"classmate of {me.name.split()[0]}" and tie.feeling == "warm"
        assert tie.summary == f"{me.name.split()[0]}'s notes"
        assert tie.covered == sorted(tie.covered) and tie.covered
        chat = me.memory.last_chat_with(other.name)
        assert chat is not None and chat.importance == 7  # from the update, no chat_importance call
    # the update saw the running summary and what both were doing before they met
    vars = next(v for t, v in asked if v["name"] == a.name)
    assert vars["summary"].startswith("Klaus Mueller knows Maria Lopez")  # the opening summary
    assert vars["relationship"] == "unknown" and a.name in vars["before"] and b.name in vars["before"]


def test_the_summary_is_refreshed_only_when_new_memories_turn_up(town, personas, scripted) -> None:  # type: ignore[no-untyped-def]
    seen: list[dict] = []

    def summary(request, rng):  # type: ignore[no-untyped-def]
        seen.append(dict(request.vars))
        return {
            "summary": f"{request.vars['name']} remembers {request.vars['statements'].count('- ')} things"
        }

    gw = scripted(with_rules(conversation_turn=_lines(2), social_summary=summary))
    a, b = _pair(town, personas, gw)
    _chat(town, gw, a, b, step=3600)
    first = a.ties[b.name]
    end = _end_chat(town, gw, a, b)

    # nothing new remembered since: the next chat costs no summary call at all
    seen.clear()
    tasks = _chat(town, gw, a, b, step=9000, when=end)
    assert "social_summary" not in tasks, seen
    assert a.ties[b.name].relationship == "friend"  # the scripted update moved them closer twice
    assert first.relationship == "acquaintance"
    end = _end_chat(town, gw, a, b)

    # one new memory about Maria: only Klaus's summary is refreshed, with only that memory
    kept = a.ties[b.name].summary
    news = "Maria Lopez is organising a study group for the physics exam"
    vec = asyncio.run(gw.embed([news]))[0]
    a.memory.add(
        "event", created=end, subject=b.name, predicate="is", obj="organising", description=news,
        embedding_key=news, importance=5, keywords=[b.name], vector=vec,
    )  # fmt: skip
    seen.clear()
    _chat(town, gw, a, b, step=14000, when=end)
    mine = [v for v in seen if v["name"] == a.name]
    assert len(mine) == 1 and mine[0]["statements"] == f"- {news}"
    assert mine[0]["summary"] == kept
    assert not [v for v in seen if v["name"] == b.name]


def test_the_utterance_prompt_gets_the_tie_instead_of_raw_memories(town, personas, scripted) -> None:  # type: ignore[no-untyped-def]
    prompts: list[dict] = []

    def turn(request, rng):  # type: ignore[no-untyped-def]
        prompts.append(dict(request.vars))
        return _lines(2)(request, rng)

    gw = scripted(with_rules(conversation_turn=turn))
    a, b = _pair(town, personas, gw)
    a.set_tie(b.name, Tie("old friend", "fond", "Klaus and Maria study together.", []))
    _chat(town, gw, a, b, step=3600)
    said_by_a = next(p for p in prompts if p["speaker"] == a.name)
    assert said_by_a["memories"].startswith("Klaus Mueller sees Maria Lopez as: old friend; feels: fond.")
    assert "Klaus and Maria study together." in said_by_a["memories"]
    assert "Klaus Mueller is" not in said_by_a["memories"]  # no raw memory lines


def test_without_social_memory_the_original_path_runs(town, personas, scripted) -> None:  # type: ignore[no-untyped-def]
    gw = scripted(with_rules(conversation_turn=_lines(3)))
    a, b = _pair(town, personas, gw)
    tasks = _chat(town, gw, a, b, step=3600, config=MindConfig())
    assert not SOCIAL_TASKS & set(tasks)
    assert tasks.count("relationship_summary") == 3  # one per utterance, as the original
    assert tasks.count("chat_importance") == 2
    assert a.ties == {} and b.ties == {}


def test_ties_survive_a_state_round_trip(town, personas, scripted) -> None:  # type: ignore[no-untyped-def]
    gw = scripted(with_rules(conversation_turn=_lines(2)))
    a, b = _pair(town, personas, gw)
    _chat(town, gw, a, b, step=3600)
    state = json.loads(json.dumps(a.to_state()))
    again = Resident.from_state(state, a.memory)
    assert again.ties == a.ties and again.ties[b.name].relationship == "acquaintance"
    assert again.to_state()["ties"] == a.to_state()["ties"]


def test_an_unusable_update_keeps_the_old_tie_and_the_default_importance(town, personas, scripted) -> None:  # type: ignore[no-untyped-def]
    gw = scripted(with_rules(conversation_turn=_lines(2), relationship_update=lambda req, rng: "no idea"))
    a, b = _pair(town, personas, gw)
    a.set_tie(b.name, Tie("neighbour", "curious", "", []))
    _chat(town, gw, a, b, step=3600)
    tie = a.ties[b.name]
    assert (tie.relationship, tie.feeling) == ("neighbour", "curious")
    assert tie.summary  # the summary made while talking is kept
    assert a.memory.last_chat_with(b.name).importance == 4  # type: ignore[union-attr]
    assert b.ties[a.name].relationship == "unknown"


def test_a_chat_without_any_line_still_keeps_the_opening_summary(town, personas, scripted) -> None:  # type: ignore[no-untyped-def]
    gw = scripted(with_rules(conversation_turn=lambda req, rng: "mumble"))
    a, b = _pair(town, personas, gw)
    tasks = _chat(town, gw, a, b, step=50)
    assert "relationship_update" not in tasks and a.chatting_with is None
    assert a.ties[b.name].summary and a.ties[b.name].relationship == "unknown"
    assert a.cooldown[b.name] == 850


def test_covered_ids_are_capped_to_the_newest() -> None:
    tie = Tie()
    tie.cover(range(1, 1000))
    tie.cover([5, 2000])
    assert len(tie.covered) == 300 and tie.covered[-1] == 2000 and tie.covered == sorted(tie.covered)
    assert Tie.from_state(json.loads(json.dumps(tie.to_state()))) == tie


def test_order_of_concurrent_answers_does_not_matter(town, personas, scripted) -> None:  # type: ignore[no-untyped-def]
    results = []
    for delay in (0.0, 0.002):
        gw = scripted(
            with_rules(conversation_turn=_lines(4)),
        )
        gw.backend.delay = delay  # type: ignore[attr-defined]
        a, b = _pair(town, personas, gw)
        _chat(town, gw, a, b, step=3600, when=AT + timedelta(seconds=30))
        results.append((a.to_state()["ties"], b.to_state()["ties"], a.chat))
    assert results[0] == results[1]


def test_what_the_lines_bring_to_mind_joins_the_prompt_and_the_notes_after(  # type: ignore[no-untyped-def]
    town, personas, scripted, monkeypatch
) -> None:
    monkeypatch.setattr("aga.minds.social.OPEN_RETRIEVE", 1)  # the opening recalls only the top memory
    prompts: list[dict] = []
    updates: list[dict] = []

    def turn(request, rng):  # type: ignore[no-untyped-def]
        prompts.append(dict(request.vars))
        turn = int(request.vars["turn"])
        lines = [
            "Have you seen the flyer about the physics exam study group?",
            "It meets on Thursday.",
            "I might go, the exam worries me.",
            "Then I will see you there.",
        ]
        return {"utterance": lines[turn], "end": turn >= 3}

    def update(request, rng):  # type: ignore[no-untyped-def]
        updates.append(dict(request.vars))
        return {"relationship": "friend", "feeling": "warm", "summary": "new notes", "importance": 5}

    gw = scripted(with_rules(conversation_turn=turn, relationship_update=update))
    a, b = _pair(town, personas, gw)
    news = "Klaus Mueller saw a flyer about a physics exam study group"
    vec = asyncio.run(gw.embed([news]))[0]
    node = a.memory.add(
        "event", created=AT, subject=a.name, predicate="saw", obj="flyer", description=news,
        embedding_key=news, importance=1, keywords=[a.name], vector=vec,
    )  # fmt: skip
    a.set_tie(
        b.name, Tie("friend", "warm", "Klaus knows Maria.", [n.id for n in a.memory if n.id != node.id])
    )
    tasks = _chat(town, gw, a, b, step=3600)
    klaus_turns = [p for p in prompts if p["speaker"] == a.name]
    assert news not in klaus_turns[0]["memories"]  # not relevant before anyone spoke
    assert any(f"Also on their mind: {news}" in p["memories"] for p in klaus_turns[1:])
    mine = next(u for u in updates if u["name"] == a.name)
    assert news in mine["recalled"]
    assert node.id in a.ties[b.name].covered and a.ties[b.name].summary == "new notes"
    assert tasks.count("social_summary") <= 2  # recalling during the chat costs no call
