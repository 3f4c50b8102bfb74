"""Everyone on shift at once (issue 19): every township desk, big screen and command seat on one dashboard.

    .venv/bin/python bench/bench_shift.py                                  # 10 minutes on each server
    .venv/bin/python bench/bench_shift.py --minutes 2 --servers gunicorn   # a short run on up's server

It starts ``python -m cityops up`` (simulator, simulated staff, both alert engines, gunicorn ×2) in a run
folder of its own on free ports (``isolated_up_env``), waits until every process says it is ready, then logs
in one user per session over the real login form (GET /login for its CSRF field, POST /login; callbacks carry
the ``X-CSRFToken`` header from the cookie, as dash-renderer does). Townships use the demo's ``zj<code>``
accounts; command and leader seats beyond ``zhihui``/``lingdao`` are created through ``store.users.create_user``
with a werkzeug hash and an ``account_created`` audit row, as the admin page's ``change.create`` writes them
(but without "change the password at first login", which would send the seat to /account).

The load runs in separate processes (multiprocessing), one thread per session, each session an HTTP client
that behaves as dash-renderer does: GET the page, /_dash-layout and /_dash-dependencies, POST the pages
router callback (``_pages_content.children``) for the page's layout, keep every component's props from that
layout and from each reply (a ``Patch`` is not applied: no callback reads a figure back as State), and
fire the page's callbacks as the browser would, with ``output``/``outputs``/``inputs``/``state``/
``changedPropIds`` built from the declared dependencies (pattern-matching ``ALL`` inputs as lists of the
matching components):

- township desks (/township): every callback driven by an Interval on the page (the queue and 政令 in one, the
  response level), at the Interval's own period;
- big screens (/): the refresh callback on ``overview-tick``; its ``overview-marker`` store travels back
  and forth, so the Patch/fingerprint protocol is the browser's; plus one screen opened fresh every 30 s
  (it polls until the next one opens); plus ``--browsers`` real headless Chromium big screens (Playwright);
- command seats (/command) poll their Interval callbacks; leader seats (/leader), which have no Interval,
  re-open the page and fire its filter-driven callbacks every 30 s.

Half-way a gas leak is injected (``python -m simulator inject gas_leak``); the first warning it opens is
looked up in ``warnings`` and every screen open at that moment reports when ``warning-<id>`` first showed
on it (HTTP screens: in a reply; Chromium: in the DOM, polled every 100 ms), measured from the warning's
``opened_at``. At the end: per callback calls, errors, p50/p95 ms and bytes; per process of the system CPU
seconds and RSS at start and end; the load generator's own CPU; each target of the issue with its ratio.
The shift runs on each server of ``--servers`` in turn, on the same running system: up's gunicorn (two
gthread workers), then Flask's threaded Werkzeug server (``python -m dashboard`` on a port of its own), so
the figures say what a city should run. On gunicorn one worker is killed (SIGKILL) at three quarters of the
run: the sessions must carry on through the other worker without logging in again (signed-cookie sessions)
and every open screen must refresh again; what the killed worker held fails and is counted apart. A request
on a kept-alive connection that the server had just closed is sent again once, as a browser does, and
counted. The server's side comes from the dashboard's /metrics: calls, CPU and wall time per callback.
The first ``--warmup`` seconds (every session logging in over RAMP seconds and opening its page) are reported
apart; the targets are judged on the shift at work after them.
Not a test: CI never runs it. The isolated ``up`` is stopped (its process group) at the end and on Ctrl-C.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import queue
import random
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cityops import settings
from cityops.localserver import free_port, isolated_up_env
from cityops.processes import TICKS, rss_and_cpu
from cityops.processes import stop as stop_process
from cityops.settings import PROJECT_ROOT

PROBES = {"cityops-ingest-1": 1, "cityops-ingest-2": 2, "alerts-1": 11, "alerts-2": 12}
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--enable-unsafe-swiftshader",
                 "--disable-background-networking", "--disable-component-update", "--no-first-run",
                 "--disable-sync"]
SEAT_PASSWORD = "shift-seat-2026"
FRESH_EVERY = 30.0  # s: a fresh big screen opens this often
RAMP = 20.0  # s: the sessions log in spread over this long (a shift arriving, not one instant)
LEADER_EVERY = 30.0  # s: a leader seat refreshes its page this often
TARGET_P95_MS = 300.0
TARGET_WARNING_S = 5.0
CLICK_PROPS = {"n_clicks", "clickData", "contents", "filename"}
WARNING_ID = re.compile(r'"warning-(\d+)"')
STALE = re.compile(r"RemoteDisconnected|ConnectionResetError|BrokenPipe|Connection aborted")


# ---------------------------------------------------------------- the system's processes


def processes(cfg: settings.Settings) -> dict[str, int]:
    with psycopg.connect(cfg.dsn()) as conn:
        return {f"{c}:{p}": pid for c, p, pid in conn.execute(
            "SELECT component, process, pid FROM process_heartbeats WHERE beat_at > now() - interval '20 seconds'"
            " ORDER BY 1, 2")}


def sample(cfg: settings.Settings) -> dict[str, tuple[float, float]]:
    found = {name: rss_and_cpu(pid) for name, pid in processes(cfg).items()}
    postmaster = cfg.run_dir / "pg" / "postmaster.pid"
    if postmaster.exists():  # the database with every backend (RSS counts shared buffers once per backend)
        found["postgres (all backends)"] = rss_and_cpu(int(postmaster.read_text().split()[0]))
    return found


def machine_busy_s() -> float:
    """CPU seconds the whole machine has been busy (every process of every session on it)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / TICKS  # all but idle and iowait


