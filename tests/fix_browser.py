"""Fixtures for the dashboard tests: its database, the app in-process, the app as a real
process, and headless Chromium driven by Playwright.

Load with ``pytest_plugins = ["tests.fix_browser"]`` (or from conftest.py). Test modules
get the helpers through fixtures, never by importing this module, so it works either
way. Nothing here skips: a missing Chromium, font or server fails the test that needs it.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextvars import copy_context
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dash
import flask
import psycopg
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Request, sync_playwright

from cityops.localserver import free_port
from cityops.settings import PROJECT_ROOT
from tests.fix_system import new_database

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--enable-unsafe-swiftshader",
                 "--disable-background-networking", "--disable-component-update", "--no-first-run",
                 "--disable-sync"]
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def demo_database(server_dsn: str) -> str:
    """A fresh database with the 郴州 demo layers and the demo users (no incidents)."""
    from dashboard.auth import seed_demo_users
    from layers.loader import load_demo_layers

    dsn = new_database(server_dsn)
    load_demo_layers(dsn)
    with psycopg.connect(dsn) as conn:
        seed_demo_users(conn)
    return dsn


@pytest.fixture(scope="session")
def demo_db(pg_dsn: str) -> Callable[[], str]:
    """Factory of fresh demo databases on the session's server."""
    return lambda: demo_database(pg_dsn)


@pytest.fixture(scope="session")
def dashboard_dsn(pg_dsn: str) -> str:
    """The database of the in-process dashboard tests, shared by their modules."""
    return demo_database(pg_dsn)


@pytest.fixture(scope="session")
def dash_app(dashboard_dsn: str) -> Iterator[dash.Dash]:
    """One app per test session: Dash pages register their callbacks process-wide."""
    from dashboard.app import create_app
    from dashboard.context import EXTENSION

    app = create_app(dashboard_dsn, secret_key="test-secret-key")
    yield app
    app.server.extensions[EXTENSION].close()


LoggedIn = Callable[..., contextlib.AbstractContextManager[None]]


@pytest.fixture(scope="session")
def logged_in(dash_app: dash.Dash) -> LoggedIn:
    """``with logged_in("zhihui"):`` runs callbacks as that user (None: nobody) inside a request."""
    from alerts.lifecycle import Role
    from dashboard import auth
    from dashboard.context import get_data
    from i18n.timefmt import utcnow
    from store.users import get_user

    @contextlib.contextmanager
    def as_user(username: str | None, lang: str = "zh") -> Iterator[None]:
        with dash_app.server.test_request_context("/_dash-update-component", method="POST"):
            flask.session["lang"] = lang
            if username is not None:
                with get_data().pool.connection() as conn:
                    record = get_user(conn, username)
                assert record is not None, f"no such test user {username}"
                auth.login_session(auth.SessionUser(record.username, record.display_name, Role(record.role),
                                                    record.township_code), utcnow())
            yield

    return as_user


class DashCalls:
    """Call Dash callbacks directly as Dash would, and read what they return."""

    @staticmethod
    def text_of(component: Any) -> str:
        """A component tree (or figure, or tuple of them) as JSON text with Chinese left readable."""
        from plotly.io.json import to_json_plotly

        return json.dumps(json.loads(to_json_plotly(component)), ensure_ascii=False, separators=(",", ":"))

    @staticmethod
    def triggered_by(func: Callable[..., Any], prop_id: str, value: Any, *args: Any,
                     states_list: list[Any] | None = None) -> Any:
        """``func(*args)`` as if ``prop_id`` (``"id.prop"`` or a JSON id + ``".prop"``) had just changed."""
        from dash._callback_context import context_value
        from dash._utils import AttributeDict

        def run() -> Any:
            context_value.set(AttributeDict(triggered_inputs=[{"prop_id": prop_id, "value": value}],
                                            states_list=states_list or []))
            return func(*args)
        return copy_context().run(run)

    def clicked(self, func: Callable[..., Any], button: dict[str, Any], *args: Any) -> Any:
        """A pattern-matching button ``{"type": ..., "index": ...}`` was clicked once."""
        prop_id = json.dumps(button, sort_keys=True, separators=(",", ":")) + ".n_clicks"
        return self.triggered_by(func, prop_id, 1, *args)

    def find(self, component: Any, component_id: Any) -> Any:
        """The component with ``component_id`` inside a layout, or None."""
        if getattr(component, "id", None) == component_id:
            return component
        children = getattr(component, "children", None)
        for child in children if isinstance(children, list | tuple) else [children]:
            if child is not None and not isinstance(child, str | int | float):
                found = self.find(child, component_id)
                if found is not None:
                    return found
        return None


@pytest.fixture(scope="session")
def dash_calls() -> DashCalls:
    return DashCalls()


class DashboardProcess:
    """``python -m dashboard`` as a real child process on a free loopback port."""

    def __init__(self, dsn: str, log_path: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        with log_path.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "dashboard", "--dsn", dsn, "--port", str(self.port),
                 "--secret-key", "browser-test-secret"],
                cwd=PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"dashboard exited with {self.proc.returncode}:\n{self.log()}")
            try:
                with urllib.request.urlopen(f"{self.url}/login", timeout=2) as resp:
                    if resp.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                time.sleep(0.2)
        raise RuntimeError(f"dashboard not answering on {self.url} after {timeout:.0f} s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture(scope="session")
def dashboard_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], DashboardProcess]]:
    """Factory: start the dashboard on a database and wait until it answers; all are stopped at the end."""
    started: list[DashboardProcess] = []

    def start(dsn: str) -> DashboardProcess:
        server = DashboardProcess(dsn, tmp_path_factory.mktemp("dashboard") / "dashboard.log")
        started.append(server)
        server.wait_ready()
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} missing: apt-get install chromium (browser tests never skip)")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


class PageWatch:
    """Everything a page did that a test must see: console errors, page errors, outside requests."""

    def __init__(self, page: Page) -> None:
        self.errors: list[str] = []
        self.outside: list[str] = []
        self.requests: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        page.on("request", self._request)

    def _console(self, msg: ConsoleMessage) -> None:
        if msg.type == "error":
            self.errors.append(f"{msg.text} @ {msg.location.get('url', '')}")

    def _request(self, req: Request) -> None:
        self.requests.append(req.url)
        parts = urlsplit(req.url)
        if parts.scheme in ("http", "https", "ws", "wss") and parts.hostname not in LOOPBACK_HOSTS:
            self.outside.append(req.url)


@pytest.fixture
def page_watch() -> type[PageWatch]:
    return PageWatch
