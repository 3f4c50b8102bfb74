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
from contextvars import ContextVar, copy_context
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dash
import flask
import psycopg
import pytest
from flask.testing import FlaskClient
from playwright.sync_api import Browser, ConsoleMessage, Page, Request, sync_playwright

from cityops.localserver import free_port
from cityops.processes import stop as stop_process
from cityops.settings import PROJECT_ROOT
from tests.fix_db import AsRole
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
def dash_app(dashboard_dsn: str, as_role: AsRole) -> Iterator[dash.Dash]:
    """One app per test session (Dash pages register their callbacks process-wide), connected as the
    dashboard's own database role."""
    from dashboard.app import create_app
    from dashboard.context import EXTENSION

    app = create_app(as_role(dashboard_dsn, "dashboard"), secret_key="test-secret-key")
    yield app
    app.server.extensions[EXTENSION].close()


LoggedIn = Callable[..., contextlib.AbstractContextManager[None]]
# The browser of ``logged_in``'s user: a test client holding the same session, and the CSRF header it sends.
_BROWSER: ContextVar[tuple[FlaskClient, dict[str, str]]] = ContextVar("dashboard_test_browser")


@contextlib.contextmanager
def user_session(app: dash.Dash, username: str | None, lang: str = "zh") -> Iterator[None]:
    """Page functions of ``app`` run as ``username`` (None: nobody) inside a request, and ``DashCalls`` get a
    browser session of the same user."""
    from dashboard import auth
    from dashboard.context import get_data
    from i18n.timefmt import utcnow
    from store.users import get_user

    client = app.server.test_client()
    with app.server.test_request_context("/_dash-update-component", method="POST"):
        flask.session["lang"] = lang
        if username is not None:
            with get_data().pool.connection() as conn:
                record = get_user(conn, username)
            assert record is not None, f"no such test user {username}"
            auth.login_session(auth.session_user_of(record), utcnow())
        with client.session_transaction() as cookie:
            cookie.update(flask.session)
        csrf = flask.session.get("csrf")
        token = _BROWSER.set((client, {auth.CSRF_HEADER: csrf} if csrf else {}))
        try:
            yield
        finally:
            _BROWSER.reset(token)


@pytest.fixture(scope="session")
def logged_in(dash_app: dash.Dash) -> LoggedIn:
    """``with logged_in("zhihui"):``: ``user_session`` of the session's app."""
    return lambda username, lang="zh": user_session(dash_app, username, lang)


class Sent(dict[str, Any]):
    """A JSON object of a callback's reply. It serialises as itself (``to_plotly_json``), as the component or
    Patch it was made from did, so ``text_of`` and tests written for those read it the same way."""

    def to_plotly_json(self) -> dict[str, Any]:
        return dict(self)


def _parse_id(text: str) -> Any:
    """A component id as Dash writes it in callback specs and prop ids: a string, or JSON for a dict id."""
    return json.loads(text) if text.startswith("{") else text


def _matches(pattern: Any, component_id: Any) -> bool:
    """Whether a pattern-matching id (values ``["ALL"]`` as Dash serialises the wildcard) covers ``component_id``."""
    return (isinstance(component_id, dict) and component_id.keys() == pattern.keys()
            and all(want == ["ALL"] or want == component_id[key] for key, want in pattern.items()))


