"""ScriptedBackend: a test double for the language model. Deterministic, instant, always valid.

Answers are seeded by the sha256 of the prompt, so the same request always gets the same answer
and a resumed run gets exactly what an uninterrupted one got. The double sees what a real model
sees: the rendered prompt, the options and the schema, plus the task's one declared hint
(``LLMRequest.hint``) when it has one; its rules get the request with ``vars`` emptied.
:func:`seen` splits the rendered prompt back into the parts the template filled (matching the
template's own literal text), so a rule reads "the activity line" as a model would. Choice
tasks pick the option that shares the most words with the input text; schema tasks use the
task's rule from ``aga.testing.scripted_rules`` when there is one, else a generic instance built
from the JSON schema. Tests can inject failures (exceptions or malformed answers) call by call;
a test's own ``handler`` gets the full request (its probes may look at the inputs).
Selected with ``--llm scripted``; never a default for real runs.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib
import json
import random
import re
import string
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from aga.gateway.tokens import TokenCounter, default_counter
from aga.gateway.types import LLMRequest, LLMResponse
from aga.testing.scripted_tokens import piece_counter

Rule = Callable[[LLMRequest, random.Random], "dict[str, Any] | str"]
Fault = BaseException | str | None

_WORD = re.compile(r"[a-z0-9']+")
OPTIONS_MARK = "\n\nOptions:\n"
REPAIR_MARK = "\n\nYour previous answer could not be used:"
FORMAT_MARK = "\n\nAnswer with one JSON object"
PROMPTS_DIR = Path(__file__).resolve().parent.parent / "prompts"


def request_rng(request: LLMRequest, seed: int = 0) -> random.Random:
    """A generator seeded by sha256 of the task, the prompt and the options (and the run's seed,
    when not 0: another seed, other draws, as the embedded model samples)."""
    parts = [request.task, request.system, request.user, "\x1e".join(request.choices or ())]
    blob = "\x1f".join([*parts, str(seed)] if seed else parts)
    return random.Random(int.from_bytes(hashlib.sha256(blob.encode("utf-8")).digest()[:8], "big"))


def load_rules() -> Mapping[str, Rule]:
    """The per-task rules of ``aga.testing.scripted_rules``, or none when that module is absent."""
    try:
        module = importlib.import_module("aga.testing.scripted_rules")
    except ModuleNotFoundError as err:
        if err.name != "aga.testing.scripted_rules":
            raise
        return {}
    return dict(getattr(module, "RULES", {}))


class ScriptedBackend:
    """Test double of a language model backend (name and model ``"scripted"``).

    Args:
        rules: per-task rules; defaults to ``aga.testing.scripted_rules.RULES`` when it exists.
        handler: if given, answers every request (``(request, rng) -> dict | str``), for tests.
        faults: failure injection, consumed one per call: an exception is raised, a string is
            returned as the raw answer, ``None`` means answer normally.
        delay: seconds each call takes (to exercise concurrency).
        model: the model name reported.
        counter: what counts the tokens reported; default: the embedded default model's real
            tokenizer when its file is assembled, else the simple word counter
            (:func:`aga.gateway.tokens.default_counter`). ``counter.name`` records which.
        seed: mixed into every answer's draws (a simulation passes its base's seed); 0 leaves
            the answers a function of the request alone.
    """

    name = "scripted"
    in_process = True
    """Answers inside this process, without network libraries (see ``Gateway.in_process``)."""

    def __init__(
        self,
        *,
        rules: Mapping[str, Rule] | None = None,
        handler: Rule | None = None,
        faults: Iterable[Fault] = (),
        delay: float = 0.0,
        model: str = "scripted",
        counter: TokenCounter | None = None,
        seed: int = 0,
    ) -> None:
        self.model = model
        self.seed = seed
        self._counter = counter
        self.handler = handler
        self.delay = delay
        self.calls: list[LLMRequest] = []
        self.in_flight = 0
        self.max_in_flight_seen = 0
        self._rules = rules
        self._faults: deque[Fault] = deque(faults)

    @property
    def counter(self) -> TokenCounter:
        """The token counter in use (chosen on first use)."""
        if self._counter is None:
            self._counter = default_counter()
        return self._counter

    @property
    def rules(self) -> Mapping[str, Rule]:
        """The rules in use (loaded on first use)."""
        if self._rules is None:
            self._rules = load_rules()
        return self._rules

    def inject(self, *faults: Fault) -> None:
        """Queue failures for the next calls (see ``faults``)."""
        self._faults.extend(faults)

    async def complete(self, request: LLMRequest) -> LLMResponse:
        """Answer ``request`` (or play the next injected fault)."""
        self.calls.append(request)
        self.in_flight += 1
        self.max_in_flight_seen = max(self.max_in_flight_seen, self.in_flight)
        try:
            if self.delay:
                await asyncio.sleep(self.delay)
            fault = self._faults.popleft() if self._faults else None
            if isinstance(fault, BaseException):
                raise fault
            text = fault if isinstance(fault, str) else self.answer(request)
        finally:
            self.in_flight -= 1
        counter = piece_counter(self.counter)  # the same counts, from cached pieces
        return LLMResponse(
            text,
            counter.prompt_tokens(request.system, request.user),
            counter.completion_tokens(text),
            self.model,
        )

    def answer(self, request: LLMRequest, *, lenient_rules: bool = False) -> str:
        """The deterministic answer text for ``request``.

        Args:
            request: the request.
            lenient_rules: a rule that fails (e.g. it needs ``vars`` a remote request lacks)
                falls back to the generic answer instead of raising.
        """
        rng = request_rng(request, self.seed)
        out: dict[str, Any] | str | None = None
        rule = self.handler or self.rules.get(request.task)
        if rule is not None:
            try:
                # a project rule sees what a model sees; a test's own handler may probe the inputs
                out = rule(request if self.handler else replace(request, vars={}), rng)
            except (KeyError, IndexError, TypeError, ValueError, AttributeError):
                if not lenient_rules:
                    raise
                rng = request_rng(request, self.seed)
        if out is None:
            if request.choices:
                out = {"choice": pick_option(request, rng)}
            elif request.json_schema:
                out = instance_of(request.json_schema, rng, input_words(request))
            else:
                out = "ok"
        if isinstance(out, str):
            return json.dumps({"choice": out}) if request.choices and out in request.choices else out
        return json.dumps(out, ensure_ascii=False)


def input_words(request: LLMRequest) -> list[str]:
    """The words of the request's input (without an appended options list)."""
    return _WORD.findall(request.user.split(OPTIONS_MARK)[0].lower())


