"""The replay server on loopback: index, page, chunked steps (stored and live), town picture, 404s."""

from __future__ import annotations

import http.client
import io
import json
import re
from pathlib import Path
from urllib.parse import quote

import pytest
from PIL import Image

from aga.errors import InputError
from aga.viewer.convert import compress_simulation, import_ga_replay
from aga.viewer.replay import META_FILE, apply_changes
from aga.viewer.server import make_server

from .conftest import NAMES, commit, get, make_store, store_states, walk_frames


def _fold_chunk(chunk: dict) -> list[dict]:
    state = dict(chunk["state"])
    out = [dict(state)]
    for changes in chunk["changes"]:
        apply_changes(state, changes)
        out.append(dict(state))
    return out


def _steps(url: str, sim: str, start: int, count: int | None = None) -> dict:
    query = f"start={start}" + (f"&count={count}" if count else "")
    status, _, body = get(f"{url}/api/sims/{quote(sim)}/steps?{query}")
    assert status == 200, body
    return json.loads(body)


@pytest.fixture
def storage(tmp_path) -> Path:
    storage = tmp_path / "storage"
    make_store(storage / "walk", 800, seed=21).close()
    return storage


def test_index_lists_simulations_with_links(storage, serve, original_run):
    import_ga_replay(original_run, storage, name="july1")
    (storage / "public").mkdir()  # the shared policy folder is not a simulation
    (storage / ".viewer-cache").mkdir()
    url = serve(storage).url
    status, headers, body = get(url + "/")
    page = body.decode()
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert "href='/demo/walk/0/3'" in page and "href='/demo/july1/0/3'" in page
    assert "href='/demo/july1/8654/3'" in page  # the last step
    assert "public" not in re.findall(r"/demo/([^/]+)/", page)
    sims = json.loads(get(url + "/api/sims")[2])
    assert [(s["name"], s["source"], s["total"]) for s in sims] == [
        ("july1", "replay", 8655),
        ("walk", "store", 800),
    ]


def test_the_page_and_its_assets(storage, serve):
    url = serve(storage).url
    status, _, body = get(url + "/demo/walk/120/5")
    page = body.decode()
    assert status == 200
    config = json.loads(re.search(r'<script id="config" type="application/json">(.*?)</script>', page)[1])
    assert config == {"sim": "walk", "step": 120, "speed": 5, "api": "/api/sims/walk"}
    for asset, kind in (("core.js", "javascript"), ("replay.js", "javascript"), ("replay.css", "css")):
        assert f"/static/{asset}" in page
        status, headers, body = get(f"{url}/static/{asset}")
        assert status == 200 and kind in headers["Content-Type"] and len(body) > 500
    conn = http.client.HTTPConnection("127.0.0.1", int(url.rsplit(":", 1)[1]), timeout=5)
    conn.request("GET", "/demo/walk")
    res = conn.getresponse()
    assert (res.status, res.getheader("Location")) == (302, "/demo/walk/0/3")
    res.read()
    conn.request("GET", "/demo/walk/42/")
    res = conn.getresponse()
    assert (res.status, res.getheader("Location")) == (302, "/demo/walk/42/3")
    conn.close()


def test_chunks_from_the_store_give_every_step(storage, serve):
    url = serve(storage).url
    info = json.loads(get(url + "/api/sims/walk")[2])
    assert (info["total"], info["chunk"], info["live"], info["names"]) == (800, 360, True, list(NAMES))
    folded = []
    for start in range(0, 800, info["chunk"]):
        chunk = _steps(url, "walk", start)
        assert (chunk["start"], chunk["stop"]) == (start, min(start + 360, 800))
        folded += _fold_chunk(chunk)
    from aga.store.sim_store import SimStore

    store = SimStore.open(storage / "walk")
    expected = store_states(store)
    store.close()
    assert folded == expected
    middle = _steps(url, "walk", 517, 10)  # any start, not only chunk boundaries
    assert _fold_chunk(middle) == expected[517:527]
    assert all(set(c) <= set(NAMES) for c in middle["changes"])


def test_store_and_its_compressed_replay_serve_the_same_steps(storage, serve):
    compress_simulation(storage / "walk")
    (storage / "walk_copy").mkdir()  # the replay alone, without the store: served from its files
    (storage / "walk" / "replay").rename(storage / "walk_copy" / "replay")
    url = serve(storage).url
    assert json.loads(get(url + "/api/sims/walk_copy")[2])["source"] == "replay"
    for start in (0, 359, 360, 799):
        assert _fold_chunk(_steps(url, "walk", start, 50)) == _fold_chunk(_steps(url, "walk_copy", start, 50))


