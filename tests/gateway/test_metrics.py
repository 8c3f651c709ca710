"""write_metrics: AGA-shaped files from the ledger, atomic, merged over resumes."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime

from aga.gateway import LedgerRow, TransientBackendError
from aga.gateway.metrics import FILES, write_metrics
from aga.testing import ScriptedBackend

from .conftest import PICK, RATE, Rating, make_gateway

T0 = datetime(2023, 2, 13, 8, 0)


def _ledger_of_a_small_run():
    faults = [TransientBackendError(500, "boom"), None, "not json"]
    gw, _, _ = make_gateway(ScriptedBackend(rules={}, faults=faults))

    async def work():
        await gw.ask(RATE, {"name": "A", "event": "coffee"}, agent="Isabella Rodriguez", game_time=T0)
        await gw.ask(
            RATE,
            {"name": "A", "event": "tea"},
            agent="Klaus Mueller",
            game_time=T0,
            fallback=Rating(rating=1, reason="x"),
        )
        await gw.choose(
            PICK, ["cafe", "park"], {"name": "A", "query": "coffee"}, agent="Klaus Mueller", game_time=T0
        )
        await gw.embed(["a", "b"])

    asyncio.run(work())
    return gw.ledger.drain()


def _load(folder, name):
    return json.loads((folder / name).read_text())


def test_files_have_the_aga_shapes_and_counts(tmp_path):
    rows = _ledger_of_a_small_run()
    logs = {
        "Isabella Rodriguez": [
            {
                "task": "sleeping",
                "parent": "root",
                "is_new": True,
                "duration": 60,
                "time": "2023-02-13 00:00:00",
                "chat": {},
            }
        ]
    }
    written = write_metrics(rows, tmp_path / "metrics", action_logs=logs)
    folder = tmp_path / "metrics"
    assert {p.name for p in written} == set(FILES) | {"Isabella Rodriguez.json"}
    count = _load(folder, "function_name_count.json")
    assert count == {
        "rate_event": 3,
        "pick_place": 1,
        "embed": 1,
    }  # 2 good answers + 1 invalid one, no transport failure
    tokens = _load(folder, "function_name_token.json")
    assert len(tokens["rate_event"]) == 3 and all(isinstance(t, int) and t > 0 for t in tokens["rate_event"])
    assert len(_load(folder, "function_name_time.json")["pick_place"]) == 1
    assert _load(folder, "function_name_fail_count.json") == {"rate_event": 2}
    reasons = _load(folder, "function_name_fail_reason.json")["rate_event"]
    assert reasons[0] == "HTTP 500: boom" and reasons[1].startswith("invalid answer")
    assert _load(folder, "model_count.json") == {"scripted": 4, "hash-embedder-v1": 1}
    assert sum(_load(folder, "model_token.json")["scripted"]) == sum(
        sum(v) for k, v in tokens.items() if k != "embed"
    )
    detail = _load(folder, "detail_info.json")
    assert len(detail) == len(rows) == 6
    first = detail[0]
    assert set(first) >= {
        "function_name",
        "model",
        "token",
        "time",
        "agent",
        "game_time",
        "prompt_tokens",
        "completion_tokens",
        "cached",
        "defaulted",
        "ok",
    }
    assert (
        first["function_name"] == "rate_event"
        and first["ok"] is False
        and first["game_time"] == T0.isoformat()
    )
    assert [d["token"] for d in detail] == [r.prompt_tokens + r.completion_tokens for r in rows]
    assert _load(folder, "Isabella Rodriguez.json") == logs["Isabella Rodriguez"]
    assert not list(folder.glob("*.tmp"))


def test_rows_as_stored_dicts_round_trip_and_rewrite_merges(tmp_path):
    rows = _ledger_of_a_small_run()
    stored = [r.to_dict() for r in rows]
    assert [LedgerRow.from_dict(d) for d in stored] == [LedgerRow.from_dict(r.to_dict()) for r in rows]
    resumed, once, first = tmp_path / "resumed", tmp_path / "once", tmp_path / "first"
    write_metrics(stored[:3], first)
    write_metrics(stored[:3], resumed)  # the files of a run stopped after three calls...
    assert {n: _load(resumed, n) for n in FILES} == {n: _load(first, n) for n in FILES}
    write_metrics(stored, resumed)  # ...rewritten when the resumed run goes on, from the whole ledger
    write_metrics(stored, once)  # a run that never stopped
    assert {n: _load(resumed, n) for n in FILES} == {n: _load(once, n) for n in FILES}
    assert {n: _load(first, n) for n in FILES} != {
        n: _load(once, n) for n in FILES
    }  # the rewrite changed them
    assert len(_load(resumed, "detail_info.json")) == len(stored)
    counts = _load(resumed, "function_name_count.json")
    assert sum(counts.values()) == sum(1 for r in rows if r.kind == "llm")


def test_api_keys_never_reach_the_files(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-double-0123456789")
    row = LedgerRow(
        "rate_event",
        model="gpt-x",
        backend="openai",
        ok=False,
        error="HTTP 401: Incorrect API key provided: sk-test-double-0123456789",
    )
    write_metrics([row], tmp_path)
    text = "".join(p.read_text() for p in tmp_path.iterdir())
    assert "0123456789" not in text and "***" in text