def all_ready(cfg: settings.Settings) -> bool:
    urls = [f"http://127.0.0.1:{cfg.probe_port_base + off}/readyz" for off in PROBES.values()]
    urls.append(f"http://127.0.0.1:{cfg.dash_port}/readyz")
    for url in urls:
        try:
            with urllib.request.urlopen(url, timeout=3) as resp:
                if resp.status != 200:
                    return False
        except Exception:
            return False
    return True


# ---------------------------------------------------------------- users


def township_users(cfg: settings.Settings, count: int) -> list[tuple[str, str]]:
    with psycopg.connect(cfg.dsn()) as conn:
        names = [r[0] for r in conn.execute(
            "SELECT username FROM users WHERE role = 'township' AND username LIKE 'zj%%' ORDER BY username")]
    return [(n, "zj123456") for n in names[:count]]


def seat_users(cfg: settings.Settings, count: int) -> list[tuple[str, str, str]]:
    """(username, password, page): half command seats (/command), half leader seats (/leader)."""
    from werkzeug.security import generate_password_hash

    from i18n.timefmt import utcnow
    from store import audit, users
    from store.audit import AuthEvent

    out: list[tuple[str, str, str]] = []
    hashed = generate_password_hash(SEAT_PASSWORD)
    with psycopg.connect(cfg.dsn()) as conn:
        for i in range(count):
            role, page = ("command", "/command") if i % 2 == 0 else ("leader", "/leader")
            if i < 2:
                out.append(("zhihui", "zhihui123", page) if i == 0 else ("lingdao", "lingdao123", page))
                continue
            name = f"shift{role[:3]}{i:02d}"
            if users.get_user(conn, name) is None:
                with conn.transaction():
                    users.create_user(conn, users.UserRecord(name, f"值班席 {i}", hashed, role, None))
                    audit.record(conn, utcnow(), AuthEvent.ACCOUNT_CREATED, username=name, address="127.0.0.1",
                                 actor="bench_shift", detail=role)
            out.append((name, SEAT_PASSWORD, page))
    return out


# ---------------------------------------------------------------- a dash-renderer at HTTP level


def components(node: Any, found: dict[str, dict[str, Any]]) -> None:
    """Every component with an id in a layout tree: its id (JSON text for a dict id) → its props."""
    if isinstance(node, list):
        for child in node:
            components(child, found)
        return
    if not isinstance(node, dict) or "props" not in node:
        return
    props = node["props"]
    cid = props.get("id")
    if cid is not None:
        key = json.dumps(cid, sort_keys=True, separators=(",", ":")) if isinstance(cid, dict) else str(cid)
        found[key] = props
        props.setdefault("__type", node.get("type"))
    for value in props.values():
        if isinstance(value, dict | list):
            components(value, found)


def split_outputs(output: str) -> list[tuple[str, str]]:
    parts = output[2:-2].split("...") if output.startswith("..") else [output]
    out = []
    for part in parts:
        cid, prop = part.rsplit(".", 1)
        out.append((cid, prop.split("@", 1)[0]))
    return out


def is_pattern(cid: str) -> bool:
    return cid.startswith("{")


@dataclass
class Call:
    name: str
    ms: float
    size: int
    ok: bool
    at: float


