"""The inspector, timeline, cost and live JSON on a scripted-model run, and hostile requests."""

from __future__ import annotations

import http.client
import json
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import pytest

from aga.store.sim_store import SimStore

from .conftest import commit, get, make_store, scripted_day, store_states, walk_frames

STEPS = 240
START = datetime(2023, 2, 13, 7, 50)
TIME = "%Y-%m-%d %H:%M:%S"
NAMES3 = ("Isabella Rodriguez", "Klaus Mueller", "Maria Lopez")


@pytest.fixture(scope="module")
def storage(tmp_path_factory) -> Path:
    storage = tmp_path_factory.mktemp("inspect") / "storage"
    storage.mkdir()
    scripted_day(storage, "day", STEPS)
    make_store(storage / "walk", 50, seed=3).close()
    return storage


def _json(url: str) -> tuple[int, dict]:
    status, _, body = get(url)
    return status, json.loads(body)


def _rows(folder: Path, sql: str, *args) -> list[tuple]:
    with sqlite3.connect(folder / "sim.db") as conn:
        return conn.execute(sql, args).fetchall()


def test_the_inspector_shows_the_resident_at_the_scrubbed_step(storage, serve):
    url = serve(storage).url
    folder = storage / "day"
    for step in (5, 120, STEPS - 1):
        now = START + timedelta(seconds=10 * step)
        for name in NAMES3:
            status, d = _json(f"{url}/api/sims/day/residents/{quote(name)}?step={step}")
            assert status == 200, d
            assert d["step"] == step and d["time"] == now.strftime(TIME)
            x, y = _rows(
                folder,
                "SELECT x, y FROM movements WHERE agent = ? AND step <= ? ORDER BY step DESC LIMIT 1",
                name,
                step,
            )[0]
            assert d["now"]["tile"] == [x, y]
            actions = [
                json.loads(r[0])
                for r in _rows(folder, "SELECT record FROM actions WHERE agent = ? ORDER BY seq", name)
            ]
            started = [a for a in actions if a["time"] <= now.strftime(TIME)]
            assert d["plan"]["current_item"]["task"] == started[-1]["task"]
            assert d["persona"]["name"] == name
            assert all(m["created"] <= now.strftime(TIME) for m in d["memories"])
            assert all(c["agent"] == name for c in d["calls"])
            if d["plan"]["current_index"] is not None:
                row = d["plan"]["schedule"][d["plan"]["current_index"]]
                minute = now.hour * 60 + now.minute
                assert row["start"] <= minute < row["end"]
    # a memory formed later is not in an earlier step's list
    early = _json(f"{url}/api/sims/day/residents/{quote('Klaus Mueller')}?step=5")[1]["memories"]
    late = _json(f"{url}/api/sims/day/residents/{quote('Klaus Mueller')}?step={STEPS - 1}")[1]["memories"]
    newer = [m for m in late if m["created"] > (START + timedelta(seconds=50)).strftime(TIME)]
    assert newer and not {m["id"] for m in newer} & {m["id"] for m in early}


def test_a_call_opens_to_its_prompt_and_answer(storage, serve):
    url = serve(storage).url
    d = _json(f"{url}/api/sims/day/residents/{quote('Isabella Rodriguez')}?step=100")[1]
    answered = [c for c in d["calls"] if c["ok"] and not c["cached"]]
    assert answered and all(c["has_text"] for c in answered)
    status, call = _json(f"{url}/api/sims/day/calls/{answered[0]['seq']}")
    assert status == 200
    assert call["task"] == answered[0]["task"] and call["agent"] == "Isabella Rodriguez"
    assert "Isabella" in call["prompt"] and call["answer"]
    status, err = _json(f"{url}/api/sims/day/calls/999999")
    assert status == 404 and "no model call number 999999" in err["error"]


def test_the_timeline_lists_the_runs_events_in_order(storage, serve):
    url = serve(storage).url
    status, t = _json(f"{url}/api/sims/day/events")
    assert status == 200 and t["total"] == STEPS
    steps = [e["step"] for e in t["events"]]
    assert steps == sorted(steps) and all(0 <= s < STEPS for s in steps)
    kinds = {e["kind"] for e in t["events"]}
    assert kinds <= {"chat", "reflection", "plan", "plan change", "whisper", "failure"}
    plans = _rows(
        storage / "day",
        "SELECT COUNT(*) FROM memories WHERE json_extract(record, '$.predicate') = 'plan'"
        " AND json_extract(record, '$.created') >= ?",
        START.strftime(TIME),
    )[0][0]
    assert sum(e["kind"] == "plan" for e in t["events"]) == plans > 0
    for e in t["events"]:
        if e["kind"] == "chat":
            assert len(e["who"]) == 2 and e["lines"]


