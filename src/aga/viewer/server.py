"""The viewer's web server (FastAPI, served by uvicorn): pages, the JSON API and live updates.

Pages::

    /                                       the simulations of the storage folder, with links
    /demo/<sim>/<step>/<speed>              the replay page, starting at <step>, speed 1..9
    /demo/<sim>[/<step>]                    redirect to speed 3 (and step 0)
    /cost/<sim>                             the cost page (charts of calls and tokens, dollars)
    /static/<file>                          the pages' scripts and styles (package data)

JSON (described by OpenAPI at ``/openapi.json``)::

    /api/sims                               [{name, source, live, names, start, sec_per_step, total}]
    /api/sims/<sim>                         that, plus the chunk size and the town's geometry
    /api/sims/<sim>/town.png                the town picture (rendered once, cached on disk)
    /api/sims/<sim>/steps?start=S&count=N   a chunk: the state at S and the changes of S+1..S+N-1
    /api/sims/<sim>/residents/<name>?step=S the inspector: that resident at step S
    /api/sims/<sim>/residents/<name>/interview   POST {step, question}: the resident answers (aga.interview)
    /api/sims/<sim>/calls/<seq>             one model call of the ledger, with prompt and answer
    /api/sims/<sim>/events                  the event timeline (chats, reflections, plans, ...)
    /api/sims/<sim>/cost                    calls, tokens and dollars per task, model and hour
    /api/sims/<sim>/eval/<file>             a chart of ``aga eval`` (``<sim>/eval/*.png``)
    /api/sims/<sim>/live                    server-sent events: ``step`` as a running sim commits

An unknown simulation, step, resident, call or file is a 404 naming it; a malformed query a 400
naming the parameter. The server only reads, and only inside the storage folder: a simulation
is looked up among the folders it lists, never by joining a path.
"""

from __future__ import annotations

import asyncio
import html
import json
import socket
import sys
import threading
import time
from collections.abc import AsyncIterator
from http import HTTPStatus
from importlib import resources
from pathlib import Path
from string import Template
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response, StreamingResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from aga.errors import AgaError, InputError, TownError
from aga.viewer import cost as cost_mod
from aga.viewer import inspector as inspect_mod
from aga.viewer.sources import CHUNK, MAX_CHUNK, BadQuery, Library, NotFound, UnknownStep
from aga.viewer.townimage import TownImages

CACHE_DIR = ".viewer-cache"
SPEEDS = range(1, 10)
DEFAULT_SPEED = 3
LIVE_POLL = 0.5  # seconds between checks of a running simulation's store (server-sent events)
_STATIC = {
    "replay.js": "text/javascript",
    "core.js": "text/javascript",
    "inspect.js": "text/javascript",
    "cost.js": "text/javascript",
    "emoji.js": "text/javascript",
    "replay.css": "text/css",
}


class Question(BaseModel):
    """A question to a resident as they were at ``step`` (the interview's request body)."""

    step: int = Field(..., ge=0)
    question: str = Field(..., min_length=1, max_length=2000)


def _asset(name: str) -> str:
    return resources.files("aga.viewer").joinpath("static", name).read_text(encoding="utf-8")


def _page(title: str, body: str) -> str:
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><link rel='stylesheet' href='/static/replay.css'></head>"
        f"<body class='plain'><main class='plain'>{body}</main></body></html>"
    )