@dataclass
class Client:
    base: str
    kind: str
    deps: list[dict[str, Any]] | None = None
    props: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    seen: dict[int, float] = field(default_factory=dict)  # warning id → first time it showed (epoch)
    opened: float = 0.0
    closed: float = 0.0
    http: requests.Session = field(default_factory=requests.Session)
    errors: list[str] = field(default_factory=list)
    resent: int = 0  # requests sent again on a new connection (the server had closed the kept-alive one)
    refused: list[float] = field(default_factory=list)  # when the server asked this session to log in again

    def send(self, method: str, path: str, **kw: Any) -> requests.Response:
        """As a browser sends: a request on a kept-alive connection that the server closed just before it is
        sent once more on a new connection (Chromium does the same); any other failure is the server's."""
        try:
            reply = self.http.request(method, self.base + path, **kw)
        except requests.ConnectionError as exc:
            if not STALE.search(repr(exc)):
                raise
            self.resent += 1
            reply = self.http.request(method, self.base + path, **kw)
        if path != "/login" and (reply.status_code in (401, 403)
                                 or "/login" in reply.url.removeprefix(self.base)[:7]):
            self.refused.append(time.time())  # sent back to the login (logging in itself is not that)
        return reply

    def record(self, name: str, started: float, size: int, ok: bool, text: str = "", why: str = "") -> None:
        if not ok and len(self.errors) < 5:
            self.errors.append(f"{name}: {why}"[:200])
        self.calls.append(Call(name, (time.perf_counter() - started) * 1000, size, ok, time.time()))
        if text and "warning-" in text:
            now = time.time()
            for wid in WARNING_ID.findall(text):
                self.seen.setdefault(int(wid), now)

    def login(self, username: str, password: str, page: str) -> bool:
        started = time.perf_counter()
        try:
            form = self.send("GET", "/login", timeout=30)
            csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
            reply = self.send("POST", "/login", timeout=30, allow_redirects=False, data={
                "csrf": csrf.group(1) if csrf else "", "username": username, "password": password, "next": page})
            ok = reply.status_code == 302 and "/login" not in reply.headers.get("location", "/login")
        except requests.RequestException as exc:
            ok = False
            self.record("login", started, 0, ok, why=type(exc).__name__)
            return ok
        self.record("login", started, 0, ok, why=f"HTTP {reply.status_code}")
        return ok

    def get(self, path: str) -> Any:
        started = time.perf_counter()
        try:
            reply = self.send("GET", path, timeout=30)
            ok = reply.status_code == 200
            self.record(f"GET {path.split('?')[0]}", started, len(reply.content), ok)
            return reply.json() if ok and path.startswith("/_dash") else None
        except (requests.RequestException, ValueError):
            self.record(f"GET {path.split('?')[0]}", started, 0, False)
            return None

    def value(self, cid: str, prop: str) -> Any:
        return self.props.get(cid, {}).get(prop)

    def arg(self, spec: dict[str, Any]) -> Any:
        cid, prop = spec["id"], spec["property"]
        if not is_pattern(cid):
            return {"id": cid, "property": prop, "value": self.value(cid, prop)}
        pattern = json.loads(cid)
        matches = []
        for key, props in self.props.items():
            if not is_pattern(key):
                continue
            real = json.loads(key)
            if real.keys() == pattern.keys() and all(
                    isinstance(v, list) or real[k] == v for k, v in pattern.items()):
                matches.append({"id": real, "property": prop, "value": props.get(prop)})
        return matches

    def fire(self, dep: dict[str, Any], changed: list[str], name: str) -> None:
        outs = split_outputs(dep["output"])
        outputs: Any = [{"id": c, "property": p} for c, p in outs]
        body = {"output": dep["output"], "outputs": outputs if dep["output"].startswith("..") else outputs[0],
                "inputs": [self.arg(i) for i in dep["inputs"]], "state": [self.arg(s) for s in dep["state"]],
                "changedPropIds": changed}
        headers = {"X-CSRFToken": self.http.cookies.get("_csrf_token") or "", "Content-Type": "application/json"}
        started = time.perf_counter()
        try:
            reply = self.send("POST", "/_dash-update-component", data=json.dumps(body), headers=headers, timeout=60)
        except requests.RequestException as exc:
            self.record(name, started, 0, False, why=type(exc).__name__)
            return
        ok = reply.status_code in (200, 204)
        self.record(name, started, len(reply.content), ok, reply.text if reply.status_code == 200 else "",
                    why=f"HTTP {reply.status_code} {reply.text[:80]!r}")
        if reply.status_code == 200:
            try:
                response = reply.json().get("response", {})
            except ValueError:
                return
            for cid, props in response.items():
                target = self.props.setdefault(cid if isinstance(cid, str) else json.dumps(cid), {})
                for prop, value in props.items():
                    if isinstance(value, dict) and "__dash_patch_update" in value:
                        continue  # a Patch of a figure: nothing the next call reads back
                    target[prop] = value
                    if isinstance(value, dict | list):
                        components(value, self.props)  # new children bring new components

    def open(self, path: str) -> bool:
        """The page as the browser opens it: HTML, layout, dependencies, then the pages router."""
        started = time.perf_counter()
        try:
            html = self.send("GET", path, timeout=30)
            ok = html.status_code == 200 and "/login" not in html.url.removeprefix(self.base)[:7]
            self.record(f"GET {path}", started, len(html.content), ok, why=f"HTTP {html.status_code} {html.url}")
            if not ok:
                return False
        except requests.RequestException:
            self.record(f"GET {path}", started, 0, False)
            return False
        layout = self.get("/_dash-layout")
        if self.deps is None:
            self.deps = self.get("/_dash-dependencies")
        if layout is None or self.deps is None:
            return False
        self.props = {}
        components(layout, self.props)
        self.props.setdefault("_pages_location", {})["pathname"] = path
        self.props["_pages_location"].setdefault("search", "")
        router = next(d for d in self.deps if "_pages_content.children" in d["output"])
        self.fire(router, ["_pages_location.pathname", "_pages_location.search"], f"{path} page layout")
        return "_pages_content" in self.props

    def name_of(self, path: str, dep: dict[str, Any]) -> str:
        return f"{path} → " + ",".join(sorted({c for c, _ in split_outputs(dep["output"])})[:3])

    def timed(self) -> list[tuple[dict[str, Any], str, float]]:
        """The page's callbacks driven by one of its enabled Intervals: (dep, its input, period s)."""
        out = []
        for dep in self.deps or []:
            if dep.get("clientside_function"):
                continue
            for spec in dep["inputs"]:
                props = self.props.get(spec["id"], {})
                if spec["property"] == "n_intervals" and props.get("__type") == "Interval" and not props.get(
                        "disabled"):
                    out.append((dep, spec["id"], float(props.get("interval", 3000)) / 1000))
                    break
        return out

    def filters(self) -> list[dict[str, Any]]:
        """Callbacks fed by the page's own controls (dates, picks), none by a click: a page refresh's."""
        out = []
        for dep in self.deps or []:
            ins = dep["inputs"]
            if dep.get("clientside_function") or any(is_pattern(i["id"]) or i["property"] in CLICK_PROPS
                                                     or i["id"] not in self.props for i in ins):
                continue
            if ins and ins[0]["id"].startswith("_pages"):
                continue
            out.append(dep)
        return out


