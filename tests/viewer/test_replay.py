"""The compressed format: delta coding, folding, strict reading with named errors, atomic writing."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from aga.errors import InputError, StoreError
from aga.viewer.replay import (
    MASTER_FILE,
    META_FILE,
    check_entry,
    compress_frames,
    fold,
    make_meta,
    read_master,
    read_meta,
    write_replay,
)

from .conftest import NAMES, walk_frames


def _entry(x: int, y: int, what: str = "idle @ w:s:a:o", chat=None) -> dict:
    return {"movement": [x, y], "pronunciatio": "🙂", "description": what, "chat": chat}


def test_step_zero_is_full_and_later_steps_hold_only_changes():
    frames = walk_frames(300, seed=3)
    master = compress_frames(enumerate(frames))
    assert len(master) == 300
    assert sorted(master[0]) == sorted(NAMES)
    for step in range(1, 300):
        for name in NAMES:
            changed = frames[step][name] != frames[step - 1][name]
            assert (name in master[step]) == changed, (step, name)
    assert sum(len(f) for f in master) < 3 * 300  # something was saved


def test_folding_gives_every_step_back():
    frames = walk_frames(400, seed=5)
    master = compress_frames(enumerate(frames))
    for step in (0, 1, 2, 57, 199, 399):
        assert fold(master, step) == frames[step]
    with pytest.raises(InputError, match="step 400 is outside the replay"):
        fold(master, 400)


def test_missing_steps_and_late_residents():
    a, b = _entry(1, 1), _entry(2, 2)
    master = compress_frames([(0, {"A": a}), (3, {"A": a, "B": b}), (4, {"A": _entry(1, 2), "B": b})])
    assert master == [{"A": a}, {}, {}, {"B": b}, {"A": _entry(1, 2)}]
    assert fold(master, 2) == {"A": a}
    assert fold(master, 4) == {"A": _entry(1, 2), "B": b}
    with pytest.raises(StoreError, match="not in step order"):
        compress_frames([(2, {"A": a}), (1, {"A": a})])


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"movement": [1], "pronunciatio": "", "description": "", "chat": None}, "field 'movement'"),
        ({"movement": [1, -2], "pronunciatio": "", "description": "", "chat": None}, "field 'movement'"),
        ({"movement": [1, 2], "pronunciatio": 5, "description": "", "chat": None}, "field 'pronunciatio'"),
        ({"movement": [1, 2], "pronunciatio": "", "description": "", "chat": "hi"}, "field 'chat'"),
        ({"movement": [1, 2], "pronunciatio": "", "description": "", "chat": [["a"]]}, "field 'chat' line 0"),
        ({"movement": [1, 2], "pronunciatio": "", "description": ""}, "missing field 'chat'"),
    ],
)
def test_entries_are_checked_field_by_field(bad, message):
    with pytest.raises(InputError, match=message) as err:
        check_entry(bad, "file.json step 7 resident 'A'")
    assert "file.json step 7 resident 'A'" in str(err.value)


def _write(folder, master_text: str, meta: dict | None = None):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MASTER_FILE).write_text(master_text, encoding="utf-8")
    meta = meta or {
        "persona_names": ["A"],
        "sec_per_step": 10,
        "step": 2,
        "curr_time": "February 13, 2023, 00:00:20",
        "maze_name": "the_ville",
    }
    (folder / META_FILE).write_text(json.dumps(meta), encoding="utf-8")


def test_malformed_master_files_name_file_and_place(tmp_path):
    good = json.dumps(_entry(1, 1))
    cases = [
        ('{\n"0": {"A": ' + good + '},\n"1": {,}\n}', "line 3 column"),
        ('{"0": {"A": ' + good + '}, "one": {}}', "key 'one' is not a step number"),
        ('{"1": {"A": ' + good + "}}", 'has no step "0"'),
        ('{"0": {"B": ' + good + "}}", "step 0: resident 'A' of meta.json persona_names is missing"),
        ('{"0": {"A": ' + good + '}, "1": {"A": {"movement": "x"}}}', "step 1 resident 'A': missing field"),
        ('{"0": {"A": ' + good + '}, "1": []}', "step 1: expected an object of residents"),
    ]
    for i, (text, message) in enumerate(cases):
        folder = tmp_path / f"case{i}"
        _write(folder, text)
        with pytest.raises(InputError, match=message) as err:
            read_master(folder, read_meta(folder).names)
        assert str(folder / MASTER_FILE) in str(err.value)


def test_meta_start_and_checks(tmp_path):
    _write(tmp_path / "a", "{}")
    meta = read_meta(tmp_path / "a")
    assert meta.start == datetime(2023, 2, 13, 0, 0, 0)  # curr_time minus 2 steps of 10 s
    assert (meta.names, meta.sec_per_step, meta.steps, meta.town) == (["A"], 10, 2, "the_ville")
    _write(tmp_path / "b", "{}", {"persona_names": ["A"], "step": 1, "curr_time": "x"})
    with pytest.raises(InputError, match="missing field 'sec_per_step'"):
        read_meta(tmp_path / "b")
    _write(
        tmp_path / "c",
        "{}",
        {"persona_names": ["A"], "sec_per_step": 10, "step": 1, "curr_time": "yesterday"},
    )
    with pytest.raises(InputError, match=r"meta.json: field 'curr_time' 'yesterday'"):
        read_meta(tmp_path / "c")
    made = make_meta(
        names=["A"],
        start=datetime(2023, 2, 13, 6, 30),
        sec_per_step=10,
        steps=360,
        maze_name="the_ville",
        town="the_ville",
        fork_sim_code=None,
    )
    assert made["curr_time"] == "February 13, 2023, 07:30:00"
    _write(tmp_path / "d", "{}", made)
    assert read_meta(tmp_path / "d").start == datetime(2023, 2, 13, 6, 30)


def test_write_replaces_whole_or_not_at_all(tmp_path):
    folder = tmp_path / "sim" / "replay"
    master = compress_frames(enumerate(walk_frames(20, seed=2)))
    meta = make_meta(
        names=list(NAMES),
        start=datetime(2023, 2, 13),
        sec_per_step=10,
        steps=20,
        maze_name="the_ville",
        town="the_ville",
        fork_sim_code=None,
    )
    write_replay(folder, master, meta)
    assert read_master(folder, list(NAMES)) == master
    first = (folder / MASTER_FILE).read_text()
    with pytest.raises(StoreError, match="cannot write the replay"):
        write_replay(folder, master[:5], meta, {"no/such/dir.txt": b"x"})
    assert (folder / MASTER_FILE).read_text() == first  # the old replay is intact
    write_replay(folder, master[:5], meta)
    assert len(read_master(folder)) == 5
    assert sorted(p.name for p in folder.parent.iterdir()) == ["replay"]  # no leftovers
