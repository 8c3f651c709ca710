"""The replay web server: a list of simulations, the replay page and the JSON it plays from.

Routes (all GET)::

    /                                       the simulations of the storage folder, with links
    /demo/<sim>/<step>/<speed>              the replay page, starting at <step>, speed 1..9
    /demo/<sim>[/<step>]                    redirect to speed 3 (and step 0)
    /static/<file>                          the page's script and style (package data)
    /api/sims                               [{name, source, live, names, start, sec_per_step, total}]
    /api/sims/<sim>                         that, plus the chunk size and the town's geometry
    /api/sims/<sim>/town.png                the town picture (rendered once, cached on disk)
    /api/sims/<sim>/steps?start=S&count=N   a chunk: the state at S and the changes of S+1..S+N-1

An unknown simulation or step is a 404 naming it; a malformed query a 400 naming the parameter.
The server only reads: stores are opened per request, and a running simulation's new steps show
up in ``total`` as it commits them.
"""

from __future__ import annotations

import html
import json
import re
import sys
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from string import Template
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

from aga.errors import AgaError, InputError, TownError
from aga.viewer.sources import CHUNK, BadQuery, Library, NotFound, UnknownStep
from aga.viewer.townimage import TownImages

CACHE_DIR = ".viewer-cache"
SPEEDS = range(1, 10)
DEFAULT_SPEED = 3
_STATIC = {"replay.js": "text/javascript", "core.js": "text/javascript", "replay.css": "text/css"}
_SEGMENT = r"([^/]+)"


def _asset(name: str) -> str:
    return resources.files("aga.viewer").joinpath("static", name).read_text(encoding="utf-8")


class ReplayServer(ThreadingHTTPServer):
    """A threading HTTP server over one storage folder."""

    daemon_threads = True

    def __init__(self, storage: Path, host: str = "127.0.0.1", port: int = 8000, *, verbose: bool = False) -> None:
        self.library = Library(storage)
        self.towns = TownImages(storage / CACHE_DIR)
        self.verbose = verbose
        try:
            super().__init__((host, port), _Handler)
        except OSError as err:
            raise InputError(f"cannot listen on {host}:{port}: {err.strerror or err}; pick another --port or --host") from None

    @property
    def url(self) -> str:
        """The base URL, e.g. ``http://127.0.0.1:8000``."""
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


def _page(title: str, body: str) -> str:
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><link rel='stylesheet' href='/static/replay.css'></head>"
        f"<body class='plain'><main class='plain'>{body}</main></body></html>"
    )


