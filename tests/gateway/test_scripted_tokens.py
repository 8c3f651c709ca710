"""The scripted model's piece counter counts exactly what the embedded model's tokenizer counts."""

from __future__ import annotations

import asyncio
import random

from reference_data import needs

from aga.gateway import LLMRequest
from aga.gateway.backends.model_files import assembled_path, spec_for
from aga.gateway.tokens import GGUFTokenizer, SimpleCounter
from aga.testing import ScriptedBackend
from aga.testing.scripted_tokens import PieceCounter, piece_counter

GGUF = assembled_path(spec_for("default"))
needs_gguf = needs(GGUF, "the embedded model file (make setup assembles it)")  # a failure under CI

PARTS = [
    "a",
    "Bob",
    "is",
    " ",
    " is",
    " brewing",
    "coffee",
    "  ",
    "\n",
    "\n\n",
    " \n",
    "\t",
    "\r\n",
    ".",
    ",",
    "!\n",
    "'s",
    "'S",
    "don't",
    " x",
    "X",
    "1",
    "23",
    " 7",
    "é",
    " é",
    "—",
    "<|im_end|>",
    "<|im_start|>",
    "\n  \n",
    "x:",
    " -",
    "\n- ",
    "07:30",
    " (",
    ")",
    '"',
    "_",
    "ñandú",
]


def _texts(rng: random.Random, count: int) -> list[str]:
    return ["".join(rng.choice(PARTS) for _ in range(rng.randint(1, 60))) for _ in range(count)]


@needs_gguf
def test_piece_counts_add_up_to_whole_counts() -> None:
    tok = GGUFTokenizer(GGUF)
    fast = PieceCounter(tok)

    def whole(text: str) -> int:
        return len(tok._llama.tokenize(text.encode("utf-8"), add_bos=False, special=True)) if text else 0

    texts = _texts(random.Random(11), 1500)
    texts += ["Isabella Rodriguez is brewing coffee at Hobbs Cafe; she's happy.\nKlaus Mueller is reading"]
    # twice: the second pass is answered from the caches
    for _ in range(2):
        assert [fast.tokens(t) for t in texts] == [whole(t) for t in texts]


@needs_gguf
def test_prompts_and_answers_count_as_the_tokenizer_counts_them() -> None:
    tok = GGUFTokenizer(GGUF)
    fast = PieceCounter(tok)
    assert fast.name == tok.name
    rng = random.Random(5)
    systems = ["", "Rate it.\n\nOnly JSON."] + _texts(rng, 60)
    users = ["", "Name: Ada\n  Age: 3\n\nEvent: x"] + _texts(rng, 60)
    for system in systems:
        user = rng.choice(users)
        assert fast.prompt_tokens(system, user) == tok.prompt_tokens(system, user), (system, user)
    for text in users:
        assert fast.completion_tokens(text) == tok.completion_tokens(text)


@needs_gguf
def test_the_scripted_model_reports_the_tokenizers_counts() -> None:
    backend = ScriptedBackend(rules={}, counter=GGUFTokenizer(GGUF))
    request = LLMRequest(
        task="t",
        system="Rate how poignant this is for Isabella.",
        user="Event: Isabella Rodriguez is brewing coffee at 07:30\nAnswer in JSON.",
        json_schema=None,
        choices=None,
        max_tokens=8,
        temperature=0.0,
        vars={},
    )
    resp = asyncio.run(backend.complete(request))
    assert resp.prompt_tokens == backend.counter.prompt_tokens(request.system, request.user)
    assert resp.completion_tokens == backend.counter.completion_tokens(resp.text)
    assert isinstance(piece_counter(backend.counter), PieceCounter)


def test_other_counters_are_used_as_they_are() -> None:
    simple = SimpleCounter()
    assert piece_counter(simple) is simple
