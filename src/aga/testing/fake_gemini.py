"""FakeGeminiServer: a test double of the Gemini REST API (generateContent, batchEmbedContents).

Real HTTP on 127.0.0.1, so the real ``google-genai`` SDK talks to it (set GOOGLE_GEMINI_BASE_URL
to ``server.url``). Answers come from the ScriptedBackend's logic (valid for the request's
``responseJsonSchema``) and the HashEmbedder. Faults: ``429`` (RESOURCE_EXHAUSTED with a
RetryInfo delay), ``500``, ``bad_key`` (400 "API key not valid", echoing the key to test
scrubbing), ``404``, ``slow``, ``truncated`` (finishReason MAX_TOKENS), ``invalid_json``,
``blocked`` (no candidates) and ``drop``.
"""

from __future__ import annotations

import time
from typing import Any

from aga.gateway.types import LLMRequest
from aga.testing.fake_openai import JsonHandler, LoopbackServer, _choices_of, _count, json_mode_schema
from aga.testing.hash_embedder import HashEmbedder
from aga.testing.scripted import ScriptedBackend

FAULTS = ("429", "500", "bad_key", "404", "slow", "truncated", "invalid_json", "blocked", "drop")


class FakeGeminiServer(LoopbackServer):
    """Test double: a Gemini-API server on loopback with a programmable fault plan.

    Args:
        backend: answers generateContent (a ScriptedBackend by default).
        embedder: answers batchEmbedContents (a HashEmbedder by default).
        json_schema_support: when False, ``responseJsonSchema`` is rejected with 400.
        retry_delay: the RetryInfo delay of a ``429`` fault, in seconds.
        slow_seconds: how long a ``slow`` fault takes.
        prompt_cache: report the tokens of repeated instructions as ``cachedContentTokenCount``.
    """

    faults_known = FAULTS

    def __init__(
        self,
        *,
        backend: ScriptedBackend | None = None,
        embedder: HashEmbedder | None = None,
        json_schema_support: bool = True,
        retry_delay: float = 0.01,
        slow_seconds: float = 1.0,
        prompt_cache: bool = False,
    ) -> None:
        super().__init__()
        self.prompt_cache = prompt_cache
        self._seen_systems: set[str] = set()
        self.backend = backend or ScriptedBackend()
        self.embedder = embedder or HashEmbedder()
        self.json_schema_support = json_schema_support
        self.retry_delay = retry_delay
        self.slow_seconds = slow_seconds

    def generate(self, body: dict[str, Any]) -> tuple[dict[str, Any], str]:
        """The response to a generateContent body, and its answer text."""
        system = " ".join(p.get("text", "") for p in (body.get("systemInstruction") or {}).get("parts", []))
        user = "\n".join(p.get("text", "") for c in body.get("contents", []) for p in c.get("parts", []))
        config = body.get("generationConfig") or {}
        schema = config.get("responseJsonSchema")
        if schema is None and config.get("responseMimeType") == "application/json":
            schema = json_mode_schema(system, user)  # JSON mode: what the prompt describes
        request = LLMRequest(
            "chat",
            system,
            user,
            schema,
            _choices_of(schema),
            int(config.get("maxOutputTokens") or 256),
            float(config.get("temperature") or 0),
            {},
        )
        text = self.backend.answer(request, lenient_rules=True)
        prompt = _count(system) + _count(user)
        with self._lock:
            cached = _count(system) if self.prompt_cache and system in self._seen_systems else 0
            self._seen_systems.add(system)
        response = {
            "candidates": [
                {"content": {"role": "model", "parts": [{"text": text}]}, "finishReason": "STOP", "index": 0}
            ],
            "usageMetadata": {
                "promptTokenCount": prompt,
                "candidatesTokenCount": _count(text),
                "totalTokenCount": prompt + _count(text),
                "cachedContentTokenCount": cached,
            },
            "modelVersion": "fake-gemini",
        }
        return response, text

    def embed(self, body: dict[str, Any]) -> dict[str, Any]:
        """The response to a batchEmbedContents body."""
        texts = [
            " ".join(p.get("text", "") for p in r.get("content", {}).get("parts", []))
            for r in body.get("requests", [])
        ]
        return {"embeddings": [{"values": v.tolist()} for v in self.embedder.embed_sync(texts)]}


class _GeminiHandler(JsonHandler):
    fake: FakeGeminiServer

    def post(self, body: dict[str, Any]) -> None:
        fake = self.fake
        key = self.headers.get("x-goog-api-key") or ""
        fake.requests.append({"path": self.path, "body": body, "key": key})
        fault = fake.next_fault()
        if fault == "drop":
            return self.drop()
        if fault == "429":
            retry = {
                "@type": "type.googleapis.com/google.rpc.RetryInfo",
                "retryDelay": f"{fake.retry_delay:g}s",
            }
            return self._error(
                429, "Resource has been exhausted (test double).", "RESOURCE_EXHAUSTED", [retry]
            )
        if fault == "500":
            return self._error(500, "Internal error encountered (test double).", "INTERNAL")
        if fault == "bad_key":
            return self._error(
                400, f"API key not valid. Please pass a valid API key. ({key})", "INVALID_ARGUMENT"
            )
        if fault == "404":
            return self._error(404, "models/unknown is not found (test double).", "NOT_FOUND")
        if fault == "slow":
            time.sleep(fake.slow_seconds)
        if self.path.endswith(":batchEmbedContents"):
            return self.send_json(200, fake.embed(body))
        if not self.path.endswith(":generateContent"):
            return self._error(404, f"unknown path {self.path}", "NOT_FOUND")
        if not fake.json_schema_support and "responseJsonSchema" in (body.get("generationConfig") or {}):
            return self._error(
                400, 'Invalid JSON payload received. Unknown name "responseJsonSchema".', "INVALID_ARGUMENT"
            )
        response, text = fake.generate(body)
        candidate = response["candidates"][0]
        if fault == "truncated":
            candidate["content"]["parts"][0]["text"] = text[: max(1, len(text) // 2)]
            candidate["finishReason"] = "MAX_TOKENS"
        elif fault == "invalid_json":
            candidate["content"]["parts"][0]["text"] = "Let me think about that for a while."
        elif fault == "blocked":
            response = {
                "promptFeedback": {"blockReason": "OTHER"},
                "usageMetadata": response["usageMetadata"],
            }
        return self.send_json(200, response)

    def _error(
        self, code: int, message: str, status: str, details: list[dict[str, Any]] | None = None
    ) -> None:
        error: dict[str, Any] = {"code": code, "message": message, "status": status}
        if details:
            error["details"] = details
        self.send_json(code, {"error": error})


FakeGeminiServer.handler = _GeminiHandler