def pick_option(request: LLMRequest, rng: random.Random) -> str:
    """The option sharing the most words with the input text; ties by ``rng``."""
    options = list(request.choices or ())
    wanted = set(input_words(request))
    scores = [len(wanted & set(_WORD.findall(o.lower()))) for o in options]
    best = max(scores)
    return rng.choice([o for o, s in zip(options, scores) if s == best])


def seen(request: LLMRequest) -> dict[str, str]:
    """The rendered text of each placeholder of the request's template, read back from the prompt.

    The prompt is matched against the task's template (``src/aga/prompts/<task>.txt``): its
    literal text must appear as is, each placeholder takes what stands in its place. The options
    list, a repair note and the answer-format line the gateway adds are cut off first. Empty when
    the task has no bundled template or the prompt does not fit it.
    """
    return dict(_seen(request.task, request.system, request.user))


@lru_cache(maxsize=64)
def _seen(task: str, system: str, user: str) -> tuple[tuple[str, str], ...]:
    template = _template(task)
    if template is None:
        return ()
    at = system.rfind(FORMAT_MARK)
    system = system[:at] if at >= 0 else ("" if system.startswith(FORMAT_MARK.strip()) else system)
    user = user.split(REPAIR_MARK)[0].split(OPTIONS_MARK)[0]
    out: dict[str, str] = {}
    for pattern, text in zip(template, (system, user)):
        if pattern is None:
            continue
        m = pattern.match(text)
        if m:
            out.update({k: v.strip() for k, v in m.groupdict().items() if v is not None})
    return tuple(out.items())


@lru_cache(maxsize=128)
def _template(task: str) -> tuple[re.Pattern[str] | None, re.Pattern[str] | None] | None:
    path = PROMPTS_DIR / f"{task}.txt"
    if not re.fullmatch(r"[A-Za-z0-9_]+", task) or not path.is_file():
        return None
    lines = path.read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines):
        if line.strip() == "---":
            parts = ("\n".join(lines[:i]), "\n".join(lines[i + 1 :]))
            break
    else:
        parts = ("", "\n".join(lines))
    return tuple(_pattern(p) if p.strip() else None for p in parts)  # type: ignore[return-value]


