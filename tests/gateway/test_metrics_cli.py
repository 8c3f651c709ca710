"""`aga metrics`: tables of calls, tokens and dollars from detail_info.json, editable prices, clear errors."""

from __future__ import annotations

import pytest
import typer
from rich.console import Console
from typer.testing import CliRunner

from aga.cli import metrics as metrics_cli
from aga.errors import InputError
from aga.gateway import LedgerRow
from aga.gateway.metrics import write_metrics
from aga.gateway.prices import load_prices

app = typer.Typer()
app.command()(metrics_cli.metrics)


def _sim(tmp_path):
    rows = [
        LedgerRow(
            "daily_plan", "Isabella Rodriguez", None, "gpt-4o-mini-2024-07-18", "openai", 100_000, 50_000, 2.0
        ),
        LedgerRow("daily_plan", "Isabella Rodriguez", None, "gpt-4o-mini", "openai", 0, 0, 0.0, cached=True),
        LedgerRow(
            "event_importance",
            "Klaus Mueller",
            None,
            "gpt-4o-mini",
            "openai",
            0,
            0,
            0.5,
            ok=False,
            error="HTTP 429: slow down",
        ),
        LedgerRow("embed", None, None, "all-MiniLM-L6-v2", "embedded", 300, 0, 0.1, kind="embed"),
    ]
    write_metrics(rows, tmp_path / "sim" / "metrics")
    return tmp_path / "sim"


def _run(*args):
    result = CliRunner().invoke(app, [str(a) for a in args])
    return result


def test_tables_show_calls_tokens_and_cost(tmp_path, monkeypatch):
    monkeypatch.setattr(metrics_cli, "console", Console(width=200, force_terminal=False))
    result = _run(_sim(tmp_path))
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Per task" in out and "Per model" in out and "Failures" in out
    assert "$0.0450" in out  # 100k in at $0.15/M + 50k out at $0.60/M; the cached call is free
    assert "Total: 3 calls (1 from the cache, 1 failed, 0 defaulted), 100,300 tokens in, 50,000 out" in out
    assert "HTTP 429: slow down" in out


def test_cached_prompt_tokens_are_shown_and_priced_at_the_cached_price(tmp_path, monkeypatch):
    monkeypatch.setattr(metrics_cli, "console", Console(width=200, force_terminal=False))
    row = LedgerRow("daily_plan", "A", None, "gpt-4o-mini", "openai", 100_000, 0, 1.0, cached_tokens=80_000)
    write_metrics([row], tmp_path / "sim" / "metrics")
    out = _run(tmp_path / "sim").output
    assert "100,000 tokens in (80,000 of them from the server's prompt cache)" in out
    assert "$0.0090" in out  # 20k at $0.15/M + 80k cached at $0.075/M


def test_a_price_file_adds_models_and_unknown_models_are_flagged(tmp_path, monkeypatch):
    monkeypatch.setattr(metrics_cli, "console", Console(width=200, force_terminal=False))
    sim = _sim(tmp_path)
    prices = tmp_path / "prices.yaml"
    prices.write_text("models:\n  gpt-4o-mini: {input: 1.0, output: 2.0}\n")
    assert "$0.2000" in _run(sim, "--prices", prices).output  # 0.1 + 0.1
    prices.write_text("local_backends: []\nmodels: {}\n")
    table = load_prices(prices)
    assert table.price_for("all-MiniLM-L6-v2", "embedded").input == 0.0  # bundled local backends stay local
    assert table.price_for("some-new-model", "openai") is None


def test_unknown_model_cost_is_not_guessed(tmp_path, monkeypatch):
    monkeypatch.setattr(metrics_cli, "console", Console(width=200, force_terminal=False))
    write_metrics(
        [LedgerRow("x", model="mystery-model", backend="openai-compatible", prompt_tokens=10)],
        tmp_path / "s" / "metrics",
    )
    out = _run(tmp_path / "s").output
    assert "n/a" in out and "No price for: mystery-model" in out


def test_missing_folder_and_missing_metrics_are_clear_errors(tmp_path):
    result = _run(tmp_path / "nope")
    assert isinstance(result.exception, InputError) and "no simulation folder" in str(result.exception)
    (tmp_path / "empty").mkdir()
    result = _run(tmp_path / "empty")
    assert isinstance(result.exception, InputError) and "has no metrics yet" in str(result.exception)


def test_a_simulation_name_is_found_in_the_storage_folder(tmp_path, monkeypatch):
    _sim(tmp_path)
    monkeypatch.setenv("AGA_STORAGE", str(tmp_path))
    monkeypatch.chdir(tmp_path.parent)
    assert metrics_cli.find_detail("sim") == tmp_path / "sim" / "metrics" / "detail_info.json"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("models: [1, 2", "is not valid YAML"),
        ("models:\n  m: 3\n", "model 'm' needs"),
        ("models:\n  m: {input: cheap}\n", "not a number"),
        ("models:\n  m: {input: -1, output: 0}\n", "negative price"),
    ],
)
def test_malformed_price_files_name_file_and_entry(tmp_path, text, message):
    path = tmp_path / "p.yaml"
    path.write_text(text)
    with pytest.raises(InputError, match=message) as info:
        load_prices(path)
    assert str(path) in str(info.value)


def test_broken_detail_file_names_the_line(tmp_path):
    (tmp_path / "s" / "metrics").mkdir(parents=True)
    (tmp_path / "s" / "metrics" / "detail_info.json").write_text('[\n{"a": 1},\n{oops}\n]')
    result = _run(tmp_path / "s")
    assert isinstance(result.exception, InputError) and "detail_info.json:3: not valid JSON" in str(
        result.exception
    )