def build_app(storage: Path, *, interview_llm: str | None = None) -> FastAPI:
    """The FastAPI application over one storage folder (read only, but for interviews' own ledger).

    Args:
        storage: the storage folder whose simulations are served.
        interview_llm: the model that answers interviews (``--llm`` forms); None: the simulation's own.
    """
    library = Library(storage)
    towns = TownImages(storage / CACHE_DIR)
    # /docs and /redoc would load their scripts from a CDN: off (nothing is fetched from the network).
    app = FastAPI(
        title="aga viewer",
        description="Replays, inspector, timeline and cost of aga simulations.",
        version="1",
        docs_url=None,
        redoc_url=None,
    )
    app.state.library = library

    def error(request: Request, status: HTTPStatus, message: str) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse(
                {"error": message, "status": int(status)}, int(status), headers={"Cache-Control": "no-store"}
            )
        body = (
            f"<h1>{int(status)} {html.escape(status.phrase)}</h1><p class='err'>{html.escape(message)}</p>"
            "<p><a href='/'>All simulations</a></p>"
        )
        return HTMLResponse(_page(f"{int(status)} {status.phrase}", body), int(status))

    @app.exception_handler(NotFound)
    async def _not_found(request: Request, err: NotFound) -> Response:
        return error(request, HTTPStatus.NOT_FOUND, str(err))

    @app.exception_handler(BadQuery)
    async def _bad_query(request: Request, err: BadQuery) -> Response:
        return error(request, HTTPStatus.BAD_REQUEST, str(err))

    @app.exception_handler(AgaError)
    async def _broken(request: Request, err: AgaError) -> Response:
        sys.stderr.write(f"error: {request.url.path}: {err}\n")
        return error(request, HTTPStatus.INTERNAL_SERVER_ERROR, str(err))

    @app.exception_handler(OSError)
    async def _os_error(request: Request, err: OSError) -> Response:
        message = f"cannot read {err.filename or 'a file'}: {err.strerror}"
        sys.stderr.write(f"error: {request.url.path}: {message}\n")
        return error(request, HTTPStatus.INTERNAL_SERVER_ERROR, message)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, err: StarletteHTTPException) -> Response:
        if err.status_code == 404:
            return error(
                request,
                HTTPStatus.NOT_FOUND,
                f"no page at {request.url.path!r}; the simulations are listed at /",
            )
        return error(request, HTTPStatus(err.status_code), str(err.detail))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, err: RequestValidationError) -> Response:
        problems = []
        for e in err.errors():
            where = e.get("loc", ())
            name = where[-1] if where else "?"
            got = e.get("input")
            if e.get("type") == "missing":
                problems.append(f"query parameter {name!r} is missing (e.g. ?{name}=0)")
            else:
                problems.append(
                    f"query parameter {name!r} must be a whole number in range, got {got!r}: "
                    f"{e.get('msg', 'invalid')}"
                )
        return error(request, HTTPStatus.BAD_REQUEST, "; ".join(problems) or "malformed query")

    # ------------------------------------------------------------------ pages
    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def index() -> HTMLResponse:
        rows = []
        for name in library.names():
            s = library.summary(name)
            link = f"/demo/{quote(name)}"
            if "error" in s:
                rows.append(
                    f"<tr><td>{html.escape(name)}</td><td colspan='5' class='err'>"
                    f"{html.escape(s['error'])}</td></tr>"
                )
                continue
            last = max(0, s["total"] - 1)
            kind = "simulation (live)" if s["live"] else "replay"
            cost = f" · <a href='/cost/{quote(name)}'>cost</a>" if s["live"] else ""
            rows.append(
                f"<tr><td><a href='{link}/0/{DEFAULT_SPEED}'>{html.escape(name)}</a></td>"
                f"<td>{kind}</td><td>{s['total']}</td><td>{len(s['names'])}: "
                f"{html.escape(', '.join(s['names'][:6]))}{' ...' if len(s['names']) > 6 else ''}</td>"
                f"<td>{html.escape(s['start'].replace('T', ' '))}</td>"
                f"<td><a href='{link}/0/{DEFAULT_SPEED}'>from the start</a> · "
                f"<a href='{link}/{last}/{DEFAULT_SPEED}'>last step</a>{cost}</td></tr>"
            )
        table = (
            "<table><tr><th>simulation</th><th>kind</th><th>steps</th><th>residents</th><th>starts</th>"
            "<th>watch</th></tr>" + "".join(rows) + "</table>"
            if rows
            else "<p>No simulations yet. Run one with <code>aga run -o &lt;base&gt; -t &lt;name&gt; -s N"
            "</code>, or import an original run with <code>aga replay import-ga &lt;folder&gt;</code>.</p>"
        )
        body = f"<h1>aga replays</h1><p class='dim'>storage: {html.escape(str(library.storage))}</p>{table}"
        return HTMLResponse(_page("aga replays", body), headers={"Cache-Control": "no-store"})

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return Response(status_code=204)

    @app.get("/static/{name}", include_in_schema=False)
    def static(name: str) -> Response:
        if name not in _STATIC:
            raise NotFound(f"no static file {name!r}")
        return Response(
            _asset(name).encode("utf-8"),
            media_type=f"{_STATIC[name]}; charset=utf-8",
            headers={"Cache-Control": "no-cache"},
        )

    @app.get("/demo/{sim}", include_in_schema=False)
    @app.get("/demo/{sim}/", include_in_schema=False)
    def demo_start(sim: str) -> Response:
        library.folder(sim)
        return RedirectResponse(f"/demo/{quote(sim)}/0/{DEFAULT_SPEED}", 302)

    @app.get("/demo/{sim}/{step}", include_in_schema=False)
    @app.get("/demo/{sim}/{step}/", include_in_schema=False)
    def demo_step(sim: str, step: str) -> Response:
        library.folder(sim)
        if not step.isdigit():
            raise UnknownStep(f"step {step!r} is not a step number (simulation {sim!r})")
        return RedirectResponse(f"/demo/{quote(sim)}/{int(step)}/{DEFAULT_SPEED}", 302)

    @app.get("/demo/{sim}/{step}/{speed}", include_in_schema=False)
    @app.get("/demo/{sim}/{step}/{speed}/", include_in_schema=False)
    def demo(sim: str, step: str, speed: str) -> HTMLResponse:
        info = library.source(sim).info()
        if not step.isdigit():
            raise UnknownStep(f"step {step!r} is not a step number (simulation {sim!r})")
        n = int(step)
        if n >= max(info.total, 1):
            have = f"steps 0..{info.total - 1}" if info.total else "no steps yet"
            raise UnknownStep(f"simulation {sim!r} has no step {n} ({have})")
        if not (speed.isdigit() and int(speed) in SPEEDS):
            raise NotFound(f"speed {speed!r} is not one of 1..9 (simulation {sim!r})")
        config = {"sim": sim, "step": n, "speed": int(speed), "api": f"/api/sims/{quote(sim)}"}
        text = Template(_asset("replay.html")).substitute(
            title=html.escape(f"{sim} · aga replay"),
            config=json.dumps(config).replace("<", "\\u003c"),
        )
        return HTMLResponse(text, headers={"Cache-Control": "no-store"})

    @app.get("/demo/{sim}/{rest:path}", include_in_schema=False)
    def demo_other(sim: str, rest: str) -> Response:
        library.folder(sim)
        raise NotFound(f"no page at /demo/{sim}/{rest}; the replay page is /demo/<sim>/<step>/<speed>")

    @app.get("/cost/{sim}", include_in_schema=False)
    def cost_page(sim: str) -> HTMLResponse:
        library.folder(sim)
        config = {"sim": sim, "api": f"/api/sims/{quote(sim)}"}
        text = Template(_asset("cost.html")).substitute(
            title=html.escape(f"{sim} · aga cost"),
            config=json.dumps(config).replace("<", "\\u003c"),
        )
        return HTMLResponse(text, headers={"Cache-Control": "no-store"})

    # ------------------------------------------------------------------ JSON
    @app.get("/api/sims", summary="The simulations of the storage folder")
    def sims() -> JSONResponse:
        return JSONResponse(
            [library.summary(n) for n in library.names()], headers={"Cache-Control": "no-store"}
        )

    @app.get("/api/sims/{sim}", summary="One simulation: residents, game time, steps, town")
    def sim_info(sim: str) -> JSONResponse:
        info = library.source(sim).info()
        out: dict[str, Any] = {**info.to_json(), "chunk": CHUNK, "town": None, "town_error": None}
        try:
            out["town"] = towns.get(info.town).to_json()
        except (InputError, TownError) as err:
            out["town_error"] = str(err)
        return JSONResponse(out, headers={"Cache-Control": "no-store"})

    @app.get("/api/sims/{sim}/town.png", summary="The town picture")
    def town_png(sim: str, request: Request) -> Response:
        info = library.source(sim).info()
        try:
            picture = towns.get(info.town)
        except (InputError, TownError) as err:
            raise NotFound(f"simulation {sim!r}: no town picture: {err}") from None
        tag = f'"{picture.etag}"'
        if request.headers.get("If-None-Match") == tag:
            return Response(status_code=304, headers={"ETag": tag})
        return Response(
            picture.png, media_type="image/png", headers={"ETag": tag, "Cache-Control": "no-cache"}
        )

    @app.get("/api/sims/{sim}/steps", summary="A chunk of steps: the state at start, then the changes")
    def steps(sim: str, start: int = Query(..., ge=0), count: int = Query(CHUNK)) -> JSONResponse:
        if not 1 <= count <= MAX_CHUNK:
            raise BadQuery(f"count must be from 1 to {MAX_CHUNK}, got {count}")
        chunk = library.source(sim).chunk(start, count)
        return JSONResponse(chunk.to_json(), headers={"Cache-Control": "no-store"})

    @app.get("/api/sims/{sim}/residents/{name}", summary="The inspector: one resident at one step")
    def resident(sim: str, name: str, step: int = Query(..., ge=0)) -> JSONResponse:
        folder = library.store_folder(sim)
        return JSONResponse(
            inspect_mod.inspect_resident(folder, sim, name, step), headers={"Cache-Control": "no-store"}
        )

    @app.post("/api/sims/{sim}/residents/{name}/interview", summary="Ask a resident a question at a step")
    async def interview(sim: str, name: str, q: Question) -> JSONResponse:
        folder = library.store_folder(sim)
        if not inspect_mod.interview_available():
            raise NotFound("interviews are not available in this installation (aga.interview is missing)")
        from aga.interview import answer_questions

        inspect_mod.check_resident_step(folder, sim, name, q.step)
        records = await answer_questions(
            folder, [q.question], residents=[name], step=q.step, llm=interview_llm
        )
        return JSONResponse(records[0].to_dict(), headers={"Cache-Control": "no-store"})

    @app.get("/api/sims/{sim}/calls/{seq}", summary="One model call with its prompt and answer")
    def call(sim: str, seq: int) -> JSONResponse:
        return JSONResponse(
            inspect_mod.ledger_call(library.store_folder(sim), sim, seq),
            headers={"Cache-Control": "no-store"},
        )

    @app.get("/api/sims/{sim}/events", summary="The event timeline")
    def events(sim: str) -> JSONResponse:
        return JSONResponse(
            inspect_mod.timeline(library.store_folder(sim)), headers={"Cache-Control": "no-store"}
        )

    @app.get("/api/sims/{sim}/cost", summary="Calls, tokens and dollars per task, model and game hour")
    def cost(sim: str) -> JSONResponse:
        return JSONResponse(
            cost_mod.cost_report(library.store_folder(sim)), headers={"Cache-Control": "no-store"}
        )

    @app.get("/api/sims/{sim}/eval/{file}", summary="A chart written by `aga eval`")
    def eval_file(sim: str, file: str) -> Response:
        folder = library.folder(sim) / "eval"
        charts = sorted(p.name for p in folder.glob("*.png")) if folder.is_dir() else []
        if file not in charts:  # only the listed names: no path is ever joined from the request
            raise NotFound(
                f"simulation {sim!r} has no eval chart {file!r}"
                + (f"; it has: {', '.join(charts)}" if charts else " (run `aga eval` first)")
            )
        return Response(
            (folder / file).read_bytes(), media_type="image/png", headers={"Cache-Control": "no-cache"}
        )

    @app.get(
        "/api/sims/{sim}/live", summary="Server-sent events: new steps, calls and events of a running sim"
    )
    async def live(sim: str, request: Request, since: int = Query(-1, ge=-1)) -> StreamingResponse:
        source = library.source(sim)
        folder = library.store_folder(sim)

        async def stream() -> AsyncIterator[bytes]:
            total = since
            calls = -1
            yield b"retry: 2000\n\n"
            while not await request.is_disconnected():
                info = await asyncio.to_thread(source.info)
                now_calls = await asyncio.to_thread(cost_mod.ledger_count, folder)
                if info.total != total or now_calls != calls:
                    total, calls = info.total, now_calls
                    data = json.dumps({"total": total, "calls": calls, "time": time.time()})
                    yield f"event: step\ndata: {data}\n\n".encode()
                else:
                    yield b": idle\n\n"
                await asyncio.sleep(LIVE_POLL)

        return StreamingResponse(
            stream(),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    return app


class ReplayServer:
    """The viewer's app on a bound socket, served by uvicorn (``serve_forever`` blocks).

    Attributes:
        library: the storage folder's simulations.
        server_address: ``(host, port)`` actually bound (port 0 picks a free one).
    """

    def __init__(
        self,
        storage: Path,
        host: str = "127.0.0.1",
        port: int = 8000,
        *,
        verbose: bool = False,
        interview_llm: str | None = None,
    ) -> None:
        import uvicorn

        self.app = build_app(storage, interview_llm=interview_llm)
        self.library: Library = self.app.state.library
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._sock = socket.socket(family, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self._sock.bind((host, port))
            self._sock.listen(128)
        except OSError as err:
            self._sock.close()
            raise InputError(
                f"cannot listen on {host}:{port}: {err.strerror or err}; pick another --port or --host"
            ) from None
        self.server_address = self._sock.getsockname()[:2]
        config = uvicorn.Config(
            self.app,
            log_level="info" if verbose else "warning",
            access_log=verbose,
            lifespan="off",
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._done = threading.Event()

    @property
    def url(self) -> str:
        """The base URL, e.g. ``http://127.0.0.1:8000``."""
        host, port = self.server_address
        return f"http://{host}:{port}"

    def serve_forever(self, poll_interval: float = 0.5) -> None:
        """Serve until :meth:`shutdown` (or Ctrl+C, which raises KeyboardInterrupt here)."""
        del poll_interval  # uvicorn has its own loop; kept for the socketserver-like signature
        try:
            self._server.run(sockets=[self._sock])
        finally:
            self._done.set()

    def shutdown(self) -> None:
        """Ask the server to stop and wait (a few seconds at most) until it has."""
        self._server.should_exit = True
        self._done.wait(5)

    def server_close(self) -> None:
        """Close the listening socket."""
        self._sock.close()


def make_server(
    storage: Path,
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    verbose: bool = False,
    interview_llm: str | None = None,
) -> ReplayServer:
    """A bound (not yet serving) :class:`ReplayServer`; port 0 picks a free port.

    Raises:
        InputError: the storage folder is not a folder, or the address cannot be bound.
    """
    if not storage.is_dir():
        what = "is not a folder" if storage.exists() else "does not exist"
        raise InputError(f"storage folder {storage} {what}; pass --storage or set AGA_STORAGE")
    return ReplayServer(storage, host, port, verbose=verbose, interview_llm=interview_llm)
