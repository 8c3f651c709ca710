"""Generated towns and bases: `aga town build --homes N` and `aga base generate` (issue 14)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from aga.bases import load_base, validate_against_town
from aga.bases.generate import generate_base, write_base
from aga.errors import BaseSimError, TownError
from aga.runner.lifecycle import RunSettings, fork, open_simulation
from aga.store.sim_store import SimStore
from aga.world import load_town
from aga.world.generator import generate_plan
from aga.world.layout import HOME_BEDROOMS, house_sectors, public_counts, town_plan
from aga.world.loading import build_town

AGA = [sys.executable, "-m", "aga.cli.main"]


def _aga(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*AGA, *args], capture_output=True, text=True, cwd=cwd, env={**os.environ}, timeout=600
    )


@pytest.fixture(scope="module")
def big(tmp_path_factory) -> tuple[Path, Path]:
    """A 160-house town and a 300-resident base of it (what the CLI does, in-process)."""
    from aga.world.townfile import write_town_file

    root = tmp_path_factory.mktemp("gen")
    town_file = root / "town.yaml"
    write_town_file(generate_plan(town_plan(160, name="gen_160")), town_file, header="test", force=True)
    base = generate_base(300, load_town(town_file), town_ref=str(town_file), seed=3, name="base300")
    write_base(base, root / "base300")
    return town_file, root / "base300"


def test_the_cli_builds_a_town_and_a_base(tmp_path):
    run = _aga("town", "build", "--homes", "6", "town.yaml", "--name", "gen_6", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "6 houses" in run.stdout
    run = _aga(
        "base",
        "generate",
        "--residents",
        "9",
        "--town",
        "town.yaml",
        "--seed",
        "3",
        "--out",
        "b9",
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr
    assert "wrote b9: 9 residents" in run.stdout
    base = load_base(tmp_path / "b9")
    assert len(base.residents) == 9 and Path(base.town) == (tmp_path / "town.yaml").resolve()
    again = _aga("base", "generate", "--residents", "9", "--town", "town.yaml", "--out", "b9", cwd=tmp_path)
    assert again.returncode == 1 and "already exists" in again.stderr  # nothing overwritten


def test_generated_town_is_whole_and_proportionate(big):
    town = load_town(big[0])
    assert town.reachability().arenas == () and town.reachability().spawns == ()
    assert len(house_sectors(town)) == 160
    tree = town.tree()
    counts = public_counts(160)
    for kind, arena in (
        ("cafe", "cafe"),
        ("market", "store"),
        ("pub", "pub"),
        ("office", "office"),
        ("park", "park"),
        ("clinic", "clinic"),
        ("workshop", "workshop"),
    ):
        assert sum(1 for arenas in tree.values() if arena in arenas) == counts[kind], kind
    colleges = [s for s, arenas in tree.items() if "library" in arenas]
    assert len(colleges) == 1 and sum(a.startswith("classroom") for a in tree[colleges[0]]) == 4


def test_generated_base_validates_and_everyone_has_a_home_and_a_bed(big):
    town_file, folder = big
    town = load_town(town_file)
    base = load_base(folder)
    assert len(base.residents) == 300 and len({p.name for p in base.residents}) == 300
    assert validate_against_town(base.model_copy(update={"town": town.name}), town) == []
    per_room = Counter(p.living_area for p in base.residents)
    for area, people in per_room.items():
        assert area.rsplit(":", 1)[1] in HOME_BEDROOMS
        beds = [t for t in town.tiles(area + ":bed")]
        assert beds and len(town.spawn_tiles(area)) >= people, area
        assert people <= 2  # two beds per bedroom
    # varied people: ages, trades, rhythms and workplaces in this town
    assert len({p.age for p in base.residents}) > 30
    assert len({p.learned.split(" at ")[0].split(" is ")[-1] for p in base.residents}) > 10
    assert len({p.lifestyle.split(" and wakes")[0][-9:] for p in base.residents}) >= 3
    places = {p.workplace.split(":")[0] for p in base.residents if getattr(p, "workplace", None)}
    assert places and all(town.has_address(f"{town.world}:{s}") for s in places)
    assert sum(1 for p in base.residents if any(" married to " in m for m in p.seed_memories)) > 20
    assert any(f.name == "market_day" for f in base.facts)


def test_a_scripted_run_of_the_generated_base_forks_runs_and_resumes(big, tmp_path):
    # (that a resumed run equals an uninterrupted one is tests/runner/test_resume.py's job)
    base = load_base(big[1])
    folder = fork(base, tmp_path, "big", settings=RunSettings(llm="scripted"))
    for _ in range(2):  # run one step, close, reopen at the committed step, run one more
        sim = open_simulation(folder)
        asyncio.run(sim.run(1))
        sim.close()
    store = SimStore.open(folder)
    try:
        assert store.meta()["step"] == 2
        states = store.resident_states()
        assert len(states) == 300
        moves = list(store.movements())
        assert [step for step, _ in moves] == [0, 1] and all(len(m) == 300 for _, m in moves)
        stored = sum(len(store.memory_records(n)) for n in states)
        assert stored >= sum(len(p.seed_memories) for p in base.residents) > 0
    finally:
        store.close()


def test_same_seed_same_base_and_another_seed_another(big, tmp_path):
    town = load_town(big[0])
    one = generate_base(40, town, town_ref=str(big[0]), seed=1)
    assert one == generate_base(40, town, town_ref=str(big[0]), seed=1)
    assert one.residents != generate_base(40, town, town_ref=str(big[0]), seed=2).residents
    write_base(one, tmp_path / "b40")
    assert load_base(tmp_path / "b40").residents == one.residents


def test_bad_sizes_and_names_get_one_line(big, tmp_path):
    for args, words in (
        (["town", "build", "--homes", "0", "x.yaml"], "--homes must be between 1 and"),
        (["town", "build", "--homes", "4", "x.yaml", "--name", "Big Town"], "town name 'Big Town'"),
        (
            ["base", "generate", "--residents", "0", "--town", str(big[0])],
            "--residents must be between 1 and",
        ),
        (
            ["base", "generate", "--residents", "900", "--town", str(big[0])],
            "build a bigger town: aga town build --homes",
        ),
        (["base", "generate", "--residents", "5", "--town", "no_such_town"], "town 'no_such_town' not found"),
    ):
        run = _aga(*args, cwd=tmp_path)
        assert run.returncode == 1, (args, run.stderr)
        lines = [ln for ln in run.stderr.splitlines() if ln.strip()]
        assert len(lines) == 1 and words in lines[0], (args, run.stderr)
    assert not (tmp_path / "x.yaml").exists()
    with pytest.raises(TownError):
        town_plan(5000, name="huge")
    with pytest.raises(BaseSimError):
        generate_base(10, load_town("the_ville"), town_ref="the_ville")  # the Ville has no generated houses


def test_small_plans_lay_out_every_size(tmp_path):
    for homes in (1, 2, 7, 31):
        town = build_town(generate_plan(town_plan(homes, name=f"t{homes}")))
        assert len(house_sectors(town)) == homes