def session(base: str, kind: str, user: tuple[str, str], path: str, until: float, stop: Any,
            out: list[Client], life: float | None = None) -> None:
    client = Client(base, kind)
    out.append(client)
    time.sleep(random.uniform(0, RAMP))
    if not client.login(user[0], user[1], path) or not client.open(path):
        client.opened = client.closed = time.time()
        return
    client.opened = time.time()
    end = min(until, time.monotonic() + life) if life else until
    if kind == "leader":
        deps = client.filters()
        while time.monotonic() < end and not stop.is_set():
            for dep in deps:
                client.fire(dep, [f"{i['id']}.{i['property']}" for i in dep["inputs"]], client.name_of(path, dep))
            stop.wait(min(LEADER_EVERY, max(0.0, end - time.monotonic())))
            if time.monotonic() < end and not stop.is_set():
                client.open(path)
        client.closed = time.time()
        return
    timed = client.timed()
    due = {id(dep): time.monotonic() + period for dep, _, period in timed}
    while time.monotonic() < end and not stop.is_set():
        now = time.monotonic()
        for dep, tick, period in timed:
            if now >= due[id(dep)]:
                client.props[tick]["n_intervals"] = (client.props[tick].get("n_intervals") or 0) + 1
                client.fire(dep, [f"{tick}.n_intervals"], client.name_of(path, dep))
                due[id(dep)] = max(due[id(dep)] + period, time.monotonic())
        wait = min(due.values(), default=now + 1) - time.monotonic()
        stop.wait(max(0.01, min(wait, end - time.monotonic())))
    client.closed = time.time()


def load_worker(index: int, base: str, jobs: list[tuple[str, tuple[str, str], str]], fresh: list[tuple[str, str]],
                seconds: float, stop: Any, results: Any) -> None:
    """One load-generator process: a thread per session; ``fresh`` users open a new big screen every 30 s."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    until = time.monotonic() + seconds
    clients: list[Client] = []
    threads = [threading.Thread(target=session, args=(base, kind, user, path, until, stop, clients), daemon=True)
               for kind, user, path in jobs]
    for th in threads:
        th.start()
    started = time.monotonic()
    k = 0
    last = time.monotonic()
    while time.monotonic() < until and not stop.is_set():
        if fresh and time.monotonic() >= started + k * FRESH_EVERY:
            th = threading.Thread(target=session, daemon=True, args=(
                base, "fresh", fresh[k % len(fresh)], "/", until, stop, clients, FRESH_EVERY))
            th.start()
            threads.append(th)
            k += 1
        stop.wait(1.0)
        if time.monotonic() - last >= 30:
            last = time.monotonic()
            recent = [c for cl in list(clients) for c in list(cl.calls) if c.at > time.time() - 30]
            ms = sorted(c.ms for c in recent) or [0.0]
            print(f"  [load {index}] {len(recent)} calls in the last 30 s, {sum(not c.ok for c in recent)} errors,"
                  f" p50 {ms[len(ms) // 2]:.0f} ms, p95 {ms[int(len(ms) * 0.95)]:.0f} ms", flush=True)
    for th in threads:
        th.join(65)
    t = os.times()
    results.put({"index": index, "cpu": t.user + t.system,
                 "calls": [(cl.kind, c.name, c.ms, c.size, c.ok, c.at) for cl in clients for c in cl.calls],
                 "screens": [(cl.kind, cl.opened, cl.closed, cl.seen) for cl in clients
                             if cl.kind in ("screen", "fresh")],
                 "sessions": [(cl.kind, cl.opened, cl.closed, cl.resent, cl.refused,
                               max((c.at for c in cl.calls if c.ok), default=0.0),
                               max((c.at for c in cl.calls), default=0.0)) for cl in clients],
                 "errors": [e for cl in clients for e in cl.errors][:20]})


# ---------------------------------------------------------------- real browsers


def browser_worker(base: str, users: list[tuple[str, str]], seconds: float, stop: Any, results: Any) -> None:
    """Headless Chromium big screens; each records when each ``warning-<id>`` first appears in its DOM."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    screens: list[tuple[str, float, float, dict[int, float]]] = []
    errors: list[str] = []
    cpu = [0.0]  # of this process and its Playwright driver and Chromium processes, taken before they end
    try:
        _browse(base, users, seconds, stop, screens, errors, cpu)
    except Exception as exc:  # a figure of the run, not its end
        errors.append(f"browser worker: {exc!r}"[:500])
    t = os.times()
    results.put({"index": "browsers", "cpu": max(cpu[0], t.user + t.system + t.children_user + t.children_system),
                 "calls": [], "screens": screens, "sessions": [], "errors": errors})


