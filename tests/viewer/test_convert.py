"""Compressing a simulation and importing an original compressed run."""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timedelta

import pytest

from aga.errors import InputError, StoreError
from aga.store.sim_store import SimStore
from aga.viewer.convert import compress_simulation, import_ga_replay
from aga.viewer.replay import GA_TIME, MASTER_FILE, META_FILE, apply_changes, fold, read_master, read_meta
from aga.viewer.sources import FileSource
from aga.world import load_town
from aga.world.loading import resolve_town

from .conftest import NAMES, START, commit, make_store, scripted_day, store_states, walk_frames


def _all_folds(master):
    state, out = {}, []
    for changes in master:
        apply_changes(state, changes)
        out.append(dict(state))
    return out


def test_compress_round_trip_at_every_step(tmp_path):
    store = make_store(tmp_path / "walk", 900, seed=11)
    expected = store_states(store)
    store.close()
    done = compress_simulation(tmp_path / "walk")
    master = read_master(done.folder, list(NAMES))
    assert len(master) == done.steps == 900
    assert _all_folds(master) == expected
    assert sorted(master[0]) == sorted(NAMES)
    assert all(
        name not in master[s] or master[s][name] != expected[s - 1][name]
        for s in range(1, 900)
        for name in NAMES
    )
    meta = json.loads((done.folder / META_FILE).read_text())
    assert meta["persona_names"] == list(NAMES)
    assert (meta["step"], meta["sec_per_step"], meta["maze_name"]) == (900, 10, "the_ville")
    assert meta["start_date"] == "February 13, 2023"
    assert meta["curr_time"] == (START + timedelta(seconds=9000)).strftime(GA_TIME)


def test_compress_a_scripted_run(tmp_path):
    folder = scripted_day(tmp_path / "storage", "day", 90)
    done = compress_simulation(folder)
    store = SimStore.open(folder)
    try:
        expected = store_states(store)
    finally:
        store.close()
    master = read_master(done.folder, done.names)
    assert _all_folds(master) == expected
    assert sum(len(f) for f in master[1:]) > 0  # residents moved
    town = load_town("the_ville")
    assert all(town.is_walkable(tuple(e["movement"])) for f in master for e in f.values())


def test_compress_again_after_more_steps_and_errors(tmp_path):
    store = make_store(tmp_path / "live", 50, seed=4)
    compress_simulation(tmp_path / "live")
    commit(store, walk_frames(30, seed=9, start_step=50, state=store_states(store)[-1]), 50)
    expected = store_states(store)
    store.close()
    done = compress_simulation(tmp_path / "live")
    assert done.steps == 80
    assert _all_folds(read_master(done.folder)) == expected

    SimStore.create(
        tmp_path / "empty", {"name": "empty", "start": START.isoformat(), "sec_per_step": 10, "step": 0}
    ).close()
    with pytest.raises(InputError, match="'empty' has no steps yet"):
        compress_simulation(tmp_path / "empty")
    with pytest.raises(StoreError, match="no simulation here"):
        compress_simulation(tmp_path / "nothing")


def test_a_town_file_travels_with_the_replay(tmp_path):
    own = tmp_path / "mytown.yaml"
    shutil.copy(resolve_town("the_ville"), own)
    make_store(tmp_path / "sim", 10, town=str(own)).close()
    done = compress_simulation(tmp_path / "sim")
    assert (done.folder / "town.yaml").read_bytes() == own.read_bytes()
    own.unlink()
    info = FileSource("sim", done.folder).info()
    assert info.town == str(done.folder / "town.yaml")
    assert load_town(info.town).width == 140


def test_import_the_original_run(tmp_path, original_run):
    storage = tmp_path / "storage"
    done = import_ga_replay(original_run, storage)
    assert done.folder == storage / original_run.name / "replay"
    original_meta = json.loads((original_run / META_FILE).read_text())
    meta = read_meta(done.folder)
    assert meta.names == original_meta["persona_names"]
    assert meta.start == datetime(2023, 2, 13, 0, 0)
    assert meta.start + timedelta(seconds=meta.steps * meta.sec_per_step) == datetime.strptime(
        original_meta["curr_time"], GA_TIME
    )
    master = read_master(done.folder, meta.names)
    assert len(master) == original_meta["step"] == 8655
    ours, theirs = _all_folds(master), _all_folds(read_master(original_run))
    assert ours == theirs
    first = ours[0]
    assert sorted(first) == sorted(original_meta["persona_names"])
    assert first["Isabella Rodriguez"]["movement"] == [73, 14]
    assert first["Klaus Mueller"]["movement"] == [127, 46]
    assert first["Maria Lopez"]["description"].startswith("sleeping @ ")
    assert fold(master, 2160)["Isabella Rodriguez"]["description"].startswith("waking up")
    chat = fold(master, 3574)["Klaus Mueller"]["chat"]
    assert chat[0][0] == "Klaus Mueller" and chat[1][0] == "Maria Lopez"
    assert fold(master, 8654) == ours[-1]


def test_import_with_the_original_map(tmp_path, original_run, original_matrix):
    done = import_ga_replay(original_run, tmp_path / "storage", name="july1", matrix=original_matrix)
    source = FileSource("july1", done.folder)
    town = load_town(source.info().town)
    assert source.info().town == str(done.folder / "town.yaml")
    for name, entry in source.state_at(0).items():
        tile = tuple(entry["movement"])
        assert town.is_walkable(tile)
        assert town.address(tile, "arena") == entry["description"].split(" @ ")[1].rsplit(":", 1)[0], name


def test_import_refuses_bad_input_and_never_overwrites(tmp_path, original_run):
    storage = tmp_path / "storage"
    import_ga_replay(original_run, storage, name="once")
    before = (storage / "once" / "replay" / MASTER_FILE).stat().st_mtime_ns
    with pytest.raises(InputError, match="once already exists"):
        import_ga_replay(original_run, storage, name="once")
    assert (storage / "once" / "replay" / MASTER_FILE).stat().st_mtime_ns == before
    with pytest.raises(InputError, match="invalid simulation name"):
        import_ga_replay(original_run, storage, name="../up")
    with pytest.raises(InputError, match="not a folder"):
        import_ga_replay(tmp_path / "missing", storage)

    broken = tmp_path / "broken"
    broken.mkdir()
    shutil.copy(original_run / META_FILE, broken / META_FILE)
    lines = (original_run / MASTER_FILE).read_text().splitlines()
    lines[5] = lines[5].replace("46", "4x6")
    (broken / MASTER_FILE).write_text("\n".join(lines))
    with pytest.raises(InputError, match=r"master_movement.json line 6 column \d+: not valid JSON"):
        import_ga_replay(broken, storage)

    master = json.loads((original_run / MASTER_FILE).read_text())
    master["12"] = {"Maria Lopez": {**master["0"]["Maria Lopez"], "movement": [500, 3]}}
    (broken / MASTER_FILE).write_text(json.dumps(master))
    with pytest.raises(InputError, match=r"step 12 resident 'Maria Lopez': tile \(500, 3\) is outside town"):
        import_ga_replay(broken, storage)
    assert sorted(p.name for p in storage.iterdir()) == ["once"]  # nothing half-imported