class DashCalls:
    """Run callbacks as a browser does, and read what they send back and what layouts hold.

    Dash sets ``dash.ctx`` (which input changed) only while it serves ``/_dash-update-component``,
    so a callback that reads it is posted there, in the session of ``logged_in``'s user.
    """

    def __init__(self, app: dash.Dash) -> None:
        self.app = app

    @staticmethod
    def text_of(component: Any) -> str:
        """A component tree (or figure, or tuple of them) as JSON text with Chinese left readable."""
        from plotly.io.json import to_json_plotly

        return json.dumps(json.loads(to_json_plotly(component)), ensure_ascii=False, separators=(",", ":"))

    def _spec(self, func: Callable[..., Any]) -> tuple[str, dict[str, Any]]:
        """The callback id and the app's record of the callback ``func`` is (Dash keeps ``func`` as ``__wrapped__``)."""
        for key, spec in self.app.callback_map.items():
            if getattr(spec.get("callback"), "__wrapped__", None) is func:
                return key, spec
        raise LookupError(f"{func.__qualname__} is not a callback of this app")

    def triggered_by(self, func: Callable[..., Any], prop_id: str, value: Any, *args: Any,
                     matched: list[dict[str, Any]] | None = None) -> Any:
        """``func``'s reply when ``prop_id`` (``"id.prop"`` or a JSON id + ``".prop"``) has just become ``value``.

        ``args`` are the values of its inputs and states, as ``func`` takes them. A pattern-matching (ALL)
        dependency is sent the changed component and the ``matched`` ones (``{"id", "property", "value"}``)
        that it covers; their values must be the ones in ``args``. The reply comes back in ``func``'s shape
        (one value, a tuple, a dict), ``dash.no_update`` for what was not sent. A callback that prevented
        the update raises PreventUpdate; a request the server refused, PermissionError with its words.
        """
        from dash.exceptions import PreventUpdate

        client, headers = _BROWSER.get()
        key, spec = self._spec(func)
        changed_id, _, changed_prop = prop_id.rpartition(".")
        around = [{"id": _parse_id(changed_id), "property": changed_prop, "value": value}, *(matched or [])]
        deps = spec["inputs"] + spec["state"]
        values: list[Any] = [None] * len(deps)
        order = spec["inputs_state_indices"]  # where each argument of ``func`` is among the dependencies
        for arg, index in zip(args, [order] if isinstance(order, int) else order, strict=True):
            values[index] = arg

        def sent(dep: dict[str, Any], arg: Any) -> Any:
            pattern = _parse_id(dep["id"])
            if not isinstance(pattern, dict) or ["ALL"] not in pattern.values():
                return {"id": pattern, "property": dep["property"], "value": arg}
            found = [c for c in around if c["property"] == dep["property"] and _matches(pattern, c["id"])]
            assert [c["value"] for c in found] == arg, f"{dep} is sent {found}, not {arg}"
            return found

        multi = key.startswith("..")
        outputs = [{"id": _parse_id(i), "property": p}
                   for i, p in (part.rsplit(".", 1) for part in (key[2:-2].split("...") if multi else [key]))]
        entries = [sent(d, v) for d, v in zip(deps, values, strict=True)]
        body = {"output": key, "outputs": outputs if multi else outputs[0], "changedPropIds": [prop_id],
                "inputs": entries[:len(spec["inputs"])], "state": entries[len(spec["inputs"]):]}
        reply = copy_context().run(client.post, "/_dash-update-component", json=body, headers=headers)
        if reply.status_code == 204:
            raise PreventUpdate
        if reply.status_code in (401, 403):
            raise PermissionError(reply.text)
        assert reply.status_code == 200, reply.text
        response = json.loads(reply.data, object_hook=Sent)["response"]
        flat = [response.get(dash.stringify_id(o["id"]), {}).get(o["property"].split("@")[0], dash.no_update)
                for o in outputs]
        shape = spec["outputs_indices"]  # the outputs' grouping, by index into the flat list
        if isinstance(shape, dict):
            return {name: flat[index] for name, index in shape.items()}
        return tuple(flat[index] for index in shape) if isinstance(shape, list) else flat[shape]

    def clicked(self, func: Callable[..., Any], button: dict[str, Any], *args: Any,
                matched: list[dict[str, Any]] | None = None) -> Any:
        """A pattern-matching button ``{"type": ..., "index": ...}`` was clicked once."""
        return self.triggered_by(func, f"{dash.stringify_id(button)}.n_clicks", 1, *args, matched=matched)

    def told(self, func: Callable[..., Any], button: dict[str, Any], *args: Any) -> str:
        """What a click on ``button`` tells the user: the text of the reply's first output, or the server's
        words when it refused the request (nobody logged in: the gate answers before any callback runs)."""
        try:
            return self.text_of(self.clicked(func, button, *args)[0])
        except PermissionError as refused:
            return str(refused)

    @staticmethod
    def _props(component: Any) -> dict[str, Any]:
        """The id and children of a component, or of one in a reply (JSON)."""
        if isinstance(component, dict):
            props: dict[str, Any] = component.get("props", {}) if "namespace" in component else {}
            return props
        return {"id": getattr(component, "id", None), "children": getattr(component, "children", None)}

    def find(self, component: Any, component_id: Any) -> Any:
        """The component with ``component_id`` inside a layout or a reply (or a list of them), or None."""
        if isinstance(component, list | tuple):
            children: Any = component
        else:
            props = self._props(component)
            if props.get("id") == component_id:
                return component
            children = props.get("children")
        for child in children if isinstance(children, list | tuple) else [children]:
            if child is not None and not isinstance(child, str | int | float):
                found = self.find(child, component_id)
                if found is not None:
                    return found
        return None

    def part(self, component: Any, component_id: Any) -> str:
        """The text of the component with ``component_id`` inside ``component``, which must hold it."""
        found = self.find(component, component_id)
        assert found is not None, f"no {component_id} in what was drawn"
        return self.text_of(found)


