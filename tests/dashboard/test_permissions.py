"""Authorization over plain HTTP: no role uses a callback it must not, and township staff read and change
nothing of another township, whatever the browser sends.

Every callback of the app (``app.callback_map``: one added later is posted too, without editing this
file) is posted as a browser posts it, through the Flask test client of a user logged in at ``/login``
with the session's CSRF header, once for each component that may trigger it and for each value its
stores and fields may plausibly hold (``FILL``: ids of the target township's incidents and directives,
its code, text, a photo). Posted by nobody, every callback answers 401; by a leader (read only) and by
township A with township B's ids and code, none changes a row of the tables a user can change
(``TABLES``) and none of A's replies holds B's titles or ids. The self-checks post the same bodies as
the roles that may act: they do change data and do read B, so the walk reaches the code it tests.
Every refusal is one row of ``auth_events`` naming the user, the address and what was asked.
"""

from __future__ import annotations

import base64
import html
import io
import itertools
import json
import re
import uuid
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import dash
import psycopg
import pytest

from alerts import directives
from alerts.incidents import Location, act, open_incident
from alerts.lifecycle import Action, Actor, Role
from dashboard import auth
from dashboard.auth import CSRF_COOKIE, CSRF_HEADER, DEMO_USERS, DISTRICT_PASSWORD, TOWNSHIP_PASSWORD
from i18n.timefmt import local
from store.departments import DEMO_PASSWORD as DEPARTMENT_PASSWORD
from store.users import district_username, township_username
from tests.fix_db import one

if TYPE_CHECKING:
    from flask.testing import FlaskClient

    from tests.fix_browser import DashCalls, LoggedIn

# What a user of the dashboard can change: a refused request must leave every row of these as it was.
TABLES = ("incidents", "incident_log", "incident_attachments", "directives", "directive_targets", "directive_log",
          "users", "mqtt_outbox", "root_causes", "rectifications", "rectification_log", "watch_rules")
# What the sign-in gate itself writes on any request now and then (the active-sessions figure), not a change a
# request made: a walk that takes longer than auth.SEEN_EVERY (a busy machine) would see it.
BOOKKEEPING = {"users": ["last_seen_at"]}
PASSWORDS = {username: password for username, password, _, _ in DEMO_USERS}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@dataclass(frozen=True)
class Side:
    """One township's things a request may name: its code and district, its incidents in each state (and
    one not yet dispatched, in its district), a photo of one, a directive addressed to it alone."""

    township: str
    district: str
    incidents: dict[str, int]  # state → id
    title: dict[int, str]  # of each incident
    directive: int
    directive_title: str
    attachment: int
    photo: bytes = field(repr=False)

    @property
    def ids(self) -> list[int]:
        return list(self.incidents.values())

    @property
    def titles(self) -> list[str]:
        return [*self.title.values(), self.directive_title]


# -- what each input and state is sent --

def _today() -> str:
    return local(datetime.now(UTC)).date().isoformat()


def _pages(side: Side) -> list[str]:
    """Every page's path, an incident page for each of ``side``'s incidents."""
    paths = [p.get("path_template") or p["path"] for p in dash.page_registry.values()]
    return [p.replace("<incident_id>", str(i)) for p in paths for i in (side.ids if "<" in p else [0])]


def _months() -> list[str]:
    from dashboard.pages.quality.load import offered_months

    return [m.key for m in offered_months(datetime.now(UTC))]


def _panel_modes() -> list[str]:
    from dashboard.pages.command.panels import PANEL_ACTIONS

    return list(PANEL_ACTIONS)


def _township_modes() -> list[str]:
    from dashboard.pages.township.callbacks import MODES

    return list(MODES)


def _incident_clicks(side: Side) -> list[dict[str, Any]]:
    from dashboard.map.model import LEVELS, incident_trace

    return [{"points": [{"curveNumber": incident_trace(level), "customdata": i, "location": side.district}]}
            for i in side.ids for level in LEVELS]


