"""The explorer's local web server: one page, its two static files, and a small JSON API.

Python's own ``http.server`` (threads: two tabs, or a tab polling a run while another edits, are
served at once). Why no web framework: docs/DESIGN-NOTES.md, "The explorer: a plain server".

Routes (nothing else is served; no route takes a file name):

========================  ====================================================================
``GET /``                 the page (``static/page.html``), ``/app.js`` and ``/app.css``
``GET /api/form``         the inputs, the unchanged scenario's preview, observed figures
``POST /api/check``       ``{"values": …}`` → changes, problems (as ``bordersim validate``), preview
``POST /api/run``         ``{"values": …, "replications": N}`` → a run's id and progress
``GET /api/job/ID``       a run's progress, then its answer
``POST /api/scenario``    ``{"values": …}`` → the edited scenario as a YAML download
``POST /api/keep``        ``{"values": …}`` → the edited scenario written beside the original
``GET /api/results/ID``   a finished run's results folder as a zip download
========================  ====================================================================
"""
from __future__ import annotations

import json
import re
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.resources import files
from typing import Any

from sim.explorer.app import ExplorerApp, RequestError

MAX_BODY_BYTES = 1 << 20
DRAIN_BYTES = 16 << 20
STATIC = {"/": ("page.html", "text/html; charset=utf-8"), "/app.js": ("app.js", "text/javascript; charset=utf-8"),
          "/app.css": ("app.css", "text/css; charset=utf-8")}
JOB_ROUTE = re.compile(r"^/api/(job|results)/(run\d{1,9})$")


def _static(name: str) -> bytes:
    return (files("sim.explorer") / "static" / name).read_bytes()


def make_handler(app: ExplorerApp) -> type[BaseHTTPRequestHandler]:
    """The request handler class serving ``app``."""

    class Handler(BaseHTTPRequestHandler):
        server_version = "bordersim-explore"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(self, status: int, body: bytes, content_type: str, download: str | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            if download:
                self.send_header("Content-Disposition", f'attachment; filename="{download}"')
            self.end_headers()
            self.wfile.write(body)

        def _json(self, value: Any, status: int = HTTPStatus.OK) -> None:
            self._send(status, json.dumps(value).encode("utf-8"), "application/json")

        def _answer(self, work) -> None:
            try:
                work()
            except RequestError as error:
                self._json({"error": str(error)}, HTTPStatus.BAD_REQUEST)
            except Exception as error:  # noqa: BLE001 - one line on the page; the app keeps serving
                self._json({"error": f"internal error: {type(error).__name__}: {error}"},
                           HTTPStatus.INTERNAL_SERVER_ERROR)

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path in STATIC:
                name, content_type = STATIC[path]
                self._send(HTTPStatus.OK, _static(name), content_type)
            elif path == "/api/form":
                self._answer(lambda: self._json(app.form()))
            elif match := JOB_ROUTE.match(path):
                kind, job_id = match.groups()
                if kind == "job":
                    self._answer(lambda: self._json(app.job(job_id)))
                else:
                    self._answer(lambda: self._send(HTTPStatus.OK, *_zip(app.results_zip(job_id))))
            else:
                self._json({"error": f"no page {path}"}, HTTPStatus.NOT_FOUND)

        def do_POST(self) -> None:
            routes = {"/api/check": self._check, "/api/run": self._run, "/api/scenario": self._scenario,
                      "/api/keep": self._keep}
            route = routes.get(self.path)
            if route is None:
                self._json({"error": f"no page {self.path}"}, HTTPStatus.NOT_FOUND)
                return
            self._answer(lambda: route(self._body()))

        def _body(self) -> dict[str, Any]:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY_BYTES:
                # Read what was sent (up to a bound) before answering, so the client sees the answer
                # rather than a connection reset while it is still sending.
                remaining = min(length, DRAIN_BYTES)
                while remaining > 0 and (chunk := self.rfile.read(min(remaining, 65536))):
                    remaining -= len(chunk)
                self.close_connection = True
            if not 0 < length <= MAX_BODY_BYTES:
                raise RequestError(f"a request body of 1 byte to {MAX_BODY_BYTES} bytes is expected")
            try:
                body = json.loads(self.rfile.read(length).decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as error:
                raise RequestError(f"the request is not JSON: {error}") from None
            if not isinstance(body, dict):
                raise RequestError("the request must be a JSON object")
            return body

        def _check(self, body: dict[str, Any]) -> None:
            self._json(app.check(body))

        def _run(self, body: dict[str, Any]) -> None:
            self._json(app.run(body))

        def _scenario(self, body: dict[str, Any]) -> None:
            name, text = app.scenario_yaml(body)
            self._send(HTTPStatus.OK, text.encode("utf-8"), "application/yaml; charset=utf-8", download=name)

        def _keep(self, body: dict[str, Any]) -> None:
            self._json(app.keep(body))

    return Handler


def _zip(named: tuple[str, bytes]) -> tuple[bytes, str, str]:
    name, data = named
    return data, "application/zip", name


def make_server(app: ExplorerApp, host: str = "127.0.0.1", port: int = 8765) -> ThreadingHTTPServer:
    """A server bound to ``host:port`` (port 0: any free port); ``serve_forever()`` starts it."""
    server = ThreadingHTTPServer((host, port), make_handler(app))
    server.daemon_threads = True
    return server