class _Handler(BaseHTTPRequestHandler):
    server: ReplayServer
    protocol_version = "HTTP/1.1"

    # ------------------------------------------------------------------ plumbing
    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            sys.stderr.write(f"{self.address_string()} {format % args}\n")

    def _send(self, status: int, body: bytes, ctype: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, value: Any, status: int = 200, cache: str = "no-store") -> None:
        body = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        self._send(status, body, "application/json; charset=utf-8", {"Cache-Control": cache})

    def _html(self, text: str, status: int = 200) -> None:
        self._send(status, text.encode("utf-8"), "text/html; charset=utf-8", {"Cache-Control": "no-store"})

    def _error(self, status: HTTPStatus, message: str, api: bool) -> None:
        if api:
            self._json({"error": message, "status": int(status)}, int(status))
            return
        body = (f"<h1>{int(status)} {html.escape(status.phrase)}</h1><p class='err'>{html.escape(message)}</p>"
                "<p><a href='/'>All simulations</a></p>")
        self._html(_page(f"{int(status)} {status.phrase}", body), int(status))

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        api = parts.path.startswith("/api/")
        try:
            self._route(parts.path, parse_qs(parts.query))
        except NotFound as err:
            self._error(HTTPStatus.NOT_FOUND, str(err), api)
        except BadQuery as err:
            self._error(HTTPStatus.BAD_REQUEST, str(err), api)
        except (BrokenPipeError, ConnectionResetError):
            pass
        except (AgaError, OSError) as err:  # a store or replay that cannot be read: say which
            message = str(err) if isinstance(err, AgaError) else f"cannot read {err.filename or 'a file'}: {err.strerror}"
            sys.stderr.write(f"error: {self.path}: {message}\n")
            self._error(HTTPStatus.INTERNAL_SERVER_ERROR, message, api)

    # ------------------------------------------------------------------ routes
    def _route(self, path: str, query: dict[str, list[str]]) -> None:
        if path == "/":
            return self._index()
        if path == "/favicon.ico":
            return self._send(204, b"", "image/x-icon")
        if m := re.fullmatch(r"/static/([\w.-]+)", path):
            if m[1] not in _STATIC:
                raise NotFound(f"no static file {m[1]!r}")
            return self._send(200, _asset(m[1]).encode("utf-8"), f"{_STATIC[m[1]]}; charset=utf-8",
                              {"Cache-Control": "no-cache"})
        if m := re.fullmatch(rf"/demo/{_SEGMENT}(?:/(\d+))?/?", path):
            sim = unquote(m[1])
            self.server.library.folder(sim)
            return self._redirect(f"/demo/{quote(sim)}/{m[2] or 0}/{DEFAULT_SPEED}")
        if m := re.fullmatch(rf"/demo/{_SEGMENT}/{_SEGMENT}/{_SEGMENT}/?", path):
            return self._demo(unquote(m[1]), unquote(m[2]), unquote(m[3]))
        if path in ("/api/sims", "/api/sims/"):
            lib = self.server.library
            return self._json([lib.summary(n) for n in lib.names()])
        if m := re.fullmatch(rf"/api/sims/{_SEGMENT}/?", path):
            return self._info(unquote(m[1]))
        if m := re.fullmatch(rf"/api/sims/{_SEGMENT}/town\.png", path):
            return self._town_png(unquote(m[1]))
        if m := re.fullmatch(rf"/api/sims/{_SEGMENT}/steps", path):
            return self._steps(unquote(m[1]), query)
        raise NotFound(f"no page at {path!r}; the simulations are listed at /")

    def _redirect(self, where: str) -> None:
        self._send(302, b"", "text/plain", {"Location": where})

    def _index(self) -> None:
        lib = self.server.library
        rows = []
        for name in lib.names():
            s = lib.summary(name)
            link = f"/demo/{quote(name)}"
            if "error" in s:
                rows.append(f"<tr><td>{html.escape(name)}</td><td colspan='4' class='err'>"
                            f"{html.escape(s['error'])}</td></tr>")
                continue
            last = max(0, s["total"] - 1)
            kind = "simulation (live)" if s["live"] else "replay"
            rows.append(
                f"<tr><td><a href='{link}/0/{DEFAULT_SPEED}'>{html.escape(name)}</a></td>"
                f"<td>{kind}</td><td>{s['total']}</td><td>{len(s['names'])}: "
                f"{html.escape(', '.join(s['names'][:6]))}{' ...' if len(s['names']) > 6 else ''}</td>"
                f"<td>{html.escape(s['start'].replace('T', ' '))}</td>"
                f"<td><a href='{link}/0/{DEFAULT_SPEED}'>from the start</a> · "
                f"<a href='{link}/{last}/{DEFAULT_SPEED}'>last step</a></td></tr>"
            )
        table = (
            "<table><tr><th>simulation</th><th>kind</th><th>steps</th><th>residents</th><th>starts</th>"
            "<th>watch</th></tr>" + "".join(rows) + "</table>"
            if rows else "<p>No simulations yet. Run one with <code>aga run -o &lt;base&gt; -t &lt;name&gt; -s N"
            "</code>, or import an original run with <code>aga replay import-ga &lt;folder&gt;</code>.</p>"
        )
        body = f"<h1>aga replays</h1><p class='dim'>storage: {html.escape(str(lib.storage))}</p>{table}"
        self._html(_page("aga replays", body))

    def _demo(self, sim: str, step_text: str, speed_text: str) -> None:
        info = self.server.library.source(sim).info()
        if not step_text.isdigit():
            raise UnknownStep(f"step {step_text!r} is not a step number (simulation {sim!r})")
        step = int(step_text)
        if step >= max(info.total, 1):
            have = f"steps 0..{info.total - 1}" if info.total else "no steps yet"
            raise UnknownStep(f"simulation {sim!r} has no step {step} ({have})")
        if not (speed_text.isdigit() and int(speed_text) in SPEEDS):
            raise NotFound(f"speed {speed_text!r} is not one of 1..9 (simulation {sim!r})")
        config = {"sim": sim, "step": step, "speed": int(speed_text), "api": f"/api/sims/{quote(sim)}"}
        text = Template(_asset("replay.html")).substitute(
            title=html.escape(f"{sim} · aga replay"),
            config=json.dumps(config).replace("<", "\\u003c"),
        )
        self._html(text)

    def _info(self, sim: str) -> None:
        info = self.server.library.source(sim).info()
        out: dict[str, Any] = {**info.to_json(), "chunk": CHUNK, "town": None, "town_error": None}
        try:
            out["town"] = self.server.towns.get(info.town).to_json()
        except (InputError, TownError) as err:
            out["town_error"] = str(err)
        self._json(out)

    def _town_png(self, sim: str) -> None:
        info = self.server.library.source(sim).info()
        try:
            picture = self.server.towns.get(info.town)
        except (InputError, TownError) as err:
            raise NotFound(f"simulation {sim!r}: no town picture: {err}") from None
        if self.headers.get("If-None-Match") == f'"{picture.etag}"':
            return self._send(304, b"", "image/png", {"ETag": f'"{picture.etag}"'})
        self._send(200, picture.png, "image/png", {"ETag": f'"{picture.etag}"', "Cache-Control": "no-cache"})

    def _steps(self, sim: str, query: dict[str, list[str]]) -> None:
        def number(key: str, default: int | None) -> int:
            values = query.get(key)
            if not values:
                if default is None:
                    raise BadQuery(f"query parameter {key!r} is missing (e.g. ?{key}=0)")
                return default
            if not values[-1].isdigit():
                raise BadQuery(f"query parameter {key!r} must be a whole number, got {values[-1]!r}")
            return int(values[-1])

        chunk = self.server.library.source(sim).chunk(number("start", None), number("count", CHUNK))
        self._json(chunk.to_json())


def make_server(storage: Path, host: str = "127.0.0.1", port: int = 8000, *, verbose: bool = False) -> ReplayServer:
    """A bound (not yet serving) :class:`ReplayServer`; port 0 picks a free port.

    Raises:
        InputError: the storage folder is not a folder, or the address cannot be bound.
    """
    if not storage.is_dir():
        what = "is not a folder" if storage.exists() else "does not exist"
        raise InputError(f"storage folder {storage} {what}; pass --storage or set AGA_STORAGE")
    return ReplayServer(storage, host, port, verbose=verbose)
