"""The viewer in a real headless Chromium: replay page, inspector, scrubbing, cost page, live run.

Each check compares what the page shows with what the store says, read here independently:
the tile of a resident at step N, the plan item started by then, the game time of a step, the
ledger's number of calls. The run is a scripted-model run (the test double) of the 3-resident
Ville from 07:50, with one persona text holding markup and traversal strings.
Screenshots of each page go to the folder printed at the end of the run.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import pytest

from .browser import Browser, require_browser

HOSTILE = '<script>window.pwned=1</script><img src=x onerror="window.pwned=2"> ../../etc/passwd %2e%2e%2f'
STEPS = 240
START = datetime(2023, 2, 13, 7, 50)


def _fork(storage: Path, name: str, hostile: bool = False) -> Path:
    from aga.bases import load_base
    from aga.runner.lifecycle import RunSettings, fork

    base = load_base("base_the_ville_isabella_maria_klaus")
    residents = list(base.residents)
    if hostile:
        residents[0] = residents[0].model_copy(update={"currently": HOSTILE + " " + residents[0].currently})
    base = base.model_copy(update={"start": START, "residents": residents})
    return fork(base, storage, name, settings=RunSettings(llm="scripted"))


def _run(folder: Path, steps: int) -> None:
    from aga.runner.lifecycle import open_simulation

    sim = open_simulation(folder)
    try:
        asyncio.run(sim.run(steps))
    finally:
        sim.store.close()


def _db(folder: Path) -> sqlite3.Connection:
    return sqlite3.connect(folder / "sim.db")


def tile_at(folder: Path, name: str, step: int) -> list[int]:
    """The store's tile of ``name`` at ``step`` (its latest movement row by then)."""
    with _db(folder) as conn:
        x, y = conn.execute(
            "SELECT x, y FROM movements WHERE agent = ? AND step <= ? ORDER BY step DESC LIMIT 1",
            (name, step),
        ).fetchone()
    return [x, y]


def item_at(folder: Path, name: str, step: int) -> str:
    """The plan item ``name`` had started by ``step`` (the action log's last entry by then)."""
    stamp = (START + timedelta(seconds=10 * step)).strftime("%Y-%m-%d %H:%M:%S")
    with _db(folder) as conn:
        rows = [
            json.loads(r[0])
            for r in conn.execute("SELECT record FROM actions WHERE agent = ? ORDER BY seq", (name,))
        ]
    started = [r for r in rows if r["time"] <= stamp]
    return started[-1]["task"]


@pytest.fixture(scope="module")
def storage(tmp_path_factory) -> Path:
    require_browser()
    storage = tmp_path_factory.mktemp("browser") / "storage"
    storage.mkdir()
    _run(_fork(storage, "town", hostile=True), STEPS)
    return storage


@pytest.fixture(scope="module")
def server(storage):
    from aga.viewer.server import make_server

    srv = make_server(storage, "127.0.0.1", 0)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


@pytest.fixture(scope="module")
def browser(storage, tmp_path_factory):
    import os

    shots = Path(os.environ.get("AGA_SCREENSHOTS") or tmp_path_factory.getbasetemp() / "screenshots")
    b = Browser(shots)
    yield b
    b.close()


def _open_replay(browser: Browser, url: str, sim: str, step: int) -> None:
    browser.get(f"{url}/demo/{quote(sim)}/{step}/3?paused=1")
    browser.wait(
        lambda: browser.js(
            "return window.agaReplay && window.agaReplay.total > 0 && "
            "window.agaReplay.tileOf('Klaus Mueller') !== null"
        ),
        message="the page's first steps",
    )


def test_page_loads_without_console_errors_and_draws_residents_at_the_stores_tiles(server, storage, browser):
    folder = storage / "town"
    step = 150
    _open_replay(browser, server.url, "town", step)
    names = browser.js("return [...document.querySelectorAll('#panel .card .name')].map(e => e.textContent)")
    assert sorted(names) == ["Isabella Rodriguez", "Klaus Mueller", "Maria Lopez"]
    for name in names:
        assert browser.js("return window.agaReplay.tileOf(arguments[0])", name) == tile_at(
            folder, name, step
        ), name
        # the disc is drawn there: the canvas pixel left of its centre has the resident's colour
        drawn = browser.js(
            """
            const [name] = arguments, p = window.agaReplay.screenPos(name), c = document.getElementById('map');
            const rect = c.getBoundingClientRect(), dpr = window.devicePixelRatio || 1;
            const r = window.agaReplay.radiusPx;
            const px = c.getContext('2d').getImageData(Math.round((p.x - rect.left - r * 0.45) * dpr),
                                                        Math.round((p.y - rect.top + r * 0.5) * dpr), 1, 1).data;
            const probe = document.createElement('canvas').getContext('2d');
            probe.fillStyle = AgaCore.colorFor(name); probe.fillRect(0, 0, 1, 1);
            const want = probe.getImageData(0, 0, 1, 1).data;
            return [Array.from(px.slice(0, 3)), Array.from(want.slice(0, 3))];""",
            name,
        )
        if not all(abs(a - b) <= 40 for a, b in zip(*drawn)):
            browser.shot(f"disc-{name}")
        assert all(abs(a - b) <= 40 for a, b in zip(*drawn)), (name, drawn)
    assert browser.js("return document.getElementById('stepnum').textContent") == f"step {step} / {STEPS - 1}"
    # emoji: drawn where a font has them, else the action's first word (never an empty box)
    cards = browser.js(
        "return [...document.querySelectorAll('#panel .card')].map(c => {"
        "const e = c.querySelector('.emoji'); return [e.title, e.textContent,"
        " window.agaReplay.emojiShown(e.title), c.querySelector('.action').textContent]; })"
    )
    for emoji, shown, drawable, action in cards:
        assert shown == (emoji if drawable else action.split()[0].lower()[:10]), (emoji, shown, action)
    assert browser.js(r"return [AgaEmoji.renders('\u{10FFFD}'), AgaEmoji.renders('a')]") == [False, True]
    browser.shot("replay")
    assert browser.errors() == []


