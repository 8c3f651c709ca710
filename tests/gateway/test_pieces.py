"""Small pieces: retry delays, key scrubbing, ledger rows."""

from __future__ import annotations

import random
from datetime import datetime

from aga.gateway import Ledger, LedgerRow, RetryPolicy
from aga.gateway.secrets import scrub


def test_backoff_doubles_with_bounded_jitter_and_honours_retry_after():
    policy = RetryPolicy(base_delay=1.0, max_delay=10.0, jitter=0.25)
    rng = random.Random(1)
    waits = [policy.delay(n, None, rng) for n in range(1, 7)]
    for n, wait in enumerate(waits, start=1):
        base = min(10.0, 2 ** (n - 1))
        assert 0.75 * base <= wait <= 1.25 * base
    assert policy.delay(3, 42.0, rng) == 42.0


def test_scrub_blanks_env_keys_and_key_shaped_text(monkeypatch):
    monkeypatch.setenv("GOOGLE_API_KEY", "plainsecretvalue")
    text = scrub(
        "key plainsecretvalue; sk-abcdef123456 AIzaSyA1234567890abcdef Bearer tok.en-123456 api_key=zzzzzzzz"
    )
    for secret in (
        "plainsecretvalue",
        "sk-abcdef123456",
        "AIzaSyA1234567890abcdef",
        "tok.en-123456",
        "zzzzzzzz",
    ):
        assert secret not in text
    assert scrub("nothing secret here") == "nothing secret here"
    assert "mine" not in scrub("the key is mine!", extra=["mine"])


def test_ledger_rows_round_trip_and_drain():
    row = LedgerRow("rate_event", "Klaus Mueller", datetime(2023, 2, 13, 9, 0), "m", "openai", 10, 5, 0.25)
    data = row.to_dict()
    assert data["game_time"] == "2023-02-13T09:00:00" and data["kind"] == "llm"
    assert LedgerRow.from_dict(data) == row
    assert LedgerRow.from_dict({"task": "x", "unknown": 1}).task == "x"
    ledger = Ledger()
    ledger.extend([row, LedgerRow("embed", cached=True, kind="embed")])
    assert ledger.total_calls == 1 and ledger.total_prompt_tokens == 10
    assert len(ledger.pending()) == 2 and ledger.drain() == [
        row,
        LedgerRow("embed", cached=True, kind="embed"),
    ]
    assert ledger.drain() == []
