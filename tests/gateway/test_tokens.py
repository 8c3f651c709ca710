"""Token counters: the simple fallback, the real GGUF tokenizer, and which one the scripted model uses."""

from __future__ import annotations

import asyncio

from reference_data import needs

from aga.gateway import LLMRequest
from aga.gateway.backends.model_files import assembled_path, spec_for
from aga.gateway.tokens import GGUFTokenizer, SimpleCounter, default_counter
from aga.testing import ScriptedBackend

GGUF = assembled_path(spec_for("default"))
needs_gguf = needs(GGUF, "the embedded model file (make setup assembles it)")  # a failure under CI


def _req(system: str = "Rate it.", user: str = "Isabella is brewing coffee") -> LLMRequest:
    return LLMRequest(
        task="t",
        system=system,
        user=user,
        json_schema=None,
        choices=None,
        max_tokens=8,
        temperature=0.0,
        vars={},
    )


def test_simple_counter_counts_words_and_marks():
    c = SimpleCounter()
    assert c.prompt_tokens("Rate it.", "a, b") == 3 + 3
    assert c.completion_tokens('{"rating": 3}') == 7
    assert "simple" in c.name


@needs_gguf
def test_gguf_tokenizer_counts_like_the_embedded_model():
    tok = GGUFTokenizer(GGUF)
    assert "Qwen2.5" in tok.name and GGUF.name in tok.name
    # BPE merges common words: fewer tokens than characters, more than zero
    assert (
        0
        < tok.tokens("Isabella is brewing coffee at Hobbs Cafe")
        < len("Isabella is brewing coffee at Hobbs Cafe")
    )
    # the chat template adds its role markers around the two parts
    bare = tok.tokens("Rate it.") + tok.tokens("Isabella is brewing coffee")
    assert tok.prompt_tokens("Rate it.", "Isabella is brewing coffee") > bare
    # an answer counts its end-of-answer token
    assert tok.completion_tokens('{"rating": 3}') == tok.tokens('{"rating": 3}') + 1


@needs_gguf
def test_scripted_model_reports_real_tokens_when_the_model_file_is_there():
    backend = ScriptedBackend(rules={})
    assert backend.counter is default_counter() and isinstance(backend.counter, GGUFTokenizer)
    resp = asyncio.run(backend.complete(_req()))
    assert resp.prompt_tokens == backend.counter.prompt_tokens("Rate it.", "Isabella is brewing coffee")
    assert resp.completion_tokens == backend.counter.completion_tokens(resp.text)


def test_scripted_model_with_an_explicit_counter_uses_it():
    backend = ScriptedBackend(rules={}, counter=SimpleCounter())
    resp = asyncio.run(backend.complete(_req()))
    assert (resp.prompt_tokens, resp.completion_tokens) == (3 + 4, 1)


@needs_gguf
def test_gguf_tokenizer_counts_by_pieces_exactly_as_the_whole_text():
    import random

    tok = GGUFTokenizer(GGUF)

    def whole(text: str) -> int:
        return len(tok._llama.tokenize(text.encode("utf-8"), add_bos=False, special=True)) if text else 0

    rng = random.Random(7)
    parts = [
        "a",
        "Bob",
        " ",
        "  ",
        "\n",
        "\n\n",
        " \n",
        "\t",
        "\r\n",
        ".",
        "!\n",
        "'s",
        "1",
        "23",
        "é",
        "—",
        "<|im_end|>",
        "\n  \n",
        "x:",
        " -",
        "\n- ",
    ]
    texts = ["".join(rng.choice(parts) for _ in range(rng.randint(1, 40))) for _ in range(800)]
    texts.append(
        tok._formatter(
            messages=[
                {"role": "system", "content": "Rate it.\n\nOnly JSON."},
                {"role": "user", "content": "Name: Ada\n  Age: 3\n\nEvent: x"},
            ]
        ).prompt
    )
    assert [tok.tokens(t) for t in texts] == [whole(t) for t in texts]
