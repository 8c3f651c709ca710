"""Keep API keys out of everything the user or the store can see.

Every message that leaves the gateway (exceptions, ledger rows, metrics) passes through
``scrub``: it blanks the values of the known key variables and anything shaped like a key or a
bearer token.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable

KEY_VARIABLES = ("OPENAI_API_KEY", "GOOGLE_API_KEY", "GEMINI_API_KEY")

_PATTERNS = (
    re.compile(r"sk-[A-Za-z0-9_\-]{6,}"),
    re.compile(r"AIza[0-9A-Za-z_\-]{10,}"),
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._\-]{6,}"),
    re.compile(r"(?i)((?:api[_-]?key|key|token)\s*[=:]\s*['\"]?)[A-Za-z0-9._\-]{6,}"),
)
MASK = "***"


def scrub(text: str, extra: Iterable[str | None] = ()) -> str:
    """``text`` with every known secret replaced by ``***``.

    Args:
        text: any message.
        extra: further secret values to blank (e.g. the key a backend was built with).
    """
    secrets = [os.environ.get(v) for v in KEY_VARIABLES]
    for secret in [*secrets, *extra]:
        if secret and len(secret) >= 4:
            text = text.replace(secret, MASK)
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: (m.group(1) if m.groups() else "") + MASK, text)
    return text
