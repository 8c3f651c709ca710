"""Grammars for the embedded model: GBNF built from a request's JSON schema or choices.

llama.cpp can only produce text its grammar admits, so an answer always has the right shape. The
grammar gives explicit bounds on list lengths, string lengths and numbers (llama-cpp-python's own
converter leaves them open); a choice task admits only ``{"choice": "<one of the options>"}``.
Used by :mod:`aga.gateway.backends.embedded` (which re-exports the public names).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from aga.gateway.types import FatalBackendError, LLMRequest

DEFAULT_MAX_ITEMS = 16
"""Most list items a grammar admits when the schema gives no ``maxItems``."""
DEFAULT_MAX_CHARS = 400
"""Most characters in a string a grammar admits when the schema gives no ``maxLength``."""

_WS = '" "?'
_CHAR = r'[^"\\\x00-\x1F\x7F] | "\\" ["\\/bfnrt]'
_GENERIC = {
    "value": 'object | array | string | number | "true" | "false" | "null"',
    "object": f'"{{" ( string ":" {_WS} value ( "," {_WS} string ":" {_WS} value )* )? "}}"',
    "array": f'"[" ( value ( "," {_WS} value )* )? "]"',
    "string": '"\\"" char* "\\""',
    "char": _CHAR,
    "number": '"-"? [0-9]{1,15} ( "." [0-9]{1,6} )?',
}


def _literal(text: str) -> str:
    """A GBNF string literal matching ``text`` exactly."""
    return '"' + text.translate({92: "\\\\", 34: '\\"', 10: "\\n", 13: "\\r", 9: "\\t"}) + '"'


def _json_literal(value: Any) -> str:
    """A GBNF literal matching the compact JSON encoding of ``value``."""
    return _literal(json.dumps(value, ensure_ascii=False))


def _repeat(item: str, low: int, high: int) -> str:
    """``item`` repeated low..high times (GBNF bounded repetition)."""
    if high == low:
        return f"({item}){{{low}}}"
    return f"({item}){{{low},{high}}}"


class _SchemaGrammar:
    """Turns one JSON schema (pydantic's dialect) into GBNF rules, every repetition bounded."""

    def __init__(self, schema: Mapping[str, Any]) -> None:
        self.root = schema
        self.rules: dict[str, str] = {}
        self._names_by_body: dict[str, str] = {}
        self._refs: dict[str, str] = {}

    def build(self) -> str:
        body = self._expr(self.root, "answer")
        self.rules["root"] = body
        order = ["root", *sorted(k for k in self.rules if k != "root")]
        return "\n".join(f"{name} ::= {self.rules[name]}" for name in order) + "\n"

    def _rule(self, hint: str, body: str) -> str:
        """A named rule for ``body`` (identical bodies share one name)."""
        if body in self._names_by_body:
            return self._names_by_body[body]
        base = "".join(c if c.isalnum() else "-" for c in hint).strip("-").lower() or "r"
        name, n = base, 1
        while name in self.rules or name == "root":
            n += 1
            name = f"{base}-{n}"
        self.rules[name] = body
        self._names_by_body[body] = name
        return name

    def _generic(self) -> str:
        for name, body in _GENERIC.items():
            self.rules.setdefault(name, body)
        return "value"

    def _resolve(self, ref: str) -> Mapping[str, Any]:
        if not ref.startswith("#/"):
            raise FatalBackendError(
                None, f"JSON schema reference {ref!r} is not local; only '#/...' is supported"
            )
        node: Any = self.root
        for part in ref[2:].split("/"):
            if not isinstance(node, Mapping) or part not in node:
                raise FatalBackendError(None, f"JSON schema reference {ref!r} points nowhere")
            node = node[part]
        return node

    def _expr(self, schema: Mapping[str, Any] | bool, hint: str) -> str:
        """A GBNF expression (usually a rule name) for ``schema``."""
        if schema is True or schema == {} or not isinstance(schema, Mapping):
            return self._generic()
        if "$ref" in schema:
            ref = schema["$ref"]
            if ref not in self._refs:
                name = self._rule(ref.rsplit("/", 1)[-1], f"<pending {ref}>")
                self._refs[ref] = name
                body = self._expr(self._resolve(ref), name)
                self._names_by_body.pop(f"<pending {ref}>", None)
                self.rules[name] = body
            return self._refs[ref]
        if "const" in schema:
            return _json_literal(schema["const"])
        if "enum" in schema:
            if not schema["enum"]:
                raise FatalBackendError(None, f"JSON schema enum at '{hint}' is empty")
            return self._rule(hint, " | ".join(_json_literal(v) for v in schema["enum"]))
        for key in ("anyOf", "oneOf"):
            if key in schema:
                alts = [self._expr(s, f"{hint}-{i}") for i, s in enumerate(schema[key])]
                return self._rule(hint, " | ".join(alts))
        if "allOf" in schema:
            if len(schema["allOf"]) == 1:
                return self._expr(schema["allOf"][0], hint)
            raise FatalBackendError(
                None, f"JSON schema 'allOf' with several parts at '{hint}' is not supported"
            )
        kind = schema.get("type")
        if isinstance(kind, list):
            return self._rule(
                hint, " | ".join(self._expr({**schema, "type": k}, f"{hint}-{k}") for k in kind)
            )
        builder: dict[str | None, Callable[[Mapping[str, Any], str], str]] = {
            "object": self._object,
            "array": self._array,
            "string": self._string,
            "integer": self._integer,
            "number": self._number,
        }
        if kind in builder:
            return builder[kind](schema, hint)
        if kind == "boolean":
            return self._rule("boolean", '"true" | "false"')
        if kind == "null":
            return '"null"'
        if "properties" in schema:
            return self._object(schema, hint)
        return self._generic()

    def _object(self, schema: Mapping[str, Any], hint: str) -> str:
        props: Mapping[str, Any] = schema.get("properties") or {}
        if not props:
            extra = schema.get("additionalProperties", True)
            value = self._expr(extra if isinstance(extra, Mapping) else {}, f"{hint}-value")
            key = self._string({"type": "string", "maxLength": 60}, "key")
            pair = self._rule(f"{hint}-pair", f'{key} ":" {_WS} {value}')
            more = _repeat(f'"," {_WS} {pair}', 0, DEFAULT_MAX_ITEMS - 1)
            return self._rule(hint, f'"{{" ( {pair} {more} )? "}}"')
        # Every declared property is written, in declared order: one fixed shape is the easiest
        # for a small model, and optional fields stay valid when present.
        parts = [
            f"{_literal(json.dumps(name, ensure_ascii=False) + ':')} {_WS} {self._expr(sub, f'{hint}-{name}')}"
            for name, sub in props.items()
        ]
        return self._rule(hint, '"{" ' + f' "," {_WS} '.join(parts) + ' "}"')

    def _array(self, schema: Mapping[str, Any], hint: str) -> str:
        prefix = schema.get("prefixItems")
        if isinstance(prefix, list):
            items = [self._expr(s, f"{hint}-{i}") for i, s in enumerate(prefix)]
            return self._rule(hint, '"[" ' + f' "," {_WS} '.join(items) + ' "]"')
        item = self._expr(schema.get("items", {}), f"{hint}-item")
        low = int(schema.get("minItems", 0))
        high = int(schema.get("maxItems", max(low, DEFAULT_MAX_ITEMS)))
        if high < low:
            raise FatalBackendError(None, f"JSON schema at '{hint}' has maxItems {high} < minItems {low}")
        if high == 0:
            return '"[]"'
        rest = _repeat(f'"," {_WS} {item}', max(low - 1, 0), high - 1)
        body = f'"[" {item} {rest} "]"' if low >= 1 else f'"[" ( {item} {rest} )? "]"'
        return self._rule(hint, body)

    def _string(self, schema: Mapping[str, Any], hint: str) -> str:
        self.rules.setdefault("char", _CHAR)
        low = int(schema.get("minLength", 0))
        high = int(schema.get("maxLength", max(low, DEFAULT_MAX_CHARS)))
        return self._rule(f"{hint}-text", f'"\\"" {_repeat("char", low, high)} "\\""')

    def _integer(self, schema: Mapping[str, Any], hint: str) -> str:
        low = schema.get("minimum")
        high = schema.get("maximum")
        if "exclusiveMinimum" in schema:
            low = int(schema["exclusiveMinimum"]) + 1
        if "exclusiveMaximum" in schema:
            high = int(schema["exclusiveMaximum"]) - 1
        if low is not None and high is not None and 0 <= int(high) - int(low) < 100:
            return self._rule(hint, " | ".join(f'"{v}"' for v in range(int(low), int(high) + 1)))
        bounds = [abs(int(b)) for b in (low, high) if b is not None]
        widest = len(str(max(bounds))) if bounds else 9
        sign = '"-"? ' if low is None or int(low) < 0 else ""
        return self._rule(f"{hint}-int", f'{sign}( "0" | [1-9] [0-9]{{0,{max(widest - 1, 0)}}} )')

    def _number(self, schema: Mapping[str, Any], hint: str) -> str:
        low = schema.get("minimum", schema.get("exclusiveMinimum"))
        sign = '"-"? ' if low is None or float(low) < 0 else ""
        return self._rule(f"{hint}-num", f'{sign}( "0" | [1-9] [0-9]{{0,8}} ) ( "." [0-9]{{1,4}} )?')


def grammar_for_schema(schema: Mapping[str, Any]) -> str:
    """GBNF that only admits compact JSON fitting ``schema``, every repetition bounded.

    Supported: objects (all declared properties, in order), arrays (``minItems``/``maxItems``,
    default at most ``DEFAULT_MAX_ITEMS``), strings (``minLength``/``maxLength``, default at most
    ``DEFAULT_MAX_CHARS``), integers (a range of under 100 values becomes an enum; otherwise the
    digit count is bounded), numbers, booleans, null, ``enum``/``const``, ``anyOf``/``oneOf``,
    local ``$ref``. Anything else becomes a generic JSON value (the gateway validates anyway).
    """
    return _SchemaGrammar(schema).build()


def grammar_for_choices(options: Sequence[str]) -> str:
    """GBNF that only admits ``{"choice": "<one of options>"}`` (an optional space after the colon)."""
    if not options:
        raise FatalBackendError(None, "a choice request needs at least one option")
    alts = " | ".join(_json_literal(o) for o in dict.fromkeys(options))
    return f'root ::= "{{\\"choice\\":" {_WS} ( {alts} ) "}}"\n'


def grammar_for_request(request: LLMRequest) -> str | None:
    """The grammar constraining ``request``: choices first, else its schema, else None (free text)."""
    if request.choices is not None:
        return grammar_for_choices(request.choices)
    if request.json_schema is not None:
        return grammar_for_schema(request.json_schema)
    return None
