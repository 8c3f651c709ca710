"""Exact token counts for the scripted model, counted in small cached pieces.

The scripted double reports the tokens the embedded model would count for each prompt and
answer (:class:`aga.gateway.tokens.GGUFTokenizer`: the chat template around the two parts, the
model's BPE tokenizer). Over a long run almost every prompt is new as a whole, and so are many
of its lines (times, recalled memories, names), so counting line by line still sends much of the
text through llama.cpp. :class:`PieceCounter` counts the same thing in smaller pieces, each
counted once and then looked up:

* lines, cut where the tokenizer itself would cut (after a line break followed by a visible
  character, as :meth:`GGUFTokenizer.tokens` does), looked up whole first;
* a line not seen before, cut again before each space that stands between two ASCII letters,
  after each digit and before a digit that follows a visible character (not after spaces: a run
  of spaces before a visible character is split in two). The pre-tokenizer of the Qwen2 family
  (the default model's) always ends a chunk at the end of a run of letters and starts the next
  one at the space before the following word, makes each digit a chunk of its own, and BPE
  merges never cross chunks, so
  the pieces' counts add up to the whole line's (checked against whole counts in
  tests/gateway/test_scripted_tokens.py); times and dates then cost no new pieces;
* the chat template is rendered once, with markers for the two parts, and its fixed text is put
  around each prompt by string joining instead of running the Jinja template per call.

Anything that does not fit (no chat template, a template whose text depends on the contents)
is counted by the tokenizer itself.
"""

from __future__ import annotations

import re

from aga.gateway.tokens import GGUFTokenizer, TokenCounter

__all__ = ["PieceCounter", "piece_counter"]

_LINES = re.compile(r"(?<=[\r\n])(?=\S)")
_WORDS = re.compile(r"(?<=[A-Za-z])(?= [A-Za-z])|(?<=[0-9])|(?<=\S)(?=[0-9])")
_LIMIT = 200_000
"""Entries each cache may hold; it starts afresh when full (a run's vocabulary fits easily)."""


def _template_parts(tok: GGUFTokenizer, with_system: bool) -> tuple[str, ...] | None:
    """The fixed text of the chat template around the parts, or None when it is not fixed.

    Renders the template twice with different marker contents and keeps the result only when
    both give the same text around the markers (the template does not look at the contents).
    """
    formatter = getattr(tok, "_formatter", None)
    if formatter is None:
        return None
    found: list[tuple[str, ...]] = []
    for mark in ("\x01", "\x02"):
        system, user = f"{mark}system{mark}", f"{mark}user{mark}"
        messages = ([{"role": "system", "content": system}] if with_system else []) + [
            {"role": "user", "content": user}
        ]
        text = formatter(messages=messages).prompt
        if (with_system and text.count(system) != 1) or text.count(user) != 1:
            return None
        if with_system:
            head, rest = text.split(system)
            middle, tail = rest.split(user)
            found.append((head, middle, tail))
        else:
            head, tail = text.split(user)
            found.append((head, tail))
    return found[0] if found[0] == found[1] else None


class PieceCounter:
    """A :class:`GGUFTokenizer`'s counts, exact, from cached lines and words.

    Args:
        tok: the tokenizer whose counts these are (its ``name`` is this counter's name).
    """

    def __init__(self, tok: GGUFTokenizer) -> None:
        self.tok = tok
        self.name = tok.name
        self._lines: dict[str, int] = {}
        self._words: dict[str, int] = {}
        self._eos = tok.completion_tokens("")
        self._with_system = _template_parts(tok, True)
        self._user_only = _template_parts(tok, False)

    def tokens(self, text: str) -> int:
        """Tokens of plain ``text``, as :meth:`GGUFTokenizer.tokens` counts them."""
        if not text:
            return 0
        lines = self._lines
        total = 0
        for line in _LINES.split(text):
            n = lines.get(line)
            if n is None:
                n = sum(self._word(w) for w in _WORDS.split(line) if w)
                if len(lines) >= _LIMIT:
                    lines.clear()
                lines[line] = n
            total += n
        return total

    def _word(self, piece: str) -> int:
        n = self._words.get(piece)
        if n is None:
            n = self.tok.tokens(piece)
            if len(self._words) >= _LIMIT:
                self._words.clear()
            self._words[piece] = n
        return n

    def prompt_tokens(self, system: str, user: str) -> int:
        """Tokens of the prompt with the chat template, as :meth:`GGUFTokenizer.prompt_tokens`."""
        if system and self._with_system is not None:
            head, middle, tail = self._with_system
            return self.tokens(f"{head}{system}{middle}{user}{tail}")
        if not system and self._user_only is not None:
            head, tail = self._user_only
            return self.tokens(f"{head}{user}{tail}")
        return self.tok.prompt_tokens(system, user)

    def completion_tokens(self, text: str) -> int:
        """Tokens of the answer plus the end-of-answer token."""
        return self.tokens(text) + self._eos


_MADE: dict[int, tuple[GGUFTokenizer, PieceCounter]] = {}


def piece_counter(counter: TokenCounter) -> TokenCounter:
    """The fast exact counter for ``counter``: a :class:`PieceCounter` for a GGUF tokenizer,
    ``counter`` itself for anything else (one per tokenizer, shared by the process's doubles)."""
    if not isinstance(counter, GGUFTokenizer):
        return counter
    made = _MADE.get(id(counter))
    if made is None or made[0] is not counter:
        made = (counter, PieceCounter(counter))
        _MADE[id(counter)] = made
    return made[1]