def test_a_running_simulation_shows_new_steps(storage, serve):
    url = serve(storage).url
    assert json.loads(get(url + "/api/sims/walk")[2])["total"] == 800
    last = _steps(url, "walk", 720)
    assert last["stop"] == 800
    from aga.store.sim_store import SimStore

    store = SimStore.open(storage / "walk")
    before = store_states(store)[-1]
    frames = walk_frames(100, seed=8, start_step=800, state=before)
    commit(store, frames, 800)  # the run goes on while the server is up
    store.close()
    assert json.loads(get(url + "/api/sims/walk")[2])["total"] == 900
    again = _steps(url, "walk", 720)
    assert again["stop"] == 900 and _fold_chunk(again)[-1] == frames[-1]
    status, _, body = get(url + "/api/sims/walk/steps?start=900")
    assert status == 404 and "no step 900 (steps 0..899)" in json.loads(body)["error"]


def test_town_picture_is_drawn_once_and_cached_on_disk(storage, serve, monkeypatch):
    url = serve(storage).url
    info = json.loads(get(url + "/api/sims/walk")[2])
    town = info["town"]
    assert (town["name"], town["width"], town["height"]) == ("the_ville", 140, 100)
    status, headers, png = get(url + "/api/sims/walk/town.png")
    assert status == 200 and headers["Content-Type"] == "image/png" and png[:8] == b"\x89PNG\r\n\x1a\n"
    assert Image.open(io.BytesIO(png)).size == (140 * town["tile"], 100 * town["tile"])
    cached = list((storage / ".viewer-cache").glob("town-*.png"))
    assert [p.read_bytes() for p in cached] == [png]
    status, _, _ = get(url + "/api/sims/walk/town.png", {"If-None-Match": headers["ETag"]})
    assert status == 304

    import aga.world.render

    def no_drawing(*args, **kwargs):
        raise AssertionError("the town was drawn again")

    monkeypatch.setattr(aga.world.render, "render_town", no_drawing)
    second = serve(storage).url  # a new server: empty memory, same disk cache
    assert get(second + "/api/sims/walk/town.png")[2] == png


def test_unknown_things_are_404s_that_name_them(storage, serve):
    url = serve(storage).url
    cases = [
        ("/demo/nosuch/0/3", "no simulation named &#x27;nosuch&#x27;"),
        ("/demo/walk/800/3", "has no step 800 (steps 0..799)"),
        ("/demo/walk/abc/3", "step &#x27;abc&#x27; is not a step number"),
        ("/demo/walk/0/12", "speed &#x27;12&#x27; is not one of 1..9"),
        ("/demo/..%2F..%2Fetc/0/3", "no simulation named"),
        ("/nowhere", "no page at"),
        ("/static/secret.py", "no static file"),
    ]
    for path, message in cases:
        status, headers, body = get(url + path)
        assert status == 404, path
        assert headers["Content-Type"].startswith("text/html")
        assert message in body.decode(), (path, body)
    api = [
        ("/api/sims/nosuch", 404, "no simulation named 'nosuch'"),
        ("/api/sims/nosuch/steps?start=0", 404, "no simulation named 'nosuch'"),
        ("/api/sims/walk/steps?start=5000", 404, "no step 5000"),
        ("/api/sims/walk/steps", 400, "query parameter 'start' is missing"),
        ("/api/sims/walk/steps?start=0&count=x", 400, "'count' must be a whole number"),
        ("/api/sims/walk/steps?start=0&count=99999", 400, "count must be from 1 to 2000"),
    ]
    for path, code, message in api:
        status, _, body = get(url + path)
        assert status == code, path
        assert message in json.loads(body)["error"], path


def test_broken_replays_and_missing_towns_are_reported(storage, serve, original_run):
    import_ga_replay(original_run, storage, name="nomap")
    meta_path = storage / "nomap" / "replay" / META_FILE
    meta = json.loads(meta_path.read_text())
    meta_path.write_text(json.dumps({**meta, "aga_town": "atlantis"}))
    import_ga_replay(original_run, storage, name="broken")
    (storage / "broken" / "replay" / "master_movement.json").write_text('{"0": {')
    url = serve(storage).url
    info = json.loads(get(url + "/api/sims/nomap")[2])
    assert info["town"] is None and "town 'atlantis' not found" in info["town_error"]
    assert info["total"] == 8655  # still playable, on a plain grid
    status, _, body = get(url + "/api/sims/nomap/town.png")
    assert status == 404 and "atlantis" in json.loads(body)["error"]
    status, _, body = get(url + "/api/sims/broken")
    assert status == 500 and "master_movement.json line 1" in json.loads(body)["error"]
    assert "href='/demo/broken/0/3'" in get(url + "/")[2].decode()  # listed from its meta.json
    status, _, body = get(url + "/demo/broken/0/3")
    assert status == 500 and "master_movement.json line 1 column 8: not valid JSON" in body.decode()


def test_server_refuses_bad_storage_and_busy_ports(tmp_path, storage):
    with pytest.raises(InputError, match="does not exist"):
        make_server(tmp_path / "nothing", port=0)
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError, match="is not a folder"):
        make_server(tmp_path / "file", port=0)
    first = make_server(storage, port=0)
    try:
        port = first.server_address[1]
        with pytest.raises(InputError, match=f"cannot listen on 127.0.0.1:{port}"):
            make_server(storage, port=port)
    finally:
        first.server_close()