def test_the_cost_report_adds_up_to_the_ledger(storage, serve):
    url = serve(storage).url
    status, c = _json(f"{url}/api/sims/day/cost")
    assert status == 200
    from aga.store.side_ledger import side_rows

    rows = [json.loads(r[0]) for r in _rows(storage / "day", "SELECT row FROM ledger")] + side_rows(
        storage / "day"
    )
    assert c["side_calls"] == len(side_rows(storage / "day"))
    assert c["totals"]["prompt_tokens"] == sum(r["prompt_tokens"] for r in rows)
    assert c["totals"]["completion_tokens"] == sum(r["completion_tokens"] for r in rows)
    assert sum(t["calls"] for t in c["tasks"]) == c["totals"]["calls"] == sum(m["calls"] for m in c["models"])
    assert c["totals"]["dollars"] == 0.0  # the scripted double is a local backend
    assert [h["label"] for h in c["hours"]] == ["07:00", "08:00"]
    assert (
        sum(h["series"].get("task:" + t["task"], {}).get("calls", 0) for h in c["hours"] for t in c["tasks"])
        == c["totals"]["calls"]
    )
    assert c["eval"] is None and 0.0 <= (c["policy"]["rate"] or 0.0) <= 1.0
    quiet = _json(f"{url}/api/sims/walk/cost")[
        1
    ]  # 50 steps from 07:00, no model calls: the hour is still there
    assert [(h["label"], h["series"]) for h in quiet["hours"]] == [("07:00", {})] and quiet["totals"][
        "calls"
    ] == 0
    gap = make_store(storage / "gap", 800, seed=4)  # calls at 07:00 and 09:13 only: 08:00 is a quiet hour
    row = {
        "task": "daily_plan",
        "agent": "Ann Lee",
        "model": "m",
        "backend": "scripted",
        "prompt_tokens": 10,
        "completion_tokens": 5,
        "seconds": 0.1,
        "ok": True,
    }
    gap.add_ledger_rows(0, [row])
    gap.add_ledger_rows(799, [row, row])
    gap.close()
    hours = _json(f"{url}/api/sims/gap/cost")[1]["hours"]
    assert [(h["label"], h["series"].get("task:daily_plan", {}).get("calls", 0)) for h in hours] == [
        ("07:00", 1),
        ("08:00", 0),
        ("09:00", 2),
    ]
    (storage / "day" / "eval").mkdir()
    (storage / "day" / "eval" / "report.json").write_text(json.dumps({"diffusion": [1, 2]}))
    (storage / "day" / "eval" / "diffusion.png").write_bytes(b"\x89PNG\r\n\x1a\nfake")
    c = _json(f"{url}/api/sims/day/cost")[1]
    assert c["eval"] == {"report": {"diffusion": [1, 2]}, "charts": ["diffusion.png"]}
    status, headers, body = get(f"{url}/api/sims/day/eval/diffusion.png")
    assert status == 200 and headers["content-type"] == "image/png" and body.startswith(b"\x89PNG")


def test_hostile_requests_are_refused_or_404_naming_them(storage, serve):
    url = serve(storage).url
    cases = [
        ("/api/sims/day/residents/Nobody?step=1", 404, "has no resident 'Nobody'"),
        ("/api/sims/day/residents/Klaus%20Mueller?step=99999", 404, "has no step 99999 (steps 0..239)"),
        ("/api/sims/day/residents/Klaus%20Mueller?step=-1", 400, "'step'"),
        ("/api/sims/day/residents/Klaus%20Mueller?step=x", 400, "'step' must be a whole number"),
        ("/api/sims/day/residents/Klaus%20Mueller", 400, "'step' is missing"),
        ("/api/sims/..%2F..%2Fetc/steps?start=0", 404, ""),
        ("/api/sims/%2e%2e/cost", 404, "no simulation named '..'"),
        ("/api/sims/day/eval/..%2Fsim.db", 404, ""),
        ("/api/sims/day/eval/%2e%2e%2fsim.db", 404, ""),
        ("/api/sims/day/eval/report.json", 404, "has no eval chart 'report.json'"),
        ("/api/sims/walk/residents/%3Cscript%3E?step=1", 404, "has no resident '<script>'"),
        ("/api/sims/nosuch/events", 404, "no simulation named 'nosuch'"),
    ]
    for path, code, message in cases:
        status, _, body = get(url + path)
        assert status == code, (path, status, body)
        assert message in json.loads(body)["error"], (path, body)
    html_cases = [
        ("/static/..%2Fserver.py", "no "),
        ("/static/%2e%2e%2fserver.py", "server.py"),
        ("/demo/..%2F..%2Fetc/0/3", "no "),
        ("/demo/%2e%2e/0/3", "no simulation named &#x27;..&#x27;"),
        ("/cost/nosuch", "no simulation named &#x27;nosuch&#x27;"),
        ("/demo/day/0/3/../../../../etc/passwd", "no "),
    ]
    for path, message in html_cases:
        status, _, body = get(url + path)
        assert status == 404, (path, status)
        assert message in body.decode() and "root:" not in body.decode(), (path, body)
    conn = http.client.HTTPConnection("127.0.0.1", int(url.rsplit(":", 1)[1]), timeout=5)
    conn.request("GET", "/static/../../../../etc/passwd")  # sent as is, not normalised by a client
    res = conn.getresponse()
    assert res.status == 404 and b"root:" not in res.read()
    conn.close()