def test_clicking_a_resident_opens_the_inspector_at_that_step(server, storage, browser):
    folder = storage / "town"
    step = 200
    _open_replay(browser, server.url, "town", step)
    name = "Klaus Mueller"
    p = browser.js("return window.agaReplay.screenPos(arguments[0])", name)
    browser.click_at(p["x"], p["y"])
    browser.wait(
        lambda: browser.js(
            "return window.agaInspect.name === arguments[0] && window.agaInspect.step === arguments[1]",
            name,
            step,
        ),
        message="the inspector",
    )
    text = browser.js("return document.querySelector('#inspector .insp-item .v').textContent")
    assert text.startswith(item_at(folder, name, step)), text
    tile = tile_at(folder, name, step)
    assert (
        browser.js("return document.querySelector('#inspector .insp-tile .v').textContent")
        == f"({tile[0]}, {tile[1]})"
    )
    assert browser.js("return document.querySelector('#insp-name').textContent") == name
    assert browser.js("return document.querySelectorAll('#inspector .insp-schedule li.current').length") == 1
    # a model call opens to its prompt and answer
    browser.js("document.querySelector('#inspector .insp-open').click()")
    browser.wait(
        lambda: browser.js(
            "const p = document.querySelector('#dialog .call-prompt');return p && p.textContent.length > 0"
        ),
        message="the call's prompt",
    )
    browser.shot("inspector")
    assert browser.errors() == []


def test_scrubbing_changes_the_clock_the_positions_and_the_inspector(server, storage, browser):
    folder = storage / "town"
    _open_replay(browser, server.url, "town", 20)
    name = "Isabella Rodriguez"
    browser.js("window.AgaInspect.open(arguments[0], 20)", name)
    browser.wait(lambda: browser.js("return window.agaInspect.step === 20"), message="inspector at 20")
    before = browser.js("return document.getElementById('clock').textContent")
    assert before == "Monday, February 13, 2023, 07:53:20"
    moved = [
        n
        for n in ("Isabella Rodriguez", "Klaus Mueller", "Maria Lopez")
        if tile_at(folder, n, 20) != tile_at(folder, n, 230)
    ]
    assert moved, "someone walks between steps 20 and 230 of the run"
    old = {n: browser.js("return window.agaReplay.screenPos(arguments[0])", n) for n in moved}
    browser.js(
        "const s = document.getElementById('scrub'); s.value = '230';"
        "s.dispatchEvent(new Event('input', {bubbles: true}));"
    )
    browser.wait(
        lambda: (
            browser.js("return document.getElementById('clock').textContent")
            == "Monday, February 13, 2023, 08:28:20"
        ),
        message="the clock at step 230",
    )
    for n in ("Isabella Rodriguez", "Klaus Mueller", "Maria Lopez"):
        assert browser.js("return window.agaReplay.tileOf(arguments[0])", n) == tile_at(folder, n, 230)
    for n in moved:
        assert browser.js("return window.agaReplay.screenPos(arguments[0])", n) != old[n]
    browser.wait(
        lambda: browser.js("return window.agaInspect.step === 230"),
        message="the inspector follows the scrubber",
    )
    assert browser.js("return document.querySelector('#inspector .insp-item .v').textContent").startswith(
        item_at(folder, name, 230)
    )
    browser.shot("scrubbed")
    assert browser.errors() == []


def test_hostile_persona_text_is_shown_as_text(server, storage, browser):
    _open_replay(browser, server.url, "town", 100)
    browser.js("window.AgaInspect.open('Isabella Rodriguez', 100)")
    browser.wait(lambda: browser.js("return window.agaInspect.step === 100"), message="inspector")
    body = browser.js("return document.getElementById('insp-body').textContent")
    assert HOSTILE in body
    assert browser.js("return window.pwned === undefined")
    assert browser.js("return document.querySelectorAll('#inspector script, #inspector img').length") == 0
    browser.js(
        "const s = document.querySelectorAll('#inspector .insp-sec'); s[s.length - 1].scrollIntoView()"
    )
    browser.shot("hostile-persona")