def _pattern(text: str) -> re.Pattern[str]:
    """A regex of a template: literal text as is (line breaks kept, other spaces free), each
    placeholder a lazy group (a repeated one must repeat its text)."""
    parts: list[str] = []
    named: set[str] = set()
    pos = 0
    for m in string.Template.pattern.finditer(text):
        parts.append(_literal(text[pos : m.start()]))
        name = m.group("named") or m.group("braced")
        if m.group("escaped") is not None:
            parts.append(re.escape("$"))
        elif name:
            parts.append(f"(?P={name})" if name in named else f"(?P<{name}>.*?)")
            named.add(name)
        else:
            parts.append(re.escape(m.group()))
        pos = m.end()
    parts.append(_literal(text[pos:]))
    return re.compile(r"\s*" + "".join(parts) + r"\s*\Z", re.DOTALL)


def _literal(text: str) -> str:
    """Literal template text as a regex: a line break must stay one, other spaces may vary."""
    out = []
    for piece in re.split(r"(\s+)", text):
        if not piece:
            continue
        if piece.isspace():
            out.append(r"[ \t]*\n\s*" if "\n" in piece else r"[ \t]*")
        else:
            out.append(re.escape(piece))
    return "".join(out)


def instance_of(schema: Mapping[str, Any], rng: random.Random, words: list[str]) -> Any:
    """A value valid for ``schema`` (a JSON schema), with strings made of ``words``."""
    return _value(schema, schema, rng, words or ["something"], 0)


def _value(
    node: Mapping[str, Any], root: Mapping[str, Any], rng: random.Random, words: list[str], depth: int
) -> Any:
    if "$ref" in node:
        node = _resolve(node["$ref"], root)
    if "const" in node:
        return node["const"]
    if "enum" in node:
        return rng.choice(list(node["enum"]))
    for key in ("anyOf", "oneOf"):
        if key in node:
            options = [o for o in node[key] if o.get("type") != "null"] or list(node[key])
            return _value(options[0], root, rng, words, depth + 1)
    if node.get("allOf"):
        return _value(node["allOf"][0], root, rng, words, depth + 1)
    kind = node.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object" or "properties" in node:
        props = node.get("properties", {})
        return {k: _value(v, root, rng, words, depth + 1) for k, v in props.items()}
    if kind == "array":
        low = int(node.get("minItems", 1))
        high = max(low, min(int(node.get("maxItems", 3)), 3))
        if depth > 4:
            high = low
        return [
            _value(node.get("items", {}), root, rng, words, depth + 1) for _ in range(rng.randint(low, high))
        ]
    if kind == "integer":
        lo, hi = _bounds(node, 1, 10)
        return rng.randint(int(lo), int(hi))
    if kind == "number":
        lo, hi = _bounds(node, 0.0, 1.0)
        return round(rng.uniform(lo, hi), 3)
    if kind == "boolean":
        return rng.random() < 0.5
    if kind == "null":
        return None
    return _phrase(node, rng, words)


def _bounds(node: Mapping[str, Any], low: float, high: float) -> tuple[float, float]:
    lo = node.get("minimum")
    if lo is None and "exclusiveMinimum" in node:
        lo = node["exclusiveMinimum"] + 1
    hi = node.get("maximum")
    if hi is None and "exclusiveMaximum" in node:
        hi = node["exclusiveMaximum"] - 1
    lo = low if lo is None else lo
    hi = max(lo, high) if hi is None else hi
    return lo, max(lo, hi)


def _phrase(node: Mapping[str, Any], rng: random.Random, words: list[str]) -> str:
    count = rng.randint(2, 4)
    text = " ".join(rng.choice(words) for _ in range(count))
    low = int(node.get("minLength", 0))
    if len(text) < low:
        text = (text + " ") * (low // max(1, len(text)) + 1)
    high = node.get("maxLength")
    return text[: int(high)] if high is not None else text


def _resolve(ref: str, root: Mapping[str, Any]) -> Mapping[str, Any]:
    node: Any = root
    for part in ref.lstrip("#/").split("/"):
        node = node.get(part, {}) if isinstance(node, Mapping) else {}
    return node if isinstance(node, Mapping) else {}
