"""Bad input to `aga run`: one clear line, a non-zero exit, and nothing created or changed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

AGA = [sys.executable, "-m", "aga.cli.main"]
BASE3 = "base_the_ville_isabella_maria_klaus"


def aga(storage: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "AGA_STORAGE": str(storage), "COLUMNS": "80"}
    return subprocess.run([*AGA, *args], env=env, capture_output=True, text=True, timeout=300)


def tree(folder: Path) -> dict[str, int]:
    if not folder.exists():
        return {}
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns for p in sorted(folder.rglob("*"))}


def error_line(proc: subprocess.CompletedProcess) -> str:
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    return lines[0]


def test_unknown_base(tmp_path):
    proc = aga(tmp_path, "run", "-o", "base_nowhere", "-t", "new", "-s", "10", "--llm", "scripted")
    assert proc.returncode != 0
    assert "base_nowhere" in error_line(proc) and BASE3 in error_line(proc)
    assert tree(tmp_path) == {}


@pytest.mark.parametrize("steps", ["0", "-5", "ten", "2.5"])
def test_steps_must_be_a_positive_integer(tmp_path, steps):
    proc = aga(tmp_path, "run", "-o", BASE3, "-t", "new", "-s", steps, "--llm", "scripted")
    assert proc.returncode != 0
    assert "steps" in proc.stderr.lower()
    assert tree(tmp_path) == {}


def test_existing_target_needs_force_and_is_left_alone(tmp_path):
    assert (
        aga(tmp_path, "run", "-o", BASE3, "-t", "sim", "-s", "3", "--llm", "scripted", "--quiet").returncode
        == 0
    )
    before = tree(tmp_path)
    proc = aga(tmp_path, "run", "-o", BASE3, "-t", "sim", "-s", "3", "--llm", "scripted")
    assert proc.returncode != 0
    assert "already exists" in error_line(proc) and "--force" in error_line(proc)
    assert tree(tmp_path) == before
    forced = aga(
        tmp_path, "run", "-o", BASE3, "-t", "sim", "-s", "2", "--llm", "scripted", "--force", "--quiet"
    )
    assert forced.returncode == 0, forced.stderr


def test_malformed_persona_file(tmp_path):
    from aga import bases as aga_bases

    base = tmp_path / "mybase"
    shutil.copytree(Path(aga_bases.__file__).parent / BASE3, base)
    persona = sorted((base / "personas").glob("*.yaml"))[0]
    persona.write_text(persona.read_text().replace("age:", "age: [oops", 1))
    storage = tmp_path / "storage"
    proc = aga(storage, "run", "-o", str(base), "-t", "new", "-s", "10", "--llm", "scripted")
    assert proc.returncode != 0
    assert persona.name in error_line(proc)
    assert tree(storage) == {}


def test_continuing_a_missing_simulation(tmp_path):
    proc = aga(tmp_path, "run", "-t", "ghost", "-s", "10")
    assert proc.returncode != 0
    assert "ghost" in error_line(proc)
    assert tree(tmp_path) == {}


def test_unknown_llm_spec_creates_nothing(tmp_path):
    proc = aga(tmp_path, "run", "-o", BASE3, "-t", "new", "-s", "10", "--llm", "nonsense:model")
    assert proc.returncode != 0
    assert "nonsense" in error_line(proc)
    assert tree(tmp_path) == {}