Fill = Callable[[Side], list[Any]]
TEXT = "越权探针：现场已处置完毕"
# A dependency's values by "id.property" (a pattern-matching one by its type), one post per value (cycled
# with the others' values); what is not named here gets what its property holds anywhere (BY_PROPERTY).
FILL: dict[str, Fill] = {
    "_pages_location.pathname": _pages,
    "_pages_location.search": lambda s: [""],
    "tw-selected.data": lambda s: [{"id": i, "mode": m} for i in s.ids for m in _township_modes()],
    "cmd-selected.data": lambda s: s.ids,
    "cmd-act-selected.data": lambda s: [{"id": i, "action": m} for i in s.ids for m in _panel_modes()],
    "cmd-act-into.value": lambda s: [f"#{i}" for i in s.ids],
    "cmd-act-override.value": lambda s: [["override"]],
    "cmd-root-cause.value": lambda s: [1],  # 核查结案's root cause: the first of migration 0023's list
    "overview-view.data": lambda s: [{"level": "township", "code": s.township}, {"level": "district",
                                                                                  "code": s.district}],
    "overview-map.clickData": _incident_clicks,
    "overview-districts.value": lambda s: [s.district],
    **dict.fromkeys(("tw-suggest.value", "cmd-target.value", "cmd-act-township.value", "ld-township.value",
                     "adm-township.value"), lambda s: [s.township]),
    "ld-district.value": lambda s: [s.district],
    "dir-townships.value": lambda s: [[s.township]],
    "dir-districts.value": lambda s: [[s.district]],
    "dir-scope.value": lambda s: ["some"],
    "dir-minutes.value": lambda s: ["30"],
    "tw-evacuated.value": lambda s: ["3"],
    "tw-shelters.value": lambda s: ["镇中心小学"],
    "tw-result.value": lambda s: ["resolved"],
    "tw-photo.contents": lambda s: ["data:image/png;base64," + base64.b64encode(s.photo).decode()],
    "tw-photo.filename": lambda s: ["现场.png"],
    "ld-start.date": lambda s: [(local(datetime.now(UTC)).date() - timedelta(days=30)).isoformat()],
    "dq-report-month.value": lambda s: _months()[:1],
    "incident-number.data": lambda s: [str(i) for i in s.ids],
    "adm-username.value": lambda s: [f"probe{uuid.uuid4().hex[:8]}"],
    "adm-password.value": lambda s: ["Probe-2025-secret"],
    "adm-password2.value": lambda s: ["Probe-2025-secret"],
    "adm-role.value": lambda s: ["admin"],
    **dict.fromkeys(("ld-quick.value", "ld-category.value", "ld-level.value", "ld-search.value",
                     "overview-metric.value", "overview-scale.data"), lambda s: [None]),
}
BY_PROPERTY: dict[str, Fill] = {"n_clicks": lambda s: [1], "n_intervals": lambda s: [1], "value": lambda s: [TEXT],
                                "date": lambda s: [_today()], "data": lambda s: [None]}
# The values of a pattern-matching id's wildcards: one component each (``index``: an incident, or the
# directive of an acknowledge button).
WILDCARDS: dict[str, Callable[[Side, dict[str, Any]], list[Any]]] = {
    "index": lambda s, pattern: [s.directive] if pattern["type"] == "tw-ack" else s.ids,
    "action": lambda s, pattern: _panel_modes(),
    "queue": lambda s, pattern: ["verify", "new", "active"],
    "to": lambda s, pattern: [2, 40],
}


def _fill(component: str, prop: str, side: Side) -> list[Any]:
    return FILL.get(f"{component}.{prop}", BY_PROPERTY.get(prop, lambda s: [None]))(side)


def _parse_id(text: str) -> Any:
    return json.loads(text) if text.startswith("{") else text


def _one(side: Side, pattern: dict[str, Any]) -> list[Any]:
    """A wildcard not in ``WILDCARDS`` (a pattern-matching id added later): one component."""
    return [1]


def _components(pattern: dict[str, Any], prop: str, side: Side) -> list[dict[str, Any]]:
    """Every component a pattern-matching (ALL) dependency covers, as a page of ``side`` draws them."""
    wild = [key for key, value in pattern.items() if value == ["ALL"]]
    combos = itertools.product(*(WILDCARDS.get(key, _one)(side, pattern) for key in wild))
    value = _fill(pattern["type"], prop, side)[0]
    return [{"id": {**pattern, **dict(zip(wild, combo, strict=True))}, "property": prop, "value": value}
            for combo in combos]


