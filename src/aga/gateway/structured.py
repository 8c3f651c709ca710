"""Structured output forms of OpenAI-compatible servers, and telling a refused form from an outage.

Servers differ in how (and whether) they take a schema. The forms, tried in this order:

1. ``json_schema``: ``response_format: {"type": "json_schema", "json_schema": {...}}``
2. ``json_object``: ``response_format: {"type": "json_object", "schema": {...}}`` (JSON mode;
   llama.cpp-style servers read the schema, others at least force JSON)
3. ``tools``: the answer as the arguments of one forced function call
4. ``prompt``: no response format at all; the instructions' answer-format line, the gateway's
   validation and repair do the work

A server *refuses* a form when it answers HTTP 400, 422 or 500 with a message that names the
response format, the schema or the tools, or when it answers prose where JSON was asked. A
refusal is not an outage: the request is sent again at once in the next form, without touching
the retry budget; an error that names none of these is an outage (or a plain bad request) and
goes to the retry layer as before. What worked is remembered per endpoint and model for the run
(``FormMemory``) and said once ("<server> does not take json_schema; using json_object").
"""

from __future__ import annotations

import logging
import re
import threading

log = logging.getLogger("aga.gateway")

FORMS = ("json_schema", "json_object", "tools", "prompt")
"""The structured-output forms, in the order ``auto`` tries them."""

STRUCTURED_CHOICES = ("auto", *FORMS)
"""Values of ``--structured``."""

REFUSAL_STATUSES = frozenset({400, 422, 500})

_FORMAT_WORDS = re.compile(
    r"response[_ ]format|json[_ ]schema|json[_ ]object|\bschema\b|\btools?\b|tool[_ ]choice|"
    r"function[_ ]call|\bgrammar\b|structured output",
    re.IGNORECASE,
)


def names_format(message: str) -> bool:
    """The message talks about the response format, the schema or the tools."""
    return bool(_FORMAT_WORDS.search(message or ""))


def is_refusal(status: int | None, message: str) -> bool:
    """An HTTP answer that refuses the structured-output form (not an outage)."""
    return status in REFUSAL_STATUSES and names_format(message)


def looks_like_prose(text: str) -> bool:
    """An answer with no JSON object in it at all (the server ignored the JSON request)."""
    return "{" not in (text or "")


def next_form(form: str) -> str | None:
    """The form to try after ``form`` (None after ``prompt``)."""
    i = FORMS.index(form)
    return FORMS[i + 1] if i + 1 < len(FORMS) else None


def check_structured(value: str) -> str:
    """``value`` if it is a known ``--structured`` choice.

    Raises:
        ValueError: unknown choice (the message lists the valid ones).
    """
    if value not in STRUCTURED_CHOICES:
        raise ValueError(f"--structured {value!r} is not one of: {', '.join(STRUCTURED_CHOICES)}")
    return value


class FormMemory:
    """What form each (endpoint, model) takes, learned during this run (one per process)."""

    def __init__(self) -> None:
        self._forms: dict[tuple[str, str], str] = {}
        self._confirmed: set[tuple[str, str, str]] = set()
        self._prose: dict[tuple[str, str, str], int] = {}
        self._lock = threading.Lock()

    def get(self, endpoint: str, model: str) -> str:
        """The form to use now (``json_schema`` until a refusal taught otherwise)."""
        with self._lock:
            return self._forms.get((endpoint, model), FORMS[0])

    def confirm(self, endpoint: str, model: str, form: str) -> None:
        """Record that ``form`` gave a JSON answer: the server takes it."""
        with self._lock:
            self._confirmed.add((endpoint, model, form))

    def confirmed(self, endpoint: str, model: str, form: str) -> bool:
        """Whether ``form`` already gave a JSON answer at this endpoint: a later prose answer
        is then a bad answer to repair, not a refusal of the form."""
        with self._lock:
            return (endpoint, model, form) in self._confirmed

    def prose(self, endpoint: str, model: str, form: str) -> int:
        """Count a prose answer from ``form`` before it ever answered JSON; returns the count.
        One is an odd answer (repaired like any other); a second means the form is ignored."""
        with self._lock:
            key = (endpoint, model, form)
            self._prose[key] = self._prose.get(key, 0) + 1
            return self._prose[key]

    def refused(self, endpoint: str, model: str, form: str, server: str, why: str) -> str | None:
        """Record that ``form`` was refused; returns the form to use next (None: none left).

        Said once per (endpoint, model, form), on the ``aga.gateway`` logger.
        """
        following = next_form(form)
        with self._lock:
            current = self._forms.get((endpoint, model), FORMS[0])
            if FORMS.index(current) > FORMS.index(form):
                return current  # another call already moved on
            if following is None:
                return None
            self._forms[(endpoint, model)] = following
        log.warning("%s does not take %s (%s); using %s", server, form, why, following)
        return following

    def forget(self) -> None:
        """Forget everything learned (tests)."""
        with self._lock:
            self._forms.clear()
            self._confirmed.clear()
            self._prose.clear()


FORM_MEMORY = FormMemory()
"""The process-wide memory: a run is one process."""
