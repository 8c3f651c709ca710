"""A simple deterministic token count, for backends that report none (test doubles, local embedders)."""

from __future__ import annotations

import re

_TOKEN = re.compile(r"\w+|[^\w\s]", re.UNICODE)


def count_tokens(text: str) -> int:
    """Words and punctuation marks in ``text`` (a rough stand-in for a real tokenizer)."""
    return len(_TOKEN.findall(text))
