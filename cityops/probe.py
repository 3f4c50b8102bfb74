"""What a long-running process answers about itself over HTTP: ``/healthz`` (the process is alive and
serving), ``/readyz`` (its dependencies are reachable: 200 when every check passes, 503 otherwise, with the
checks and what the component measures of itself as JSON) and ``/metrics`` (Prometheus text).

The dashboard answers the three on its own web server (dashboard/observe.py); ingest workers and alert
engines, which have none, serve them with ``serve`` on a port of their own.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

log = logging.getLogger("cityops.probe")

HEALTH_PATHS = ("/healthz", "/readyz", "/metrics")


@dataclass(frozen=True, slots=True)
class Readiness:
    checks: Mapping[str, bool]  # each dependency (database, broker …): reachable now?
    detail: Mapping[str, Any] = field(default_factory=dict)  # e.g. leader, lag_s, buffered

    @property
    def ready(self) -> bool:
        return all(self.checks.values())

    def as_json(self) -> dict[str, Any]:
        return {"ready": self.ready, "checks": dict(self.checks), **self.detail}


Probe = Callable[[], Readiness]


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    content_type: str
    body: bytes


def _json(status: int, value: Mapping[str, Any]) -> Answer:
    return Answer(status, "application/json", json.dumps(value, ensure_ascii=False, default=str).encode())


def answer(path: str, probe: Probe, registry: CollectorRegistry) -> Answer:
    """The reply to one of ``HEALTH_PATHS`` (404 for anything else). A probe that raises is not ready."""
    if path == "/healthz":
        return _json(200, {"alive": True})
    if path == "/readyz":
        try:
            readiness = probe()
        except Exception as exc:  # the probe itself failing is the answer: not ready, and why
            log.warning("readiness probe failed: %s", exc)
            return _json(503, {"ready": False, "error": str(exc)})
        return _json(200 if readiness.ready else 503, readiness.as_json())
    if path == "/metrics":
        return Answer(200, CONTENT_TYPE_LATEST, generate_latest(registry))
    return _json(404, {"error": f"no such endpoint {path}: {', '.join(HEALTH_PATHS)}"})


def serve(port: int, probe: Probe, registry: CollectorRegistry, host: str = "127.0.0.1") -> ThreadingHTTPServer:
    """Serve the three endpoints on ``host:port`` from a daemon thread; returns the server (``.shutdown()``
    stops it, ``.server_address`` says the port when 0 was asked)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            reply = answer(self.path.split("?", 1)[0], probe, registry)
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(reply.body)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # a scrape every few seconds is not news

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="probe-http", daemon=True).start()
    log.info("health and metrics on http://%s:%d (%s)", host, server.server_address[1], ", ".join(HEALTH_PATHS))
    return server
