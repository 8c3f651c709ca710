"""FakeOpenAIServer: a test double of an OpenAI-compatible HTTP endpoint, on 127.0.0.1 only.

Real HTTP (stdlib ``http.server`` in a background thread, ephemeral port), so the real ``openai``
SDK talks to it. ``/v1/chat/completions`` answers with the ScriptedBackend's logic (so answers
are valid for the request's schema or options) and ``/v1/embeddings`` with the HashEmbedder.
A fault plan makes the next requests fail in chosen ways::

    with FakeOpenAIServer() as server:
        server.fail("429", "500", "slow", "truncated", "invalid_json")
        os.environ["OPENAI_BASE_URL"] = server.url

Faults: ``429`` (with Retry-After), ``quota`` (429 insufficient_quota), ``500``, ``401`` (echoes
the key, to test scrubbing), ``404``, ``slow`` (answers after ``slow_seconds``), ``truncated``
(answer cut short, finish_reason length), ``invalid_json`` (prose instead of JSON),
``broken_body`` (the HTTP body itself is cut), ``drop`` (connection closed without an answer).
``dead_url()`` gives an address where nothing listens (connection refused).

Structured-output behaviour per form (``structured={"json_schema": "500", ...}``), as servers
differ: ``ok`` (the form is honoured), ``400`` / ``422`` / ``500`` (refused with that status and
a message naming the field), ``prose`` (ignored: the model answers in words). Forms are
``json_schema``, ``json_object`` and ``tools``; a request with none of them gets the model's
answer to the prompt alone (it reads the answer-format line, as a real model would). With
``latency`` every answer takes that long (concurrency benchmarks); ``in_flight`` and
``most_in_flight`` count the requests being served. ``prompt_cache=True`` reports the tokens of
an instructions text seen before as ``usage.prompt_tokens_details.cached_tokens``.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aga.gateway.types import LLMRequest, choice_schema
from aga.testing.hash_embedder import HashEmbedder
from aga.testing.scripted import OPTIONS_MARK, ScriptedBackend

FAULTS = ("429", "quota", "500", "401", "404", "slow", "truncated", "invalid_json", "broken_body", "drop")
FORM_BEHAVIOURS = ("ok", "400", "422", "500", "prose")
PROSE = "I would say the answer is fairly clear."
REFUSALS = {
    "json_schema": "'response_format' of type 'json_schema' is not supported by this server",
    "json_object": "response_format.schema: unknown field in 'response_format' of type 'json_object'",
    "tools": "'tools' and 'tool_choice' are not supported by this server",
}
SHAPE_MARK = "Answer with one JSON object of this shape and nothing else: "


def dead_url() -> str:
    """A loopback base URL on a port where nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


class _Server(ThreadingHTTPServer):
    """A threading HTTP server with room for many connections at once (concurrency benchmarks)."""

    request_queue_size = 128