@pytest.fixture(scope="session")
def dash_calls(dash_app: dash.Dash) -> DashCalls:
    # Dash hands the pages' callbacks to the app at its first request: make one, so they can be looked up.
    dash_app.server.test_client().get("/login")
    return DashCalls(dash_app)


class DashboardProcess:
    """The dashboard as production runs it: gunicorn with two workers (``dashboard/gunicorn_conf.py``), as a
    real child process on a free loopback port, so every browser test also crosses workers."""

    def __init__(self, dsn: str, log_path: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        env = dict(os.environ, PYTHONUNBUFFERED="1", CITYOPS_DEMO="1",  # the demo accounts sign in
                   CITYOPS_DASHBOARD_DATABASE_URL=dsn, CITYOPS_DASH_HOST="127.0.0.1", CITYOPS_DASH_PORT=str(self.port),
                   CITYOPS_DASH_WORKERS="2", CITYOPS_SECRET_KEY="browser-test-secret",
                   CITYOPS_RUN_DIR=str(log_path.parent))  # the workers' metrics folder
        with log_path.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-c", "python:dashboard.gunicorn_conf", "dashboard.wsgi:server"],
                cwd=PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout: float = 90.0, workers: int = 2) -> None:
        """Until the login page answers and ``workers`` distinct workers have said they are ready (a test's
        first pages must not wait on a worker still importing the app)."""
        deadline = time.monotonic() + timeout
        seen: set[int] = set()
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"dashboard exited with {self.proc.returncode}:\n{self.log()}")
            try:
                with urllib.request.urlopen(f"{self.url}/readyz", timeout=2) as resp:
                    seen.add(int(json.loads(resp.read())["pid"]))
                with urllib.request.urlopen(f"{self.url}/login", timeout=5) as resp:
                    if resp.status == 200 and len(seen) >= workers:
                        return
            except (urllib.error.URLError, OSError):
                time.sleep(0.2)
        raise RuntimeError(f"dashboard not answering on {self.url} ({len(seen)} of {workers} workers seen)"
                           f" after {timeout:.0f} s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        stop_process(self.proc)


@pytest.fixture(scope="session")
def dashboard_process(tmp_path_factory: pytest.TempPathFactory, as_role: AsRole,
                      ) -> Iterator[Callable[[str], DashboardProcess]]:
    """Factory: start the dashboard on a database (as its own role) and wait until it answers; all are
    stopped at the end."""
    started: list[DashboardProcess] = []

    def start(dsn: str) -> DashboardProcess:
        server = DashboardProcess(as_role(dsn, "dashboard"), tmp_path_factory.mktemp("dashboard") / "dashboard.log")
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
