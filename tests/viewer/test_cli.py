"""``aga replay compress|import-ga|serve`` through the command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from typer.testing import CliRunner

from aga.cli.viewer import app
from aga.errors import InputError, StoreError
from aga.viewer.replay import read_master

from .conftest import NAMES, get, make_store

runner = CliRunner()


def test_compress_by_name_and_by_folder(tmp_path, monkeypatch):
    storage = tmp_path / "storage"
    make_store(storage / "walk", 30, seed=2).close()
    result = runner.invoke(app, ["compress", "walk", "--storage", str(storage)])
    assert result.exit_code == 0, result.output
    assert f"wrote {storage / 'walk' / 'replay'}: 30 steps of 3 residents" in result.output
    assert sorted(read_master(storage / "walk" / "replay")[0]) == sorted(NAMES)
    monkeypatch.setenv("AGA_STORAGE", str(storage))
    assert runner.invoke(app, ["compress", "walk"]).exit_code == 0
    assert runner.invoke(app, ["compress", str(storage / "walk")]).exit_code == 0
    result = runner.invoke(app, ["compress", "ghost"])
    assert isinstance(result.exception, StoreError) and "ghost" in str(result.exception)


def test_import_ga_command(tmp_path, original_run):
    storage = tmp_path / "storage"
    result = runner.invoke(
        app, ["import-ga", str(original_run), "--name", "july1", "--storage", str(storage)]
    )
    assert result.exit_code == 0, result.output
    assert "imported 8655 steps of Isabella Rodriguez, Maria Lopez, Klaus Mueller" in result.output
    assert "--matrix" in result.output and "/demo/july1/0/3" in result.output
    result = runner.invoke(
        app, ["import-ga", str(original_run), "--name", "july1", "--storage", str(storage)]
    )
    assert isinstance(result.exception, InputError) and "already exists" in str(result.exception)


def test_serve_command_serves_until_stopped(tmp_path):
    storage = tmp_path / "storage"
    make_store(storage / "walk", 5, seed=2).close()
    code = "from aga.cli.viewer import app; app()"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "serve", "--storage", str(storage), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        line = proc.stdout.readline()
        assert line.startswith(f"serving {storage} at http://127.0.0.1:"), line + proc.stderr.read()
        url = line.split(" at ")[1].split("/ ")[0]
        status, _, body = get(url + "/api/sims")
        assert status == 200 and json.loads(body)[0]["name"] == "walk"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_serve_refuses_bad_arguments(tmp_path):
    result = runner.invoke(app, ["serve", "--storage", str(tmp_path / "none"), "--port", "0"])
    assert isinstance(result.exception, InputError) and "does not exist" in str(result.exception)
    result = runner.invoke(app, ["serve", "--storage", str(tmp_path), "--port", "70000"])
    assert isinstance(result.exception, InputError) and "--port must be from 0 to 65535" in str(
        result.exception
    )