class LoopbackServer:
    """Test double base: an HTTP server on 127.0.0.1 (ephemeral port, background thread) with a fault plan."""

    faults_known: tuple[str, ...] = ()
    handler: type[BaseHTTPRequestHandler]
    path_prefix = ""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.faults_played: list[str] = []
        self._faults: deque[str] = deque()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        """The base URL to give the client."""
        if self._server is None:
            raise RuntimeError("the fake server is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}{self.path_prefix}"

    def start(self) -> LoopbackServer:
        """Listen on an ephemeral loopback port in a background thread."""
        handler = type("Handler", (self.handler,), {"fake": self})
        self._server = _Server(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._server.block_on_close = False
        threading.Thread(
            target=self._server.serve_forever, args=(0.02,), name="fake-http", daemon=True
        ).start()
        return self

    def stop(self) -> None:
        """Stop listening."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self):  # type: ignore[no-untyped-def]  # returns the subclass instance
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def fail(self, *faults: str) -> None:
        """Make the next requests fail, one fault per request, in order."""
        for fault in faults:
            if fault not in self.faults_known:
                raise ValueError(f"unknown fault {fault!r}; known: {', '.join(self.faults_known)}")
        with self._lock:
            self._faults.extend(faults)

    def next_fault(self) -> str | None:
        """The fault for the request being served, if any (recorded in ``faults_played``)."""
        with self._lock:
            fault = self._faults.popleft() if self._faults else None
            if fault:
                self.faults_played.append(fault)
            return fault


class JsonHandler(BaseHTTPRequestHandler):
    """Request handler base: quiet, JSON in and out, tolerant of clients that hang up."""

    protocol_version = "HTTP/1.0"

    def log_message(self, format: str, *args: Any) -> None:  # quiet test double
        """Log nothing."""
        return

    def do_POST(self) -> None:
        """Read the JSON body and hand it to :meth:`post`."""
        try:
            length = int(self.headers.get("Content-Length") or 0)
            self.post(json.loads(self.rfile.read(length) or b"{}"))
        except (BrokenPipeError, ConnectionResetError):
            return  # the client gave up (timeout): nothing to answer

    def post(self, body: dict[str, Any]) -> None:
        """Answer one POST with a parsed JSON body."""
        raise NotImplementedError(f"{type(self).__name__} answers no POST")

    def drop(self) -> None:
        """Close the connection without an answer."""
        self.close_connection = True
        self.connection.shutdown(socket.SHUT_RDWR)

    def send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        """Send a JSON answer."""
        self.send_raw(status, json.dumps(payload).encode(), headers or {})

    def send_raw(self, status: int, raw: bytes, headers: dict[str, str]) -> None:
        """Send bytes labelled as JSON (possibly broken on purpose)."""
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(raw)


class FakeOpenAIServer(LoopbackServer):
    """Test double: an OpenAI-compatible server on loopback with a programmable fault plan.

    Args:
        backend: answers chat requests (a ScriptedBackend by default).
        embedder: answers embedding requests (a HashEmbedder by default).
        json_schema_support: when False, ``response_format`` json_schema is rejected with 400
            (short for ``structured={"json_schema": "400"}``).
        api_key: when set, requests must carry it as a bearer token (else 401).
        retry_after: the Retry-After header of a ``429`` fault, in seconds.
        slow_seconds: how long a ``slow`` fault takes.
        structured: behaviour per structured-output form (see the module docstring).
        latency: seconds every chat answer takes.
        prompt_cache: report the tokens of repeated instructions as cached prompt tokens.
    """

    faults_known = FAULTS
    path_prefix = "/v1"

    def __init__(
        self,
        *,
        backend: ScriptedBackend | None = None,
        embedder: HashEmbedder | None = None,
        json_schema_support: bool = True,
        api_key: str | None = None,
        retry_after: float = 0.01,
        slow_seconds: float = 1.0,
        structured: dict[str, str] | None = None,
        latency: float = 0.0,
        prompt_cache: bool = False,
    ) -> None:
        super().__init__()
        self.backend = backend or ScriptedBackend()
        self.embedder = embedder or HashEmbedder()
        self.structured = {"json_schema": "ok", "json_object": "ok", "tools": "ok"}
        if not json_schema_support:
            self.structured["json_schema"] = "400"
        for form, behaviour in (structured or {}).items():
            if form not in self.structured or behaviour not in FORM_BEHAVIOURS:
                raise ValueError(
                    f"structured {form}={behaviour!r}: forms {', '.join(self.structured)}, "
                    f"behaviours {', '.join(FORM_BEHAVIOURS)}"
                )
            self.structured[form] = behaviour
        self.api_key = api_key
        self.retry_after = retry_after
        self.slow_seconds = slow_seconds
        self.latency = latency
        self.prompt_cache = prompt_cache
        self.in_flight = 0
        self.most_in_flight = 0
        self._seen_systems: set[str] = set()

    def form_of(self, body: dict[str, Any]) -> str:
        """The structured-output form a chat request body asks for (``prompt``: none)."""
        if body.get("tools"):
            return "tools"
        kind = (body.get("response_format") or {}).get("type")
        return kind if kind in ("json_schema", "json_object") else "prompt"

    # ------------------------------------------------------------------ answers

    def chat(self, body: dict[str, Any]) -> tuple[dict[str, Any], str]:
        """The completion for a chat request body, and the answer text."""
        system = "\n".join(
            m.get("content", "") for m in body.get("messages", []) if m.get("role") == "system"
        )
        user = "\n".join(m.get("content", "") for m in body.get("messages", []) if m.get("role") == "user")
        fmt = body.get("response_format") or {}
        form = self.form_of(body)
        behaviour = self.structured.get(form, "ok")
        schema, task = None, "chat"
        if behaviour == "prose":
            schema = None
        elif form == "json_schema":
            schema = fmt.get("json_schema", {}).get("schema")
            task = fmt.get("json_schema", {}).get("name", "chat")
        elif form == "json_object":
            schema = fmt.get("schema") or json_mode_schema(system, user)
        elif form == "tools":
            function = body["tools"][0].get("function", {})
            schema, task = function.get("parameters"), function.get("name", "chat")
        else:  # no format asked: the model follows the answer-format line of the instructions
            schema = json_mode_schema(system, user)
        choices = _choices_of(schema)
        max_tokens = int(body.get("max_tokens") or body.get("max_completion_tokens") or 256)
        request = LLMRequest(
            task, system, user, schema, choices, max_tokens, float(body.get("temperature") or 0), {}
        )
        text = PROSE if behaviour == "prose" else self.backend.answer(request, lenient_rules=True)
        prompt_tokens = _count(system) + _count(user)
        with self._lock:
            cached = _count(system) if self.prompt_cache and system in self._seen_systems else 0
            self._seen_systems.add(system)
        message: dict[str, Any] = {"role": "assistant", "content": text}
        if form == "tools" and behaviour == "ok":
            message = {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": f"call-{len(self.requests)}",
                        "type": "function",
                        "function": {"name": task, "arguments": text},
                    }
                ],
            }
        completion = {
            "id": f"chatcmpl-fake-{len(self.requests)}",
            "object": "chat.completion",
            "created": 0,
            "model": body.get("model", "fake"),
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": _count(text),
                "total_tokens": prompt_tokens + _count(text),
                "prompt_tokens_details": {"cached_tokens": cached},
            },
        }
        return completion, text

    def embeddings(self, body: dict[str, Any]) -> dict[str, Any]:
        """The answer to an embeddings request body."""
        texts = body.get("input", [])
        texts = [texts] if isinstance(texts, str) else list(texts)
        vectors = self.embedder.embed_sync(texts)
        tokens = sum(_count(t) for t in texts)
        return {
            "object": "list",
            "model": body.get("model", "fake-embed"),
            "data": [
                {"object": "embedding", "index": i, "embedding": v.tolist()} for i, v in enumerate(vectors)
            ],
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }


def _count(text: str) -> int:
    return len(re.findall(r"\w+|[^\w\s]", text))


def _choices_of(schema: dict[str, Any] | None) -> tuple[str, ...] | None:
    if not schema:
        return None
    props = schema.get("properties", {})
    if list(props) == ["choice"] and "enum" in props["choice"]:
        return tuple(props["choice"]["enum"])
    return None


class _OpenAIHandler(JsonHandler):
    fake: FakeOpenAIServer

    def post(self, body: dict[str, Any]) -> None:
        fake = self.fake
        fake.requests.append({"path": self.path, "body": body, "auth": self.headers.get("Authorization")})
        if fake.api_key and self.headers.get("Authorization") != f"Bearer {fake.api_key}":
            return self._error(401, "invalid API key", "invalid_api_key")
        fault = fake.next_fault()
        if fault == "drop":
            return self.drop()
        if fault == "429":
            return self._error(
                429,
                "Rate limit reached for requests (test double)",
                "rate_limit_exceeded",
                {"Retry-After": f"{fake.retry_after:g}"},
            )
        if fault == "quota":
            return self._error(429, "You exceeded your current quota (test double)", "insufficient_quota")
        if fault == "500":
            return self._error(
                500, "The server had an error while processing your request (test double)", None
            )
        if fault == "401":
            key = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
            return self._error(401, f"Incorrect API key provided: {key}", "invalid_api_key")
        if fault == "404":
            return self._error(404, f"The model '{body.get('model')}' does not exist", "model_not_found")
        if fault == "slow":
            time.sleep(fake.slow_seconds)
        if self.path.rstrip("/").endswith("/embeddings"):
            return self.send_json(200, fake.embeddings(body))
        if not self.path.rstrip("/").endswith("/chat/completions"):
            return self._error(404, f"unknown path {self.path}", None)
        form = fake.form_of(body)
        behaviour = fake.structured.get(form, "ok")
        if behaviour in ("400", "422", "500"):
            return self._error(int(behaviour), REFUSALS[form], None)
        with fake._lock:
            fake.in_flight += 1
            fake.most_in_flight = max(fake.most_in_flight, fake.in_flight)
        try:
            if fake.latency:
                time.sleep(fake.latency)
            completion, text = fake.chat(body)
        finally:
            with fake._lock:
                fake.in_flight -= 1
        if fault == "truncated":
            completion["choices"][0]["message"]["content"] = text[: max(1, len(text) // 2)]
            completion["choices"][0]["finish_reason"] = "length"
        elif fault == "invalid_json":
            completion["choices"][0]["message"] = {"role": "assistant", "content": PROSE}
        if fault == "broken_body":
            raw = json.dumps(completion).encode()
            return self.send_raw(200, raw[: len(raw) // 2], {})
        return self.send_json(200, completion)

    def _error(
        self, status: int, message: str, code: str | None, headers: dict[str, str] | None = None
    ) -> None:
        error = {"message": message, "type": "test_double_error", "param": None, "code": code}
        self.send_json(status, {"error": error}, headers)


FakeOpenAIServer.handler = _OpenAIHandler


# ---------------------------------------------------------------------- JSON mode without a schema


def json_mode_schema(system: str, user: str) -> dict[str, Any] | None:
    """The schema a JSON-mode request implies: the options listed in the input, or the shape line."""
    if OPTIONS_MARK in user:
        options = [line[2:] for line in user.rsplit(OPTIONS_MARK, 1)[1].splitlines() if line.startswith("- ")]
        if options:
            return choice_schema(options)
    return schema_from_shape(system)


def schema_from_shape(system: str) -> dict[str, Any] | None:
    """A JSON schema read back from the gateway's answer-format line (used in JSON mode)."""
    at = system.rfind(SHAPE_MARK)
    if at < 0:
        return None
    parser = _ShapeParser(system[at + len(SHAPE_MARK) :].strip())
    try:
        return parser.value()
    except (ValueError, IndexError):
        return None


class _ShapeParser:
    """Reads ``{"a": 1|2, "b": "<text>", "c": [{"d": <integer>}, ...]}`` into a JSON schema."""

    _TOKEN = re.compile(
        r'\s*("(?:[^"\\]|\\.)*"|<integer>|<number>|\.\.\.|-?\d+(?:\.\d+)?|true|false|null|[{}\[\]:,|])'
    )

    def __init__(self, text: str) -> None:
        self.tokens = self._TOKEN.findall(text)
        self.i = 0

    def _peek(self) -> str:
        return self.tokens[self.i]

    def _take(self, expected: str | None = None) -> str:
        token = self.tokens[self.i]
        if expected is not None and token != expected:
            raise ValueError(f"expected {expected}, got {token}")
        self.i += 1
        return token

    def value(self) -> dict[str, Any]:
        token = self._peek()
        if token == "{":
            self._take("{")
            props: dict[str, Any] = {}
            while self._peek() != "}":
                key = json.loads(self._take())
                self._take(":")
                props[key] = self.value()
                if self._peek() == ",":
                    self._take(",")
            self._take("}")
            return {"type": "object", "properties": props, "required": list(props)}
        if token == "[":
            self._take("[")
            items = self.value()
            while self._peek() != "]":
                self._take()
            self._take("]")
            return {"type": "array", "items": items, "minItems": 1}
        alternatives = [self._take()]
        while self.i < len(self.tokens) and self._peek() == "|":
            self._take("|")
            alternatives.append(self._take())
        if alternatives == ["<integer>"]:
            return {"type": "integer"}
        if alternatives == ["<number>"]:
            return {"type": "number"}
        if alternatives == ['"<text>"']:
            return {"type": "string"}
        if alternatives == ["true", "false"]:
            return {"type": "boolean"}
        return {"enum": [json.loads(a) for a in alternatives]}
