"""Token counting for backends that report none (test doubles, local embedders) and for benchmarks.

Two counters share one small interface (:class:`TokenCounter`):

* :class:`SimpleCounter`: words and punctuation marks; no dependency, a rough stand-in.
* :class:`GGUFTokenizer`: the real tokenizer of a GGUF chat model, read with llama.cpp
  (``Llama(path, vocab_only=True)``: the vocabulary only, about 0.3 s to load, no weights).
  Prompts are counted the way the embedded backend sends them (the model's chat template around
  the system and user parts), answers with their end-of-answer token, so the counts of a scripted
  run are those the embedded model would report for the same prompts and answers.

:func:`default_counter` picks the embedded default model's tokenizer when its assembled file is
in the cache and llama-cpp-python is installed, else the simple counter; ``counter.name`` says
which one counted.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

__all__ = ["GGUFTokenizer", "SimpleCounter", "TokenCounter", "count_tokens", "default_counter"]

_TOKEN = re.compile(r"\w+|[^\w\s]", re.UNICODE)
_CUTS = re.compile(r"(?<=[\r\n])(?=\S)")


def count_tokens(text: str) -> int:
    """Words and punctuation marks in ``text`` (a rough stand-in for a real tokenizer)."""
    return len(_TOKEN.findall(text))


class TokenCounter(Protocol):
    """Counts the tokens of a request's prompt and of an answer."""

    name: str
    """What counted, for reports (e.g. ``"simple word/punctuation counter"``)."""

    def prompt_tokens(self, system: str, user: str) -> int:
        """Tokens of a prompt made of a static ``system`` part and a ``user`` part."""
        ...

    def completion_tokens(self, text: str) -> int:
        """Tokens of an answer."""
        ...


class SimpleCounter:
    """Words and punctuation marks: the fallback when no real tokenizer is at hand."""

    name = "simple word/punctuation counter"

    def prompt_tokens(self, system: str, user: str) -> int:
        """Words and marks of both parts."""
        return count_tokens(system) + count_tokens(user)

    def completion_tokens(self, text: str) -> int:
        """Words and marks of the answer."""
        return count_tokens(text)


class GGUFTokenizer:
    """The tokenizer (and chat template) of a GGUF model file, through llama.cpp.

    Args:
        path: the GGUF file. Only its vocabulary and metadata are read.

    Raises:
        ValueError: llama.cpp cannot read the file.
        ImportError: llama-cpp-python is not installed.
    """

    def __init__(self, path: str | Path) -> None:
        from llama_cpp import Llama

        self.path = Path(path)
        self._lock = threading.Lock()  # llama.cpp's tokenizer is not documented as thread-safe
        with _quiet_stderr():  # llama.cpp prints a context-size note even when not verbose
            self._llama = Llama(model_path=str(self.path), vocab_only=True, verbose=False)
        meta = self._llama.metadata
        label = meta.get("general.name") or self.path.stem
        self.name = f"{label} tokenizer ({self.path.name}, llama.cpp)"
        self._eos_count = 1 if self._llama.token_eos() != -1 else 0
        self._formatter: Any = None
        template = meta.get("tokenizer.chat_template")
        if template:
            from llama_cpp.llama_chat_format import Jinja2ChatFormatter

            vocab = self._llama._model
            eos, bos = self._llama.token_eos(), self._llama.token_bos()
            self._formatter = Jinja2ChatFormatter(
                template=template,
                eos_token=vocab.token_get_text(eos) if eos != -1 else "",
                bos_token=vocab.token_get_text(bos) if bos != -1 else "",
            )

    def tokens(self, text: str) -> int:
        """Tokens of plain ``text`` (special tokens written in it count as one).

        The text is cut after each line break followed by a visible character and the pieces are
        counted separately (each piece's count is cached): the pre-tokenizers of the BPE models
        end a chunk of white space at its last line break, so the sum is the count of the whole
        text (checked against whole counts in tests/gateway/test_tokens.py), and prompts,
        which repeat most of their lines from call to call, cost a fraction of a full count.
        """
        if not text:
            return 0
        return sum(self._piece(piece) for piece in _CUTS.split(text))

    @functools.lru_cache(maxsize=65536)  # noqa: B019 - one tokenizer per process (default_counter)
    def _piece(self, piece: str) -> int:
        with self._lock:
            return len(self._llama.tokenize(piece.encode("utf-8"), add_bos=False, special=True))

    def prompt_tokens(self, system: str, user: str) -> int:
        """Tokens of the prompt as the embedded backend builds it (chat template applied)."""
        if self._formatter is None:
            return self.tokens(system) + self.tokens(user)
        messages = ([{"role": "system", "content": system}] if system else []) + [
            {"role": "user", "content": user}
        ]
        return self.tokens(self._formatter(messages=messages).prompt)

    def completion_tokens(self, text: str) -> int:
        """Tokens of the answer plus the end-of-answer token (as llama.cpp reports them)."""
        return self.tokens(text) + self._eos_count


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Silence file descriptor 2 (C code's stderr) for the duration of the block."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as sink:
            os.dup2(sink.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


@functools.lru_cache(maxsize=1)
def default_counter() -> TokenCounter:
    """The embedded default model's tokenizer when its file is assembled, else :class:`SimpleCounter`.

    Never assembles or downloads anything; loaded once per process.
    """
    try:
        from aga.gateway.backends.model_files import assembled_path, spec_for

        path = assembled_path(spec_for("default"))
        if path.is_file() and path.stat().st_size == spec_for("default").size:
            return GGUFTokenizer(path)
    except (ImportError, OSError, ValueError, RuntimeError):
        pass
    return SimpleCounter()