def _browse(base: str, users: list[tuple[str, str]], seconds: float, stop: Any,
            screens: list[tuple[str, float, float, dict[int, float]]], errors: list[str], cpu: list[float]) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        pages = []
        for username, password in users:
            context = browser.new_context(viewport={"width": 1920, "height": 1080})
            page = context.new_page()
            page.goto(base + "/login")
            page.fill("#username", username)
            page.fill("#password", password)
            page.click("#login-submit")
            page.wait_for_load_state()
            page.goto(base + "/")
            page.wait_for_selector("#overview-kpis .kpi", timeout=60000)
            page.evaluate("""() => { window.__seen = {}; setInterval(() => {
                for (const el of document.querySelectorAll('[id^="warning-"]')) {
                  if (!(el.id in window.__seen)) window.__seen[el.id] = Date.now() / 1000; } }, 100); }""")
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            pages.append((page, time.time()))
        until = time.monotonic() + seconds
        while time.monotonic() < until and not stop.is_set():
            for page, _ in pages:
                page.wait_for_timeout(50)  # lets Playwright dispatch the pages' events
            stop.wait(1.0)
        for page, opened in pages:
            seen = page.evaluate("() => window.__seen")
            screens.append(("chromium", opened, time.time(),
                            {int(k.split("-", 1)[1]): float(v) for k, v in seen.items() if k[8:].isdigit()}))
        cpu[0] = rss_and_cpu(os.getpid())[1]  # Chromium draws the map in software WebGL: a load of its own
        browser.close()