@dataclass(frozen=True)
class Request:
    trigger: str  # the prop id that changed
    body: dict[str, Any]
    asked: str  # what a refusal of it records: the page's path for a layout, else the callback's output id


def requests_of(key: str, spec: dict[str, Any], side: Side) -> Iterator[Request]:
    """The bodies a browser on a page of ``side`` could post for the callback ``key``: each component that
    may trigger it, with each value of its dependencies (cycled, so the longest list is posted whole)."""
    multi = key.startswith("..") or spec.get("no_output")  # a callback without outputs is keyed by a hash
    outputs = [] if spec.get("no_output") else [
        {"id": _parse_id(i), "property": p}
        for i, p in (part.rsplit(".", 1) for part in (key[2:-2].split("...") if multi else [key]))]
    deps = spec["inputs"] + spec["state"]
    sent: list[list[Any]] = []
    for dep in deps:
        pattern = _parse_id(dep["id"])
        if isinstance(pattern, dict):
            sent.append([_components(pattern, dep["property"], side)])
        else:
            sent.append([{"id": pattern, "property": dep["property"], "value": v}
                         for v in _fill(pattern, dep["property"], side)])
    rounds = max(len(values) for values in sent)
    triggers = [f"{dash.stringify_id(c['id'])}.{c['property']}" for values in sent[:len(spec["inputs"])]
                for c in (values[0] if isinstance(values[0], list) else values[:1])]  # each component of an input
    for trigger, k in itertools.product(triggers, range(rounds)):
        entries = [values[k % len(values)] for values in sent]
        page = next((e["value"] for e in entries if isinstance(e, dict) and e["id"] == "_pages_location"
                     and e["property"] == "pathname"), None)
        yield Request(trigger, {"output": key, "outputs": outputs if multi else outputs[0],
                                "changedPropIds": [trigger], "inputs": entries[:len(spec["inputs"])],
                                "state": entries[len(spec["inputs"]):]},
                      page if isinstance(page, str) else key)


# -- a browser, the tables, the replies --

@dataclass
class Reply:
    trigger: str
    status: int
    text: str  # JSON as readable text (Chinese unescaped), or the body as sent
    files: str  # the text of the files it sends (an Excel export, a Word report)
    refusals: list[tuple[str, str, str]]  # the auth_events rows it added: (username, address, detail)
    asked: str


@dataclass
class Answer:
    callback: str  # module.function of the callback, or its output id for a clientside one
    key: str
    replies: list[Reply] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)  # the tables whose rows differ after its posts


def fingerprint(dsn: str) -> dict[str, str]:
    """Every row of ``TABLES`` as one hash per table (version and updated_at included: whole rows, less the
    gate's ``BOOKKEEPING``)."""
    with psycopg.connect(dsn) as conn:
        return {table: one(conn,
            "SELECT count(*) || ':' || coalesce(md5(string_agg(md5(r), '' ORDER BY md5(r))), '')"
            f" FROM (SELECT (to_jsonb(x) - %s::text[])::text AS r FROM {table} x) rows",
            (BOOKKEEPING.get(table, []),))[0] for table in TABLES}


def _readable(data: bytes) -> tuple[str, str]:
    """A reply as text (JSON with Chinese unescaped, or the body as sent), and the text of the files it sends."""
    try:
        reply = json.loads(data)
    except ValueError:
        return data.decode(errors="replace"), ""
    return json.dumps(reply, ensure_ascii=False, separators=(",", ":")), "".join(map(_file_text, _files(reply)))


def _files(node: Any) -> Iterator[bytes]:
    """The files in a reply, wherever they are (``dcc.send_bytes``: base64 content)."""
    if isinstance(node, dict):
        if node.get("base64") is True and isinstance(node.get("content"), str):
            yield base64.b64decode(node["content"])
        for value in node.values():
            yield from _files(value)
    elif isinstance(node, list):
        for value in node:
            yield from _files(value)


