"""The dashboard's own health and figures: ``/healthz``, ``/readyz`` and ``/metrics`` on its web server
(cityops/probe.py says what each answers), request and callback latency, errors, active sessions, and
the heartbeat of each worker.

Under gunicorn each worker is a process of its own: with ``PROMETHEUS_MULTIPROC_DIR`` set (the gunicorn
config sets it) the figures of every worker are summed at each scrape, whichever worker answers it.
Active sessions are counted in the database (``users.last_seen_at``), so two workers count one user once.
"""

from __future__ import annotations

import hmac
import os
import socket
import struct
import time
from collections.abc import Iterator
from datetime import timedelta

import dash
import flask
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from cityops.heartbeat import Heartbeat
from cityops.probe import HEALTH_PATHS, Readiness, answer
from dashboard.context import EXTENSION, READ_EXTENSION
from dashboard.data import Data

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
METRICS_TOKEN_ENV = "CITYOPS_METRICS_TOKEN"  # when set, /metrics wants "Authorization: Bearer <it>"
LOOPBACK = frozenset({"127.0.0.1", "::1"})
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

# One set per process (the pages' callbacks are process-wide too); an app made twice in one process (tests)
# shares them.
_METRICS = CollectorRegistry(auto_describe=True)
REQUEST_SECONDS = Histogram("cityops_dashboard_request_seconds", "time to answer a request, by kind",
                            ["kind"], buckets=LATENCY_BUCKETS, registry=_METRICS)
CALLBACK_SECONDS = Histogram("cityops_dashboard_callback_seconds", "time to answer a callback, by its output",
                             ["callback"], buckets=LATENCY_BUCKETS, registry=_METRICS)
# The thread's CPU, not the wall clock: what answering cost the server (gthread: one request, one thread).
CALLBACK_CPU = Counter("cityops_dashboard_callback_cpu_seconds", "server CPU spent answering callbacks, by output",
                       ["callback"], registry=_METRICS)
CALLBACK_BYTES = Counter("cityops_dashboard_callback_bytes", "bytes of callback replies, by output", ["callback"],
                         registry=_METRICS)
ERRORS = Counter("cityops_dashboard_errors", "replies with a server error (5xx), by kind", ["kind"],
                 registry=_METRICS)

_STARTED = "cityops_request_started"
_STARTED_CPU = "cityops_request_started_cpu"


def request_kind(path: str) -> str:
    if path == "/_dash-update-component":
        return "callback"
    if path.startswith(("/_dash-", "/assets/", "/_favicon")):
        return "asset"
    if path in HEALTH_PATHS:
        return "probe"
    return "page"


class ActiveSessions(Collector):
    """Users seen within the idle timeout, read from the database at each scrape."""

    def __init__(self, data: Data, idle: timedelta) -> None:
        self._data = data
        self._idle = idle

    def collect(self) -> Iterator[GaugeMetricFamily]:
        gauge = GaugeMetricFamily("cityops_dashboard_active_sessions",
                                  "users with a request within the session idle timeout")
        gauge.add_metric([], active_sessions(self._data, self._idle))
        yield gauge


def active_sessions(data: Data, idle: timedelta) -> int:
    with data.pool.connection() as conn:
        row = conn.execute("SELECT count(*) FROM users WHERE last_seen_at > now() - %s", (idle,)).fetchone()
    return int(row[0]) if row else 0


def scrape_registry(data: Data, idle: timedelta) -> CollectorRegistry:
    """Every worker's figures (multiprocess) or this process's, plus the active sessions."""
    registry = CollectorRegistry(auto_describe=True)
    if os.environ.get(MULTIPROC_ENV):
        MultiProcessCollector(registry)
    else:
        registry.register(_MetricsOfThisProcess())
    registry.register(ActiveSessions(data, idle))
    return registry


class _MetricsOfThisProcess(Collector):
    """This process's figures, in a scrape registry of their own beside the active sessions."""

    def collect(self) -> Iterator[Metric]:
        yield from _METRICS.collect()


def _reachable(data: Data) -> bool:
    try:
        with data.pool.connection(timeout=2.0) as conn:
            conn.execute("SELECT 1")
        return True
    except Exception:  # any failure to get or use a connection: not ready
        return False


def readiness(data: Data, replica: Data | None = None) -> Readiness:
    """The database reachable, and the read replica when the dashboard has one."""
    checks = {"database": _reachable(data)} | ({"read_replica": _reachable(replica)} if replica else {})
    return Readiness(checks, {"pid": os.getpid()})


def _metrics_allowed(request: flask.Request) -> bool:
    token = os.environ.get(METRICS_TOKEN_ENV)
    if token:
        sent = request.headers.get("Authorization", "")
        return hmac.compare_digest(sent, f"Bearer {token}")
    return request.remote_addr in LOOPBACK  # no token configured: only this machine scrapes


def register(app: dash.Dash, data: Data, idle: timedelta) -> None:
    server = app.server

    def probe_view(path: str) -> flask.Response:
        if path == "/metrics" and not _metrics_allowed(flask.request):
            return flask.Response("metrics: set CITYOPS_METRICS_TOKEN or scrape from this machine\n", status=403,
                                  mimetype="text/plain")
        # Only /metrics reads the workers' files: a worker booting has created its file but not yet written
        # its header, which prometheus_client cannot read (struct.error). A probe must never trip on that.
        try:
            registry = scrape_registry(data, idle) if path == "/metrics" else CollectorRegistry()
            reply = answer(path, lambda: readiness(data, server.extensions.get(READ_EXTENSION)), registry)
        except struct.error:
            return flask.Response("metrics: a worker is starting; scrape again\n", status=503, mimetype="text/plain")
        response = flask.Response(reply.body, status=reply.status, content_type=reply.content_type)
        response.cache_control.no_store = True
        return response

    for path in HEALTH_PATHS:
        server.add_url_rule(path, f"probe_{path.strip('/')}", lambda path=path: probe_view(path))

    @server.before_request
    def _start_clock() -> None:
        flask.g.setdefault(_STARTED, time.perf_counter())
        flask.g.setdefault(_STARTED_CPU, time.thread_time())

    @server.after_request
    def _observe(response: flask.Response) -> flask.Response:
        started = flask.g.get(_STARTED)
        if started is None:
            return response
        elapsed = time.perf_counter() - started
        kind = request_kind(flask.request.path)
        REQUEST_SECONDS.labels(kind).observe(elapsed)
        if response.status_code >= 500:
            ERRORS.labels(kind).inc()
        if kind == "callback":
            body = flask.request.get_json(silent=True)
            output = body.get("output") if isinstance(body, dict) else None
            # Only the app's own callbacks are labels: a crafted body cannot grow the metric without bound.
            label = output if isinstance(output, str) and output in app.callback_map else "unknown"
            CALLBACK_SECONDS.labels(label).observe(elapsed)
            CALLBACK_CPU.labels(label).inc(time.thread_time() - flask.g.get(_STARTED_CPU, time.thread_time()))
            if not response.is_streamed:
                CALLBACK_BYTES.labels(label).inc(response.calculate_content_length() or 0)
        return response


def start_heartbeat(app: dash.Dash, dsn: str) -> Heartbeat:
    """This worker's row on the admin page's process list (one per gunicorn worker)."""
    data, replica = app.server.extensions[EXTENSION], app.server.extensions.get(READ_EXTENSION)
    return Heartbeat(dsn, "dashboard", f"{socket.gethostname()}:{os.getpid()}",
                     lambda: readiness(data, replica)).start()