# ---------------------------------------------------------------- the run


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@dataclass
class Phase:
    """One server's run of the whole shift and what it measured."""

    server: str
    first: dict[str, tuple[float, float]] = field(default_factory=dict)
    last: dict[str, tuple[float, float]] = field(default_factory=dict)
    gathered: list[dict[str, Any]] = field(default_factory=list)
    warned: Any = None
    injected: float = 0.0
    wall: float = 0.0
    busy: float = 0.0
    metrics: tuple[dict[str, dict[str, float]], dict[str, dict[str, float]]] = ({}, {})
    killed: tuple[float, int] | None = None  # (when, pid) of the dashboard worker killed
    started_at: float = 0.0  # epoch: the load began (the shift logs in over the first RAMP seconds)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10.0, help="each server's run")
    parser.add_argument("--townships", type=int, default=162)
    parser.add_argument("--screens", type=int, default=10, help="HTTP-level big screens kept open")
    parser.add_argument("--seats", type=int, default=20, help="command and leader seats")
    parser.add_argument("--browsers", type=int, default=2, help="headless Chromium big screens")
    parser.add_argument("--processes", type=int, default=2, help="load-generator processes (HTTP sessions)")
    parser.add_argument("--servers", default="gunicorn,werkzeug",
                        help="the dashboard servers to run the shift on, one after the other (gunicorn: up's)")
    parser.add_argument("--warmup", type=float, default=60.0,
                        help="seconds at the start (the shift logging in) reported apart from the targets' figures")
    parser.add_argument("--kill-worker", action=argparse.BooleanOptionalAction, default=True,
                        help="kill -9 one gunicorn worker at three quarters of its run")
    args = parser.parse_args()
    servers = [name.strip() for name in args.servers.split(",") if name.strip()]
    if not servers or not set(servers) <= {"gunicorn", "werkzeug"}:
        parser.error("--servers: gunicorn and/or werkzeug")
    # Ctrl-C, and a TERM, stop the run the same way (a shell's background job starts with SIGINT ignored)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    run_dir = Path(f"/tmp/cityops-shift-{os.getpid()}")
    run_dir.mkdir(parents=True)
    run_dir.chmod(0o755)
    env = isolated_up_env(run_dir) | {"PYTHONUNBUFFERED": "1"}
    cfg = settings.load(env)
    log = (run_dir / "up.log").open("wb")
    up = subprocess.Popen([sys.executable, "-m", "cityops", "up"], cwd=PROJECT_ROOT, env=env,
                          stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    phases: list[Phase] = []
    try:
        print(f"bench_shift: starting up in {run_dir}", flush=True)
        deadline = time.monotonic() + 600
        while "cityops is running" not in (run_dir / "up.log").read_text() or not all_ready(cfg):
            if time.monotonic() > deadline or up.poll() is not None:
                print((run_dir / "up.log").read_text()[-3000:])
                return 2
            time.sleep(2)
        print(f"bench_shift: every process ready at http://127.0.0.1:{cfg.dash_port}", flush=True)
        shift = Shift.of(args, cfg)
        for server in servers:
            if server == "gunicorn":
                phases.append(run_phase(args, cfg, env, shift, f"http://127.0.0.1:{cfg.dash_port}", server))
                continue
            port = free_port()
            werkzeug = subprocess.Popen([sys.executable, "-m", "dashboard", "--port", str(port)], cwd=PROJECT_ROOT,
                                        env=env | {"CITYOPS_DEMO": "1"},  # as up starts its dashboard
                                        stdout=(run_dir / "werkzeug.log").open("wb"), stderr=subprocess.STDOUT)
            try:
                wait_ready(f"http://127.0.0.1:{port}/readyz", werkzeug)
                phases.append(run_phase(args, cfg, env, shift, f"http://127.0.0.1:{port}", server))
            except RuntimeError as exc:  # the phases run so far are still reported
                print(f"bench_shift [{server}]: {exc}\n" + (run_dir / "werkzeug.log").read_text()[-2000:], flush=True)
            finally:
                stop_process(werkzeug, timeout=20)
    except KeyboardInterrupt:
        print("bench_shift: interrupted", flush=True)
        return 130
    finally:
        if up.poll() is None:
            os.killpg(up.pid, signal.SIGINT)
        stop_process(up, timeout=60)
        reap_group(up.pid)
    verdicts = [report(args, phase) for phase in phases]
    compare(phases, args.warmup)
    # the verdict is the production server's (up's gunicorn) when it ran, else the one that ran
    return verdicts[servers.index("gunicorn")] if "gunicorn" in servers else verdicts[0]


@dataclass(frozen=True)
class Shift:
    """Who is on shift: the sessions' jobs, the user of the screen opened fresh, the Chromium screens' users."""

    jobs: list[tuple[str, tuple[str, str], str]]
    fresh: list[tuple[str, str]]
    browsers: list[tuple[str, str]]
    towns: int
    screens: int
    seats: int

    @classmethod
    def of(cls, args: argparse.Namespace, cfg: settings.Settings) -> Shift:
        towns = township_users(cfg, args.townships)
        seats = seat_users(cfg, args.seats + args.screens + args.browsers + 1)
        # big screens are command seats too (the overview is the command role's page)
        screen_users = [(u, p) for u, p, page in seats if page == "/command"]
        desk_seats = seats[:args.seats]
        extra = [(u, p) for u, p, page in seats[args.seats:]]
        if len(extra) < args.screens + args.browsers + 1:
            extra += screen_users
        http_screens, browser_users, fresh_user = (extra[:args.screens], extra[args.screens:args.screens
                                                   + args.browsers], extra[args.screens + args.browsers:][:1])
        jobs: list[tuple[str, tuple[str, str], str]] = [("township", u, "/township") for u in towns]
        jobs += [("screen", u, "/") for u in http_screens]
        jobs += [("command" if page == "/command" else "leader", (u, p), page) for u, p, page in desk_seats]
        random.Random(19).shuffle(jobs)
        return cls(jobs, fresh_user, browser_users, len(towns), len(http_screens), len(desk_seats))


def wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server of {url} ended (exit {proc.returncode})")
        try:
            with urllib.request.urlopen(url, timeout=3) as resp:
                if resp.status == 200:
                    return
        except Exception:
            time.sleep(1)
    raise RuntimeError(f"{url} not ready in {timeout:.0f} s")


def server_metrics(base: str) -> dict[str, dict[str, float]]:
    """callback output → calls, CPU seconds and wall seconds so far, from the dashboard's own /metrics."""
    from prometheus_client.parser import text_string_to_metric_families

    wanted = {"cityops_dashboard_callback_seconds_count": "calls", "cityops_dashboard_callback_seconds_sum": "wall",
              "cityops_dashboard_callback_cpu_seconds_total": "cpu"}
    out: dict[str, dict[str, float]] = defaultdict(dict)
    for _ in range(5):  # a booting worker answers 503 "scrape again"
        reply = requests.get(base + "/metrics", timeout=30)
        if reply.status_code == 200:
            for family in text_string_to_metric_families(reply.text):
                for sample_ in family.samples:
                    if sample_.name in wanted:
                        out[sample_.labels["callback"]][wanted[sample_.name]] = sample_.value
            return out
        time.sleep(1)
    return out


def run_phase(args: argparse.Namespace, cfg: settings.Settings, env: dict[str, str], shift: Shift, base: str,
              server: str) -> Phase:
    phase = Phase(server)
    stop = mp.Event()
    workers: list[mp.Process] = []
    seconds = args.minutes * 60
    phase.first = sample(cfg)
    metrics_before = server_metrics(base)
    busy0 = machine_busy_s()
    results: Any = mp.Queue()
    n = max(1, args.processes)
    for i in range(n):
        workers.append(mp.Process(target=load_worker, args=(
            i, base, shift.jobs[i::n], shift.fresh if i == 0 else [], seconds, stop, results)))
    if args.browsers:
        workers.append(mp.Process(target=browser_worker, args=(base, shift.browsers, seconds + 20, stop, results)))
    print(f"\nbench_shift [{server}]: {shift.towns} townships, {shift.screens} HTTP screens + 1 fresh every "
          f"{FRESH_EVERY:.0f} s, {len(shift.browsers)} Chromium screens, {shift.seats} seats for "
          f"{args.minutes:g} min in {len(workers)} load processes", flush=True)
    t0 = time.monotonic()
    phase.started_at = time.time()
    try:
        for w in workers:
            w.start()
        time.sleep(seconds / 2)
        phase.injected = time.time()
        subprocess.run([sys.executable, "-m", "simulator", "inject", "gas_leak"], cwd=PROJECT_ROOT, env=env,
                       check=True)
        print(f"bench_shift [{server}]: gas leak injected at {time.monotonic() - t0:.0f} s", flush=True)
        if server == "gunicorn" and args.kill_worker:
            time.sleep(seconds / 4)
            pid = dashboard_worker(cfg)
            if pid is not None:
                os.kill(pid, signal.SIGKILL)
                phase.killed = (time.time(), pid)
                print(f"bench_shift [{server}]: dashboard worker {pid} killed (SIGKILL) at "
                      f"{time.monotonic() - t0:.0f} s", flush=True)
        while len(phase.gathered) < len(workers):
            try:
                phase.gathered.append(results.get(timeout=5))
            except queue.Empty:
                if not any(w.is_alive() for w in workers) and results.empty():
                    print("bench_shift: a load process ended without its figures", flush=True)
                    break
    finally:
        stop.set()
        for w in workers:
            w.join(30)
            if w.is_alive():
                w.terminate()
    phase.wall = time.monotonic() - t0
    phase.last = sample(cfg)
    phase.busy = machine_busy_s() - busy0
    phase.metrics = (metrics_before, server_metrics(base))
    with psycopg.connect(cfg.dsn()) as conn:
        # the injection's warning: the first opened after it, red first (opened_at is the reading's time)
        phase.warned = conn.execute(
            "SELECT id, level, title, extract(epoch FROM opened_at) FROM warnings"
            " WHERE opened_at >= to_timestamp(%s) ORDER BY level, opened_at, id LIMIT 1",
            (phase.injected - 1,)).fetchone()
    return phase


def dashboard_worker(cfg: settings.Settings) -> int | None:
    """A gunicorn worker of up's dashboard (its heartbeat row names it; the master has none)."""
    with psycopg.connect(cfg.dsn()) as conn:
        row = conn.execute("SELECT pid FROM process_heartbeats WHERE component = 'dashboard'"
                           " AND beat_at > now() - interval '20 seconds' ORDER BY process LIMIT 1").fetchone()
    return int(row[0]) if row else None


def reap_group(pgid: int) -> None:
    """What of ``up``'s process group outlived it (seen: a gunicorn worker whose master had gone) is killed."""
    for signum in (signal.SIGTERM, signal.SIGKILL):
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                os.killpg(pgid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.5)
        print(f"bench_shift: processes of group {pgid} still there: signal {signum.name}", flush=True)
        try:
            os.killpg(pgid, signum)
        except ProcessLookupError:
            return


def callback_p95(phase: Phase, warmup: float, steady: bool = True) -> dict[str, list[tuple[float, int, bool, float]]]:
    """Each request's (ms, bytes, ok, when) by name: those answered after the first ``warmup`` seconds (the shift
    at work), or with ``steady`` False those before (the shift logging in)."""
    by: dict[str, list[tuple[float, int, bool, float]]] = defaultdict(list)
    for g in phase.gathered:
        for _kind, name, ms, size, ok, at in g["calls"]:
            if (at >= phase.started_at + warmup) == steady:
                by[name].append((ms, size, ok, at))
    return by


def report(args: argparse.Namespace, phase: Phase) -> int:
    by = callback_p95(phase, args.warmup)
    wall, first, last = phase.wall, phase.first, phase.last
    print(f"\n======== the shift on {phase.server} ========")
    arriving = [r for rows in callback_p95(phase, args.warmup, steady=False).values() for r in rows]
    print(f"the first {args.warmup:.0f} s (every session logs in over {RAMP:.0f} s and opens its page): "
          f"{len(arriving)} requests, {sum(not r[2] for r in arriving)} errors, "
          f"p50 {pct([r[0] for r in arriving], 0.5):.0f} ms, p95 {pct([r[0] for r in arriving], 0.95):.0f} ms; "
          "after it, the shift at work:")
    print(f"{'callback / request':58} {'calls':>7} {'errors':>6} {'p50 ms':>8} {'p95 ms':>8} {'KB avg':>8}")
    worst = 0.0
    errors = 0
    killed_at = phase.killed[0] if phase.killed else float("inf")
    for name in sorted(by):
        rows = by[name]
        ms = [r[0] for r in rows]
        bad = sum(not r[2] for r in rows if r[3] < killed_at)
        errors += bad
        p95 = pct(ms, 0.95)
        if "_dash-update" in name or "→" in name:
            worst = max(worst, p95)
        print(f"{name[:58]:58} {len(rows):7} {bad:6} {pct(ms, 0.5):8.0f} {p95:8.0f} "
              f"{statistics.mean(r[1] for r in rows) / 1024:8.1f}")
    before, after = phase.metrics
    where = "all workers" if phase.server == "gunicorn" else "one process"
    print(f"\nserver side, from the dashboard's /metrics ({where}; CPU: the answering thread's):")
    print(f"{'callback (its outputs)':58} {'calls':>7} {'CPU ms':>8} {'wall ms':>8}  per call")
    rows_ = []
    for label, now in after.items():
        was = before.get(label, {})
        calls = now.get("calls", 0.0) - was.get("calls", 0.0)
        if calls > 0:
            rows_.append((label, calls, 1000 * (now.get("cpu", 0.0) - was.get("cpu", 0.0)) / calls,
                          1000 * (now.get("wall", 0.0) - was.get("wall", 0.0)) / calls))
    for label, calls, cpu, wall_ms in sorted(rows_, key=lambda r: -r[1] * r[2]):
        outs = ",".join(sorted({c for c, _ in split_outputs(label)})[:3])
        print(f"{outs[:58]:58} {calls:7.0f} {cpu:8.1f} {wall_ms:8.1f}")
    print(f"\n{'process':32} {'MB start':>9} {'MB end':>8} {'CPU s':>7} {'cores':>6}")
    for name in sorted(first.keys() | last.keys()):
        a, b = first.get(name, (0.0, 0.0)), last.get(name, (0.0, 0.0))
        print(f"{name:32} {a[0]:9.0f} {b[0]:8.0f} {b[1] - a[1]:7.0f} {(b[1] - a[1]) / wall:6.2f}")
    load_cpu = sum(g["cpu"] for g in phase.gathered)
    print(f"load generator: {load_cpu:.0f} CPU s over {wall:.0f} s = {load_cpu / wall:.2f} cores "
          f"of {os.cpu_count()} (" + ", ".join(f"{g['index']}: {g['cpu']:.0f} s" for g in phase.gathered) + ")")
    system = sum(b[1] - first.get(n, (0.0, 0.0))[1] for n, b in last.items())
    print(f"whole machine: {phase.busy:.0f} CPU s = {phase.busy / wall:.2f} cores busy; the system {system:.0f} s, "
          f"the load generator {load_cpu:.0f} s, everything else on the machine {phase.busy - system - load_cpu:.0f} s")
    sessions = [s_ for g in phase.gathered for s_ in g.get("sessions", [])]
    print(f"requests sent again on a new connection (the kept-alive one closed by the server): "
          f"{sum(s_[3] for s_ in sessions)}")
    for g in phase.gathered:
        if g.get("errors"):
            print(f"errors seen by load process {g['index']}: " + "; ".join(g["errors"][:8]))
    killed_ok = kill_report(phase, by, sessions)
    delays = warning_report(phase)
    print(f"\ntargets ({phase.server}):")
    okp = worst < TARGET_P95_MS
    print(f"  worst callback p95 {worst:.0f} ms < {TARGET_P95_MS:.0f} ms: {worst / TARGET_P95_MS:.2f}× "
          f"{'ok' if okp else 'MISSED'}")
    print(f"  errors {errors} = 0{' (before the kill)' if phase.killed else ''}: {'ok' if errors == 0 else 'MISSED'}")
    worst_w = max((d if d is not None else float("inf") for _, d in delays), default=float("inf"))
    okw = bool(delays) and worst_w < TARGET_WARNING_S
    print(f"  red warning on every open screen ({len(delays)}) within {TARGET_WARNING_S:.0f} s: worst "
          f"{worst_w:.2f} s = {worst_w / TARGET_WARNING_S:.2f}× {'ok' if okw else 'MISSED'}"
          + ("" if phase.warned is None or int(phase.warned[1]) == 1 else
             f" (the warning was level {phase.warned[1]}, not red)"))
    return 0 if okp and errors == 0 and okw and killed_ok else 1


def kill_report(phase: Phase, by: dict[str, list[tuple[float, int, bool, float]]],
                sessions: list[tuple[str, float, float, int, list[float], float, float]]) -> bool:
    """After the worker's kill: who had to log in again (none should), which sessions and screens were answered
    again (of those open at the kill that asked again: a leader seat refreshes only every 30 s)."""
    if phase.killed is None:
        return True
    at, pid = phase.killed
    failed = sum(not r[2] for rows in by.values() for r in rows if r[3] >= at)
    refused = sum(1 for s_ in sessions if any(t >= at for t in s_[4]))
    live = [s_ for s_ in sessions if s_[1] <= at < s_[2] and s_[6] > at + 3]
    screens = [s_ for s_ in live if s_[0] in ("screen", "fresh")]
    recovered = sum(1 for s_ in screens if s_[5] > at)
    carried = sum(1 for s_ in live if s_[5] > at)
    print(f"\ndashboard worker {pid} killed: {failed} requests failed from then on (those it held), "
          f"{refused} sessions asked to log in again, {carried} of {len(live)} open sessions answered again, "
          f"{recovered} of {len(screens)} open HTTP screens refreshed again")
    ok = refused == 0 and carried == len(live) and recovered == len(screens)
    print(f"  sessions carry on through the other worker without logging in again: {'ok' if ok else 'MISSED'}")
    return ok


def warning_report(phase: Phase) -> list[tuple[str, float | None]]:
    delays: list[tuple[str, float | None]] = []
    if phase.warned is None:
        print(f"red warning: none opened after the injection at {phase.injected:.0f}")
        return delays
    wid, level, title, opened_at = phase.warned
    opened_at = float(opened_at)
    print(f"warning {wid} (level {level}, {title}) opened {opened_at - phase.injected:+.1f} s after the injection")
    for g in phase.gathered:
        for kind, opened, closed, seen in g["screens"]:
            if opened <= opened_at and closed >= opened_at + TARGET_WARNING_S:
                shown = seen.get(int(wid))
                delays.append((kind, shown - opened_at if shown is not None else None))
    for kind in sorted({k for k, _ in delays}):
        got = [d for k, d in delays if k == kind]
        vals = [d for d in got if d is not None]
        print(f"  {kind}: {len(got)} open screens, shown on {len(vals)}, "
              + (f"max {max(vals):.2f} s, median {statistics.median(vals):.2f} s" if vals else "never"))
    return delays


def compare(phases: list[Phase], warmup: float) -> None:
    """The servers side by side: what a city should run."""
    if len(phases) < 2:
        return
    print("\n======== the servers side by side ========")
    print(f"{'server':10} {'calls':>8} {'p50 ms':>8} {'p95 ms':>8} {'worst p95':>10} {'server CPU ms/call':>19}")
    for phase in phases:
        by = callback_p95(phase, warmup)
        ms = [r[0] for name, rows in by.items() if "→" in name for r in rows]
        worst = max((pct([r[0] for r in rows], 0.95) for name, rows in by.items() if "→" in name), default=0.0)
        before, after = phase.metrics
        calls = sum(v.get("calls", 0.0) - before.get(k, {}).get("calls", 0.0) for k, v in after.items())
        cpu = sum(v.get("cpu", 0.0) - before.get(k, {}).get("cpu", 0.0) for k, v in after.items())
        print(f"{phase.server:10} {len(ms):8} {pct(ms, 0.5):8.0f} {pct(ms, 0.95):8.0f} {worst:10.0f} "
              f"{1000 * cpu / calls if calls else 0.0:19.1f}")


if __name__ == "__main__":
    sys.exit(main())