def _file_text(data: bytes) -> str:
    """A file's text: every member of an Office file (a zip of XML, character references resolved), else its bytes."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as office:
            return "".join(html.unescape(office.read(name).decode(errors="replace")) for name in office.namelist())
    except zipfile.BadZipFile:
        return data.decode(errors="replace")


class Browser:
    """A test client logged in through the login form as ``username`` (None: nobody), from ``address``."""

    def __init__(self, app: dash.Dash, dsn: str, username: str | None, address: str) -> None:
        self.app, self.dsn, self.username, self.address = app, dsn, username, address
        self.client: FlaskClient = app.server.test_client()
        self.client.environ_base["REMOTE_ADDR"] = address
        self.headers: dict[str, str] = {}
        if username is None:
            return
        form = self.client.get("/login").get_data(as_text=True)
        csrf = re.search(r'name="csrf" value="([^"]+)"', form)
        assert csrf is not None
        password = (TOWNSHIP_PASSWORD if username.startswith("zj") else
                    DISTRICT_PASSWORD if username.startswith("qx") else
                    DEPARTMENT_PASSWORD if username.startswith("bm") else PASSWORDS[username])
        landed = self.client.post("/login", data={"username": username, "password": password, "csrf": csrf[1]})
        assert landed.status_code == 302, landed.get_data(as_text=True)
        cookie = self.client.get_cookie(CSRF_COOKIE)
        assert cookie is not None
        self.headers = {CSRF_HEADER: cookie.value}

    def last_event(self) -> int:
        with psycopg.connect(self.dsn) as conn:
            return int(one(conn, "SELECT coalesce(max(id), 0) FROM auth_events")[0])

    def refusals(self, after: int) -> list[tuple[str, str, str]]:
        with psycopg.connect(self.dsn) as conn:
            return [(r[0], r[1], r[2]) for r in conn.execute(
                "SELECT username, address, detail FROM auth_events WHERE id > %s AND event = 'refused' ORDER BY id",
                (after,))]

    def get(self, path: str) -> tuple[int, bytes, list[tuple[str, str, str]]]:
        """A plain GET: status, body, and the refusals it recorded."""
        before = self.last_event()
        reply = self.client.get(path)
        return reply.status_code, reply.data, self.refusals(before)

    def post(self, request: Request) -> Reply:
        before = self.last_event()
        reply = self.client.post("/_dash-update-component", json=request.body, headers=self.headers)
        return Reply(request.trigger, reply.status_code, *_readable(reply.data), self.refusals(before),
                     request.asked)

    def walk(self, side: Side, only: Callable[[str], bool] = lambda name: True, *,
             server_side: bool = True) -> list[Answer]:
        """Post every callback (``only`` those whose name it accepts; clientside ones too unless
        ``server_side``) with ``side``'s values; each callback's posts between two fingerprints."""
        answers = []
        for key, spec in self.app.callback_map.items():
            func = getattr(spec.get("callback"), "__wrapped__", None)
            if func is None and server_side:
                continue  # a clientside callback: it runs in the browser, the server has nothing to refuse
            name = f"{func.__module__}.{func.__qualname__}" if func is not None else key
            if not only(name):
                continue
            answer = Answer(name, key)
            before = fingerprint(self.dsn)
            answer.replies = [self.post(r) for r in requests_of(key, spec, side)]
            after = fingerprint(self.dsn)
            answer.changed = [table for table in TABLES if before[table] != after[table]]
            answers.append(answer)
        assert answers, "no callback posted"
        return answers


def leaks(text: str, side: Side) -> list[str]:
    """What of ``side`` a reply shows: an incident's or the directive's title, or an incident's id as the
    pages write one (#id but not a colour like #2a6fdb, a button's index, a link, a store's id). The
    directive is found by its title: its "#id" would be another township's incident number."""
    found = [title for title in side.titles if title in text]
    for i in side.ids:
        found += [m.group(0) for m in re.finditer(rf'(#|"index":|/incident/|"id":|"customdata":\[?){i}(?![0-9a-fA-F])',
                                                  text)]
    return found


def _changes(answers: list[Answer]) -> dict[str, list[str]]:
    return {a.callback: a.changed for a in answers if a.changed}


def _leaked(answers: list[Answer], side: Side) -> dict[str, list[str]]:
    shown = {a.callback: sorted({x for r in a.replies for x in leaks(r.text + r.files, side)}) for a in answers}
    return {name: found for name, found in shown.items() if found}


def _refusals_as_asked(answers: list[Answer], browser: Browser) -> set[str]:
    """The callbacks that recorded a refusal; checks that each refused post recorded one row at most, of
    this user and address, naming what was asked."""
    refused = set()
    for a in answers:
        for r in a.replies:
            assert len(r.refusals) <= 1, (a.callback, r.trigger, r.refusals)
            if r.refusals:
                assert r.refusals[0] == (browser.username, browser.address, r.asked[:500]), (a.callback, r.refusals)
                refused.add(a.callback)
    return refused


# -- the scene: townships A and B, each with incidents in every state, a photo and a directive --

def _side(dsn: str, township: str, label: str) -> Side:
    tag = uuid.uuid4().hex[:8]
    now = datetime.now(UTC) - timedelta(minutes=5)
    staff = Actor(township_username(township), Role.TOWNSHIP, township)
    desk = Actor("zhihui", Role.COMMAND, None)
    photo = PNG + tag.encode()
    with psycopg.connect(dsn) as conn:
        lon, lat, district = one(conn,
            "SELECT label_lon, label_lat, parent_code FROM regions r JOIN boundary_versions v USING (version)"
            " WHERE v.active AND code = %s", (township,))

        def opened(state: str, routed: bool = True) -> int:
            where = Location(lon, lat, district, township if routed else None, None, None)
            incident_id = open_incident(conn, title=f"{label}{state}{tag}", category="防汛", level=2,
                                        source_kind="manual", location=where, now=now)
            assert incident_id is not None
            return incident_id

        ids = {"new": opened("待分拨", routed=False), "dispatched": opened("已分拨"), "signed": opened("已签收"),
               "resolved": opened("已反馈"), "postponed": opened("缓办")}
        for state in ("signed", "resolved", "postponed"):
            act(conn, ids[state], Action.SIGN, staff, now)
        act(conn, ids["postponed"], Action.POSTPONE, desk, now, note="等待物资")
        log_id = act(conn, ids["resolved"], Action.FEEDBACK, staff, now, note="已处置")
        attachment = one(conn,
            "INSERT INTO incident_attachments (incident_id, log_id, filename, content_type, data, uploaded_at)"
            " VALUES (%s, %s, 'x.png', 'image/png', %s, %s) RETURNING id",
            (ids["resolved"], log_id, photo, now))[0]
        directive_title = f"{label}政令{tag}"
        directive = directives.issue(conn, title=directive_title, body="", townships=[township], actor=desk, now=now)
        titles: dict[int, str] = dict(conn.execute(
            "SELECT id, title FROM incidents WHERE id = ANY(%s)", (list(ids.values()),)).fetchall())
        conn.commit()
    return Side(township, district, ids, titles, directive, directive_title, attachment, photo)


@pytest.fixture(scope="module")
def towns(dashboard_dsn: str) -> tuple[str, str]:
    """Two townships of different districts, away from the first few the other modules use."""
    with psycopg.connect(dashboard_dsn) as conn:
        rows = conn.execute("SELECT code, parent_code FROM regions r JOIN boundary_versions v USING (version)"
                            " WHERE v.active AND r.level = 'township' ORDER BY code OFFSET 20").fetchall()
    a = rows[0]
    b = next(r for r in rows if r[1] != a[1])
    return a[0], b[0]


@pytest.fixture
def sides(dashboard_dsn: str, towns: tuple[str, str]) -> tuple[Side, Side]:
    """Fresh incidents of A and B for each test: a self-check moves them on."""
    a, b = towns
    return _side(dashboard_dsn, a, "甲镇探针"), _side(dashboard_dsn, b, "乙镇机密")


@pytest.fixture
def browser(dash_calls: DashCalls, dashboard_dsn: str) -> Callable[[str | None], Browser]:
    addresses = (f"198.51.100.{n}" for n in itertools.count(10))
    return lambda username: Browser(dash_calls.app, dashboard_dsn, username, next(addresses))


# -- (a) nobody, (b) a leader, (c) township A with B's ids --

def test_nobody_gets_401_from_every_callback(browser: Callable[[str | None], Browser],
                                             sides: tuple[Side, Side]) -> None:
    _, b = sides
    nobody = browser(None)
    answers = nobody.walk(b, server_side=False)
    assert len(answers) == len(nobody.app.callback_map)
    not_401 = {(a.callback, r.trigger, r.status) for a in answers for r in a.replies if r.status != 401}
    assert not not_401
    assert _changes(answers) == {}
    assert _leaked(answers, b) == {}


def test_a_leader_changes_nothing_through_any_callback(browser: Callable[[str | None], Browser],
                                                       sides: tuple[Side, Side]) -> None:
    _, b = sides
    leader = browser("lingdao")
    answers = leader.walk(b)
    assert _changes(answers) == {}
    refused = _refusals_as_asked(answers, leader)
    # the desk's and the township's actions, the directive form, the admin's: refused, and recorded
    assert {"dashboard.pages.command.callbacks.verify", "dashboard.pages.command.callbacks.dispatch",
            "dashboard.pages.command.act.submit_act", "dashboard.pages.command.directives.submit_directive",
            "dashboard.pages.township.callbacks.sign", "dashboard.pages.township.directives.acknowledge",
            "dashboard.pages.admin.callbacks.create_user"} <= refused


def test_township_a_changes_and_reads_nothing_of_township_b(browser: Callable[[str | None], Browser],
                                                            sides: tuple[Side, Side]) -> None:
    a, b = sides
    staff = browser(township_username(a.township))
    answers = staff.walk(b)
    assert _changes(answers) == {}
    assert _leaked(answers, b) == {}
    refused = _refusals_as_asked(answers, staff)
    # refused for the role (the desk's pages), and for the township (its own desk's actions on B's ids)
    assert {"dashboard.pages.command.callbacks.verify", "dashboard.pages.township.callbacks.sign",
            "dashboard.pages.township.callbacks.submit_report", "dashboard.pages.township.callbacks.submit_return",
            "dashboard.pages.township.callbacks.assist_sign", "dashboard.pages.township.directives.acknowledge",
            } <= refused


def test_a_refusal_is_one_row_and_a_permitted_request_writes_none(browser: Callable[[str | None], Browser],
                                                                 sides: tuple[Side, Side], logged_in: LoggedIn) -> None:
    """Each refused post is one row (one INSERT); an allowed post records nothing, and two refusals in one
    request are still one row."""
    _, b = sides
    leader = browser("lingdao")
    [verify] = leader.walk(b, lambda name: name == "dashboard.pages.command.callbacks.verify")
    [update] = leader.walk(b, lambda name: name == "dashboard.pages.leader.callbacks.update")
    assert verify.replies and all(len(r.refusals) == 1 for r in verify.replies)
    assert verify.replies[0].refusals == [("lingdao", leader.address, verify.key)]
    assert update.replies and all(r.status == 200 and r.refusals == [] for r in update.replies)
    before = leader.last_event()
    with logged_in("lingdao"):
        for _ in range(2):
            with pytest.raises(auth.Denied):
                auth.require(Role.COMMAND)
    assert [r[0] for r in leader.refusals(before)] == ["lingdao"]


# The callbacks that write, and who may: the self-check posts each as that user (a township on its own
# side) and must see data change. Each on fresh incidents: one walk would use up the states it needs.
WRITERS: dict[str, str] = {f"dashboard.pages.{name}": who for name, who in (
    ("command.callbacks.verify", "zhihui"), ("command.callbacks.dispatch", "zhihui"),
    ("command.callbacks.rework", "zhihui"), ("command.callbacks.resume", "zhihui"),
    ("command.act.submit_act", "zhihui"), ("command.directives.submit_directive", "zhihui"),
    ("township.callbacks.sign", "A"), ("township.callbacks.submit_report", "A"),
    ("township.callbacks.submit_return", "A"),
    ("township.directives.acknowledge", "A"),
    ("admin.callbacks.create_user", "admin"))}


@pytest.mark.parametrize("callback", sorted(WRITERS))
def test_self_check_the_same_posts_by_a_role_that_may_act_change_data(
        browser: Callable[[str | None], Browser], sides: tuple[Side, Side], callback: str) -> None:
    """Without this, a filler that never reached the code would let the walks above pass for nothing."""
    a, b = sides
    who = WRITERS[callback]
    user, side = (township_username(a.township), a) if who == "A" else (who, b)
    answers = browser(user).walk(side, lambda name: name == callback)
    assert [x.callback for x in answers] == [callback]
    assert answers[0].changed, f"{callback} posted by {user} changed nothing"


def test_self_check_the_leak_detector_sees_what_may_be_read(browser: Callable[[str | None], Browser],
                                                             sides: tuple[Side, Side]) -> None:
    """The desk reads B (its pages, the timeline, the map, the search) and A's desk reads A, in the replies
    to the same posts: the detector that finds nothing of B in A's replies does find what is there."""
    a, b = sides
    desk = _leaked(browser("zhihui").walk(b), b)
    assert {"dash.dash.Dash.enable_pages.<locals>.router_sync.<locals>.update",
            "dashboard.pages.leader.callbacks.open_timeline", "dashboard.pages.leader.callbacks.update_list",
            "dashboard.pages.overview.callbacks.on_click", "dashboard.pages.command.callbacks.refresh",
            "dashboard.pages.leader.callbacks.export"} <= set(desk)  # the last in its Excel file
    own = _leaked(browser(township_username(a.township)).walk(a), a)
    assert {"dash.dash.Dash.enable_pages.<locals>.router_sync.<locals>.update",
            "dashboard.pages.township.callbacks.refresh",
            "dashboard.pages.township.callbacks.show_panel"} <= set(own)


@pytest.mark.parametrize("department", ["bmslj", "bmgaj"])
def test_a_department_changes_and_reads_nothing_of_a_township_it_does_not_assist(
        browser: Callable[[str | None], Browser], sides: tuple[Side, Side], department: str) -> None:
    """部门 staff are a unit like a township's: B's incidents are neither dispatched to them nor assisted by them
    (their category, 防汛 as the desk typed it, is none a department handles), so they get nothing of B."""
    _, b = sides
    staff = browser(department)
    answers = staff.walk(b)
    assert _changes(answers) == {}
    assert _leaked(answers, b) == {}
    refused = _refusals_as_asked(answers, staff)
    assert {"dashboard.pages.command.callbacks.verify", "dashboard.pages.township.callbacks.sign",
            "dashboard.pages.township.callbacks.submit_report", "dashboard.pages.admin.callbacks.create_user",
            } <= refused
    status, data, _ = staff.get(f"/attachment/{b.attachment}")
    assert status in (403, 404) and b.photo not in data


# -- the same cross-township check for what is downloaded --

def _posts(who: Browser, side: Side, callback: str) -> list[Reply]:
    answers = who.walk(side, lambda name: name == callback)
    assert len(answers) == 1 and not answers[0].changed
    return answers[0].replies


def test_photos_of_b_are_not_served_to_a(browser: Callable[[str | None], Browser], sides: tuple[Side, Side]) -> None:
    a, b = sides
    staff = browser(township_username(a.township))
    status, data, refusals = staff.get(f"/attachment/{b.attachment}")
    assert status in (403, 404) and b.photo not in data
    assert refusals == [(staff.username, staff.address, f"/attachment/{b.attachment}")]
    assert staff.get(f"/attachment/{a.attachment}")[:2] == (200, a.photo)  # A's own: served
    assert browser("zhihui").get(f"/attachment/{b.attachment}")[:2] == (200, b.photo)


def test_incident_page_of_b_shows_a_nothing(browser: Callable[[str | None], Browser],
                                           sides: tuple[Side, Side]) -> None:
    """The page's frame (a GET) holds no data; its content comes from the pages router, a callback."""
    a, b = sides
    staff, desk = browser(township_username(a.township)), browser("zhihui")
    router = "dash.dash.Dash.enable_pages.<locals>.router_sync.<locals>.update"
    to_staff = {r.asked: r for r in _posts(staff, b, router)}
    to_desk = {r.asked: r for r in _posts(desk, b, router)}
    for incident_id, title in b.title.items():
        path = f"/incident/{incident_id}"
        status, page, _ = staff.get(path)  # its meta tags repeat the URL asked for, nothing more
        assert status == 200 and not [t for t in b.titles if t in page.decode()]
        shown = to_staff[path]
        assert shown.status == 200 and "事件不存在" in shown.text and not leaks(shown.text, b), path
        assert shown.refusals == [(staff.username, staff.address, path)]  # asked for, refused, recorded
        assert title in to_desk[path].text  # the same post, by the desk: the incident itself


def test_leader_exports_and_the_quality_report_are_refused_to_a(browser: Callable[[str | None], Browser],
                                                               sides: tuple[Side, Side]) -> None:
    """The Excel exports (list and ranking, filtered on B) and the monthly report: A gets no file at all;
    a leader gets them, with B's incidents in the list's workbook."""
    a, b = sides
    staff, leader = browser(township_username(a.township)), browser("lingdao")
    export = "dashboard.pages.leader.callbacks.export"
    for callback in (export, "dashboard.pages.quality.callbacks.download_report"):
        refused = _posts(staff, b, callback)
        assert refused and all(not r.files and r.refusals for r in refused), callback
        allowed = _posts(leader, b, callback)
        assert allowed and all(r.files for r in allowed), callback
    listed = [r for r in _posts(leader, b, export) if r.trigger == "ld-export-list.n_clicks"]
    routed = [b.title[i] for state, i in b.incidents.items() if state != "new"]  # the filter is B's township
    assert listed and all(title in r.files for r in listed for title in routed)


# -- (d) a district's command center (区县指挥中心) with another district's ids --

def test_district_a_changes_and_reads_nothing_of_district_b(browser: Callable[[str | None], Browser],
                                                            sides: tuple[Side, Side]) -> None:
    """A's district desk posts every callback with B's ids, codes and township (B lies in another district):
    no row changes, no reply shows B, and its desk's actions on B are refused and recorded."""
    a, b = sides
    assert a.district != b.district
    desk = browser(district_username(a.district))
    answers = desk.walk(b)
    assert _changes(answers) == {}
    assert _leaked(answers, b) == {}
    refused = _refusals_as_asked(answers, desk)
    assert {"dashboard.pages.command.callbacks.verify", "dashboard.pages.command.callbacks.resume",
            "dashboard.pages.command.act.submit_act", "dashboard.pages.command.callbacks.rework",
            "dashboard.pages.command.directives.submit_directive", "dashboard.pages.township.callbacks.sign",
            } <= refused
    status, data, _ = desk.get(f"/attachment/{b.attachment}")
    assert status in (403, 404) and b.photo not in data


@pytest.mark.parametrize("callback", ["command.callbacks.verify", "command.callbacks.dispatch",
                                      "command.callbacks.resume", "command.act.submit_act"])
def test_self_check_a_district_desk_acts_on_its_own_district(browser: Callable[[str | None], Browser],
                                                             sides: tuple[Side, Side], callback: str) -> None:
    """The same posts by B's own district desk do change B's incidents, and its queues show them."""
    _, b = sides
    name = f"dashboard.pages.{callback}"
    answers = browser(district_username(b.district)).walk(b, lambda n: n == name)
    assert [x.callback for x in answers] == [name] and answers[0].changed, name


def test_self_check_a_district_desk_reads_its_own_district(browser: Callable[[str | None], Browser],
                                                           sides: tuple[Side, Side]) -> None:
    _, b = sides
    reads = {"dashboard.pages.command.callbacks.refresh", "dashboard.pages.leader.callbacks.update_list",
             "dashboard.pages.leader.callbacks.open_timeline", "dashboard.pages.leader.callbacks.export"}
    own = _leaked(browser(district_username(b.district)).walk(b, lambda n: n in reads), b)
    assert set(own) == reads  # its desk, its district's figures, timelines and Excel list


def test_self_check_a_district_desk_sees_its_own_district_on_its_big_screen(
        browser: Callable[[str | None], Browser], sides: tuple[Side, Side]) -> None:
    """A's district desk finds nothing of B on the big screen (the walk above) because its reads are A's: the same
    posts by B's own district desk show B's incidents (the map's points and their titles, a clicked one)."""
    _, b = sides
    reads = {"dashboard.pages.overview.callbacks.refresh", "dashboard.pages.overview.callbacks.on_click"}
    own = _leaked(browser(district_username(b.district)).walk(b, lambda n: n in reads), b)
    assert set(own) == reads
