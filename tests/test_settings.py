"""The one table of switches (aga.settings) and what is derived from it: the minds' MindConfig,
the savings list, the ``aga run`` options, their validation, and the docs' switch tables."""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from aga.errors import InputError
from aga.minds import MindConfig
from aga.minds.context import SAVINGS as MIND_SAVINGS
from aga.runner.lifecycle import RunSettings
from aga.settings import ENV, SAVINGS, SWITCHES, check_savings, retry_overrides, storage_root

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_mind_config_holds_exactly_the_switches_the_minds_read() -> None:
    flags = {f.name for f in dataclasses.fields(MindConfig) if f.type in ("bool", bool)}
    assert flags == {s.name for s in SWITCHES if s.in_minds}
    assert MIND_SAVINGS == SAVINGS == tuple(s.name for s in SWITCHES if s.group == "saving")
    assert not any(getattr(MindConfig(), name) for name in flags)  # MindConfig() is the original


def test_the_run_settings_turn_on_what_the_table_says() -> None:
    config = RunSettings().mind_config()
    for s in SWITCHES:
        if s.in_minds and s.group != "profile":
            assert getattr(config, s.name) is s.on, s.name
    off = RunSettings(disabled_savings=["react_rules"]).mind_config()
    assert off.react_rules is False and off.batch_ratings is True


def test_an_unknown_saving_is_refused_naming_the_known_ones() -> None:
    assert check_savings(["plan_rules", "plan_rules", "batch_ratings"]) == ["batch_ratings", "plan_rules"]
    with pytest.raises(InputError, match="unknown saving 'fast_mode'.*reuse_ratings"):
        RunSettings(disabled_savings=["fast_mode"])


def test_every_switch_is_an_option_of_aga_run_with_its_help() -> None:
    env = {**os.environ, "COLUMNS": "400", "NO_COLOR": "1", "TERM": "dumb"}
    out = subprocess.run(
        [sys.executable, "-m", "aga.cli.main", "run", "--help"], capture_output=True, text=True, env=env
    )
    assert out.returncode == 0, out.stderr
    text = " ".join(out.stdout.split())
    for s in SWITCHES:
        for flag in s.flags:
            assert flag.split("/")[0] in text, flag
        if s.flags:
            assert " ".join(s.help.split())[:40] in text, s.name
    for name in SAVINGS:
        assert name in text  # the --disable_saving help lists every saving


def test_the_docs_tables_name_exactly_the_switches() -> None:
    savings_doc = (DOCS / "savings.md").read_text(encoding="utf-8")
    cost_doc = (DOCS / "cost.md").read_text(encoding="utf-8")
    rows = set(re.findall(r"^\| `([a-z_]+)` \|", savings_doc + "\n" + cost_doc, flags=re.M))
    for name in SAVINGS:
        assert name in rows, f"docs/savings.md or docs/cost.md has no table row for the saving {name!r}"
    flag_rows = re.findall(r"^\| `(--[a-z_]+)[^`]*` ", cost_doc, flags=re.M)
    options = {f.split("/")[0] for s in SWITCHES for f in s.flags if not f.startswith("--disable-")}
    extra = {"--disable_saving", "--profile"}  # the savings by name; the profile sets the "profile" group
    assert set(flag_rows) == options | extra, "docs/cost.md's table of switches is out of date"
    listed = re.search(r"^\| `--disable_saving NAME`.*$", cost_doc, flags=re.M)
    assert listed is not None and all(f"`{name}`" in listed.group(0) for name in SAVINGS)


def test_environment_variables_are_read_in_one_place(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("AGA_STORAGE", str(tmp_path))
    assert storage_root(None) == tmp_path and storage_root(Path("x")) == Path("x")
    monkeypatch.setenv("AGA_LLM_MAX_TRIES", "3")
    monkeypatch.setenv("AGA_LLM_RETRY_DELAY", "0.5")
    assert retry_overrides() == {"max_tries": 3, "base_delay": 0.5}
    monkeypatch.setenv("AGA_LLM_MAX_TRIES", "many")
    with pytest.raises(InputError, match="AGA_LLM_MAX_TRIES='many' is not a whole number"):
        retry_overrides()
    src = Path(__file__).resolve().parents[1] / "src" / "aga"
    readers = sorted(
        str(p.relative_to(src))
        for p in src.rglob("*.py")
        if any(
            f'"{var}"' in p.read_text(encoding="utf-8") and "environ" in p.read_text(encoding="utf-8")
            for var in ENV
        )
    )
    assert readers == ["settings.py"], readers
