"""HashEmbedder: a test double for embeddings. Fast, deterministic, no model files.

Each text becomes a bag of hashed lower-cased word unigrams and bigrams in 256 dimensions,
L2-normalised, so texts sharing words are similar and unrelated texts are nearly orthogonal.
It is selected with ``--llm scripted`` or ``--embed hash``; never a default for real runs.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

_WORD = re.compile(r"[a-z0-9']+")


@lru_cache(maxsize=200_000)
def _slot(token: str, dim: int) -> tuple[int, float]:
    """(dimension, sign) of one token, from blake2b (stable across processes)."""
    digest = hashlib.blake2b(token.encode("utf-8"), digest_size=8).digest()
    value = int.from_bytes(digest, "big")
    return value % dim, (1.0 if (value >> 63) & 1 else -1.0)


class HashEmbedder:
    """Test double: hashed bag-of-words embeddings (model ``hash-embedder-v1``).

    Args:
        dim: vector size (256 by default).
    """

    name = "hash"
    in_process = True
    """Embeds inside this process, without network libraries (see ``Gateway.in_process``)."""

    def __init__(self, dim: int = 256) -> None:
        self.dim = dim
        self.model = "hash-embedder-v1" if dim == 256 else f"hash-embedder-v1-{dim}"
        self.calls = 0

    def tokens(self, text: str) -> list[str]:
        """The unigrams and bigrams of ``text`` that are hashed."""
        words = _WORD.findall(text.lower())
        if not words:
            return ["<blank>"]
        return words + [f"{a} {b}" for a, b in itertools.pairwise(words)]

    def embed_sync(self, texts: Sequence[str]) -> np.ndarray:
        """``(n, dim)`` float32 unit rows."""
        rows: list[int] = []
        cols: list[int] = []
        signs: list[float] = []
        for i, text in enumerate(texts):
            for token in self.tokens(text):
                col, sign = _slot(token, self.dim)
                rows.append(i)
                cols.append(col)
                signs.append(sign)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        np.add.at(
            out,
            (np.asarray(rows, dtype=np.intp), np.asarray(cols, dtype=np.intp)),
            np.asarray(signs, dtype=np.float32),
        )
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        empty = norms[:, 0] == 0
        if empty.any():  # signs cancelled out: fall back to a fixed unit direction
            out[empty, 0] = 1.0
            norms[empty] = 1.0
        return out / norms

    async def embed(self, texts: Sequence[str]) -> np.ndarray:
        """``(n, dim)`` float32 unit rows."""
        self.calls += 1
        return self.embed_sync(texts)