def test_timeline_jumps_to_an_event(server, storage, browser):
    _open_replay(browser, server.url, "town", 230)
    browser.wait(lambda: browser.js("return window.agaInspect.events > 0"), message="the timeline's events")
    kinds = browser.js("return [...document.querySelectorAll('#timeline .ev')].map(b => b.className)")
    assert "ev ev-plan" in kinds  # each resident planned the day
    target = browser.js(
        "const b = document.querySelector('#timeline .ev-plan'); b.click(); return +b.dataset.step"
    )
    assert target != 230
    browser.wait(lambda: browser.js("return Math.floor(window.agaReplay.step)") == target, message="the jump")
    browser.shot("timeline")
    assert browser.errors() == []


def test_cost_page_draws_its_charts(server, storage, browser):
    with _db(storage / "town") as conn:
        rows = [json.loads(r[0]) for r in conn.execute("SELECT row FROM ledger")]
    calls = sum(1 for r in rows if not r.get("cached") and r.get("ok", True))
    browser.get(f"{server.url}/cost/town")
    browser.wait(
        lambda: browser.js("return window.agaCost && window.agaCost.charts.tasks"), message="the charts"
    )
    charts = browser.js("return window.agaCost.charts")
    assert charts["tasks"]["bars"] > 0 and charts["models"]["bars"] > 0
    assert charts["tasks"]["hours"] == 2  # 07:50 .. 08:30: two game hours
    cost = json.loads(urllib.request.urlopen(f"{server.url}/api/sims/town/cost").read())
    per_hour = [
        sum(
            v["prompt_tokens"] + v["completion_tokens"]
            for k, v in h["series"].items()
            if k.startswith("task:")
        )
        for h in cost["hours"]
    ]
    assert charts["tasks"]["max"] == max(per_hour)
    browser.js(
        "const m = document.getElementById('measure-tasks'); m.value = 'calls'; m.dispatchEvent(new Event('change'))"
    )
    calls_per_hour = [
        sum(v["calls"] for k, v in h["series"].items() if k.startswith("task:")) for h in cost["hours"]
    ]
    assert browser.js("return window.agaCost.charts.tasks.max") == max(calls_per_hour)
    shown = browser.js("return document.querySelector('#totals .total b').textContent")
    assert int(shown.replace(",", "")) >= calls > 0
    # editing a price recomputes the dollars (scripted is a local backend: $0 until priced)
    assert "$0.00" in browser.js("return document.querySelector('#models .dollars').textContent")
    browser.js(
        "const i = document.querySelector('#models input.price'); i.value = '1000';"
        "i.dispatchEvent(new Event('change'));"
    )
    assert browser.js("return document.querySelector('#models .dollars').textContent") != "$0.00"
    browser.shot("cost")
    assert browser.errors() == []


def test_a_running_simulation_appears_without_reloading(server, storage, browser):
    folder = _fork(storage, "live")
    _run(folder, 20)
    _open_replay(browser, server.url, "live", 19)
    assert browser.js("return window.agaReplay.total") == 20
    browser.wait(lambda: browser.js("return window.agaReplay.live.events") >= 1, message="the live stream")
    worker = threading.Thread(target=_run, args=(folder, 30))
    worker.start()
    worker.join(120)
    browser.wait(
        lambda: browser.js("return window.agaReplay.live.last.total") == 50,
        timeout=20,
        message="the server-sent event of the last step",
    )
    browser.wait(
        lambda: browser.js("return window.agaReplay.total") == 50, timeout=5, message="the new steps"
    )
    browser.js(
        "document.getElementById('stepbox').value = '49';"
        "document.getElementById('stepbox').dispatchEvent(new Event('change'))"
    )
    browser.wait(
        lambda: (
            browser.js("return window.agaReplay.tileOf('Klaus Mueller')")
            == tile_at(folder, "Klaus Mueller", 49)
        ),
        message="step 49 drawn",
    )
    browser.shot("live")
    assert browser.errors() == []


def test_the_inspector_interviews_the_resident_at_that_step(server, storage, browser):
    _open_replay(browser, server.url, "town", 120)
    browser.js("window.AgaInspect.open('Klaus Mueller', 120)")
    browser.wait(lambda: browser.js("return window.agaInspect.step === 120"), message="inspector at 120")
    assert browser.js("return window.agaInspect.data.interview") is True
    browser.js("document.querySelector('#inspector .insp-interview').click()")
    browser.wait(
        lambda: browser.js("return !!document.querySelector('#dialog .interview-form input')"),
        message="the chat",
    )
    browser.js(
        "const i = document.querySelector('#dialog .interview-form input'); i.value = 'What are you doing now?';"
        "document.querySelector('#dialog .interview-form button').click()"
    )
    answer = browser.wait(
        lambda: browser.js(
            "const a = document.querySelector('#dialog .interview-log p.a'); "
            "return a && a.textContent !== '…' ? a.textContent : null"
        ),
        timeout=60,
        message="the answer",
    )
    assert answer.startswith("Klaus Mueller: ") and len(answer) > len("Klaus Mueller: ") + 3, answer
    assert "error" not in answer
    browser.shot("interview")
    assert browser.errors() == []