def test_markup_in_a_simulation_name_and_store_texts_is_escaped(tmp_path, serve):
    storage = tmp_path / "storage"
    name = "<img src=x onerror=alert(1)>"
    make_store(storage / name, 5, seed=1).close()
    url = serve(storage).url
    page = get(url + "/")[2].decode()
    assert name not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    status, _, body = get(url + "/demo/" + quote(name) + "/0/3")
    assert status == 200
    config = body.decode().split('type="application/json">')[1].split("</script>")[0]
    assert "<" not in config and json.loads(config)["sim"] == name
    status, _, body = get(url + "/demo/" + quote(name) + "/9/3")
    assert status == 404 and name not in body.decode() and "has no step 9" in body.decode()


def test_the_interview_answers_at_a_step_or_names_what_is_missing(storage, serve):
    from aga.viewer.inspector import interview_available

    url = serve(storage).url
    if not interview_available():
        pytest.fail("aga.interview is missing: the inspector's interview button is left out")
    port = int(url.rsplit(":", 1)[1])
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    body = json.dumps({"step": 100, "question": "What are you doing today?"})
    conn.request(
        "POST",
        "/api/sims/day/residents/Klaus%20Mueller/interview",
        body,
        {"Content-Type": "application/json"},
    )
    res = conn.getresponse()
    answer = json.loads(res.read())
    assert res.status == 200, answer
    assert answer["resident"] == "Klaus Mueller" and answer["step"] == 100 and answer["answer"]
    cost = _json(f"{url}/api/sims/day/cost")[1]  # the interview's calls count in the cost (a side ledger)
    assert cost["side_calls"] >= 1 and any(
        t["task"] == "interview_answer" and t["calls"] for t in cost["tasks"]
    )
    conn.request(
        "POST",
        "/api/sims/day/residents/Klaus%20Mueller/interview",
        json.dumps({"step": 9999, "question": "hi"}),
        {"Content-Type": "application/json"},
    )
    res = conn.getresponse()
    assert res.status == 404 and "no step 9999" in json.loads(res.read())["error"]
    conn.close()


def test_live_events_tell_of_new_steps(tmp_path, serve):
    storage = tmp_path / "storage"
    make_store(storage / "walk", 30, seed=5).close()
    url = serve(storage).url
    conn = http.client.HTTPConnection("127.0.0.1", int(url.rsplit(":", 1)[1]), timeout=10)
    conn.request("GET", "/api/sims/walk/live")
    res = conn.getresponse()
    assert res.status == 200 and res.getheader("Content-Type").startswith("text/event-stream")

    def next_event() -> dict:
        data = None
        while True:
            line = res.fp.readline().decode().rstrip("\n")
            if line.startswith("data: "):
                data = json.loads(line[6:])
            elif line == "" and data is not None:
                return data

    assert next_event()["total"] == 30
    store = SimStore.open(storage / "walk")
    commit(store, walk_frames(5, seed=9, start_step=30, state=store_states(store)[-1]), 30)
    store.close()
    assert next_event()["total"] == 35
    conn.close()


def test_the_json_api_is_described_by_openapi(storage, serve):
    url = serve(storage).url
    status, spec = _json(url + "/openapi.json")
    assert status == 200
    paths = spec["paths"]
    for route in (
        "/api/sims",
        "/api/sims/{sim}/steps",
        "/api/sims/{sim}/residents/{name}",
        "/api/sims/{sim}/cost",
        "/api/sims/{sim}/events",
        "/api/sims/{sim}/live",
        "/api/sims/{sim}/calls/{seq}",
    ):
        assert route in paths, route
    step = next(
        p for p in paths["/api/sims/{sim}/residents/{name}"]["get"]["parameters"] if p["name"] == "step"
    )
    assert step["in"] == "query" and step["required"] and step["schema"]["type"] == "integer"
    assert get(url + "/docs")[0] == 404  # its page would load scripts from a CDN


def test_a_whisper_is_on_the_timeline_and_in_the_inspector(tmp_path, serve):
    from aga.interview.whisper import Whisper, whisper_sync

    storage = tmp_path / "storage"
    folder = scripted_day(storage, "told", 30)
    whisper_sync(
        folder, [Whisper("Klaus Mueller", "Isabella is hosting a party at Hobbs Cafe tomorrow at 5 pm.")]
    )
    url = serve(storage).url
    events = _json(f"{url}/api/sims/told/events")[1]["events"]
    told = [e for e in events if e["kind"] == "whisper"]
    assert [e["who"] for e in told] == [["Klaus Mueller"]] and told[0]["step"] == 29
    memories = _json(f"{url}/api/sims/told/residents/{quote('Klaus Mueller')}?step=29")[1]["memories"]
    assert told[0]["text"] in [m["description"] for m in memories]
    earlier = _json(f"{url}/api/sims/told/residents/{quote('Klaus Mueller')}?step=28")[1]["memories"]
    assert told[0]["text"] not in [m["description"] for m in earlier]
