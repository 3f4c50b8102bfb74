"""Page layouts and callbacks called directly, as a logged-in user, against the real PostgreSQL.

Each test opens its own incidents, so the tests do not depend on one another's rows.
The session check is exercised for every action: the wrong role, the wrong township
and nobody at all are refused on the server and change nothing.
"""

from __future__ import annotations

import base64
import importlib
import json
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import ModuleType, SimpleNamespace
from typing import TYPE_CHECKING, Any

import dash
import psycopg
import pytest
from dash.exceptions import PreventUpdate
from plotly.io.json import to_json_plotly

from alerts.incidents import Location, act, open_incident
from alerts.lifecycle import Action, Actor, Role
from cityops.settings import PROJECT_ROOT
from dashboard.context import get_data
from dashboard.widgets import format_details
from i18n.timefmt import utcnow
from store.users import township_username
from tests.fix_db import one

if TYPE_CHECKING:
    from tests.fix_browser import DashCalls, LoggedIn


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture(scope="module")
def pages(dash_app: dash.Dash) -> SimpleNamespace:
    """The page modules as the app imported them (register_page needs the app to exist first)."""
    def page(name: str) -> ModuleType:
        return importlib.import_module(f"dashboard.pages.{name}")
    return SimpleNamespace(township=page("township"), command=page("command"), overview=page("overview"),
                           incident=page("incident"))


@pytest.fixture(scope="module")
def towns(dashboard_dsn: str) -> tuple[str, str]:
    with psycopg.connect(dashboard_dsn) as conn:
        a, b = [r[0] for r in conn.execute(
            "SELECT code FROM regions r JOIN boundary_versions v USING (version)"
            " WHERE v.active AND r.level = 'township' ORDER BY code LIMIT 2")]
    return a, b


@pytest.fixture
def new_incident(dashboard_dsn: str) -> Callable[..., int]:
    def make(township: str | None, title: str = "测试积水", level: int = 2) -> int:
        with psycopg.connect(dashboard_dsn) as conn:
            row = conn.execute("SELECT label_lon, label_lat, parent_code FROM regions r JOIN boundary_versions v"
                               " USING (version) WHERE v.active AND code = %s", (township or "",)).fetchone()
            lon, lat, district = row if row else (None, None, None)
            incident_id = open_incident(conn, title=title, category="防汛", level=level, source_kind="manual",
                                        location=Location(lon, lat, district, township, None, None),
                                        now=datetime.now(UTC) - timedelta(minutes=2))
            conn.commit()
        assert incident_id is not None
        return incident_id
    return make


def text_of(component: Any) -> str:
    """The component tree as JSON text with Chinese left readable, for ``in`` checks."""
    return json.dumps(json.loads(to_json_plotly(component)), ensure_ascii=False, separators=(",", ":"))




def log_rows(dsn: str, incident_id: int) -> list[tuple[Any, ...]]:
    with psycopg.connect(dsn) as conn:
        return conn.execute("SELECT action, actor, role, from_status, to_status, note, details FROM incident_log"
                            " WHERE incident_id = %s ORDER BY id", (incident_id,)).fetchall()


def status_of(dsn: str, incident_id: int) -> str:
    with psycopg.connect(dsn) as conn:
        return one(conn, "SELECT status FROM incidents WHERE id = %s", (incident_id,))[0]


# -- township desk --

def test_township_sees_only_its_own_incidents(pages: SimpleNamespace, logged_in: LoggedIn,
                                              towns: tuple[str, str], new_incident: Callable[..., int]) -> None:
    a, b = towns
    mine, theirs = new_incident(a, "本镇积水"), new_incident(b, "他镇积水")
    with logged_in(township_username(a)):
        page = text_of(pages.township.layout())
        refreshed = text_of(pages.township.callbacks.refresh(1, 0, 0)[0])
    for shown in (page, refreshed):
        assert f"tw-card-{mine}" in shown and "本镇积水" in shown
        assert f"tw-card-{theirs}" not in shown and "他镇积水" not in shown


def test_sign_writes_the_log_and_a_second_sign_is_refused(pages: SimpleNamespace, logged_in: LoggedIn,
                                                          towns: tuple[str, str], dashboard_dsn: str,
                                                          new_incident: Callable[..., int],
                                                          dash_calls: DashCalls) -> None:
    a, _ = towns
    incident_id = new_incident(a)
    button = {"type": "tw-sign", "index": incident_id}
    with logged_in(township_username(a)):
        msg, version = dash_calls.clicked(pages.township.callbacks.sign, button, [1], 3)
        assert "操作成功" in text_of(msg) and version == 4
        msg, _ = dash_calls.clicked(pages.township.callbacks.sign, button, [1], 4)
        assert "该事件已签收或状态已变化，请刷新" in text_of(msg)
    signs = [r for r in log_rows(dashboard_dsn, incident_id) if r[0] == "sign"]
    assert [(r[1], r[2], r[3], r[4]) for r in signs] == [(township_username(a), "township", "dispatched", "signed")]


@pytest.mark.parametrize("who, expected", [
    ("other-township", "该事件不属于本镇街，无权处理"),
    ("lingdao", "您的角色无权查看此页面"),
    (None, "请先登录"),
])
def test_sign_is_refused_on_the_server(pages: SimpleNamespace, logged_in: LoggedIn, towns: tuple[str, str],
                                       dashboard_dsn: str, new_incident: Callable[..., int], who: str | None,
                                       expected: str, dash_calls: DashCalls) -> None:
    a, b = towns
    incident_id = new_incident(a)
    user = township_username(b) if who == "other-township" else who
    with logged_in(user):
        told = dash_calls.told(pages.township.callbacks.sign, {"type": "tw-sign", "index": incident_id}, [1], 0)
    assert expected in told
    assert status_of(dashboard_dsn, incident_id) == "dispatched"


def test_other_townships_ids_are_not_confirmed(pages: SimpleNamespace, logged_in: LoggedIn,
                                               towns: tuple[str, str], dash_calls: DashCalls) -> None:
    with logged_in(township_username(towns[0])):
        msg, _ = dash_calls.clicked(pages.township.callbacks.sign, {"type": "tw-sign", "index": 987654321}, [1], 0)
    assert "该事件不属于本镇街" in text_of(msg)  # the same answer as for an existing incident of another township


def test_a_rerendered_button_is_not_a_click(pages: SimpleNamespace, logged_in: LoggedIn,
                                            towns: tuple[str, str], dash_calls: DashCalls) -> None:
    with logged_in(township_username(towns[0])), pytest.raises(PreventUpdate):
        dash_calls.triggered_by(pages.township.callbacks.sign, '{"index":1,"type":"tw-sign"}.n_clicks', 0, [0], 0)


def _feedback(pages: SimpleNamespace, incident_id: int, note: str, result: str | None,
              photo: str | None = None) -> dict[str, Any]:
    return pages.township.callbacks.submit_report(1, {"id": incident_id, "mode": "feedback"}, note, result, "0",
                                                  "", [photo] if photo else None, ["现场.png"] if photo else None, 0)


def test_feedback_validates_then_stores_details_and_photo(pages: SimpleNamespace, logged_in: LoggedIn,
                                                          towns: tuple[str, str], dashboard_dsn: str,
                                                          new_incident: Callable[..., int],
                                                          dash_calls: DashCalls) -> None:
    a, _ = towns
    incident_id = new_incident(a)
    photo = "data:image/png;base64," + base64.b64encode(PNG).decode()
    with logged_in(township_username(a)):
        dash_calls.clicked(pages.township.callbacks.sign, {"type": "tw-sign", "index": incident_id}, [1], 0)
        no_result = _feedback(pages, incident_id, "已处置", None)
        assert "请选择处置结果" in text_of(no_result["form_msg"])  # shown in the form, which stays open
        assert no_result["selected"] is dash.no_update
        no_note = _feedback(pages, incident_id, "   ", "resolved")
        assert "请填写处置情况" in text_of(no_note["form_msg"])
        assert status_of(dashboard_dsn, incident_id) == "signed"
        ok = _feedback(pages, incident_id, "已转移群众，积水已排除", "resolved", photo)
        assert "操作成功" in text_of(ok["msg"])
        cleared = (ok["selected"], ok["note"], ok["evacuated"], ok["photo"], ok["filename"])
        assert cleared == (None, "", "0", None, None)  # panel closed, form cleared
    assert status_of(dashboard_dsn, incident_id) == "resolved"
    action, _, _, _, to_status, note, details = log_rows(dashboard_dsn, incident_id)[-1]
    assert (action, to_status, note) == ("feedback", "resolved", "已转移群众，积水已排除")
    assert details == {"result": "resolved", "photos": ["现场.png"]}
    with psycopg.connect(dashboard_dsn) as conn:
        photos = conn.execute("SELECT a.content_type, a.data, l.action FROM incident_attachments a"
                              " JOIN incident_log l ON l.id = a.log_id WHERE a.incident_id = %s",
                              (incident_id,)).fetchall()
    assert photos == [("image/png", PNG, "feedback")]


def test_return_needs_a_reason(pages: SimpleNamespace, logged_in: LoggedIn, towns: tuple[str, str],
                               dashboard_dsn: str, new_incident: Callable[..., int]) -> None:
    a, _ = towns
    incident_id = new_incident(a)
    selected = {"id": incident_id, "mode": "return"}
    with logged_in(township_username(a)):
        empty = pages.township.callbacks.submit_return(1, selected, "", 0)
        assert "请填写退单原因" in text_of(empty["form_msg"])
        done = pages.township.callbacks.submit_return(1, selected, "不属于本辖区", 0)
        assert "操作成功" in text_of(done["msg"])
    assert status_of(dashboard_dsn, incident_id) == "new"
    assert log_rows(dashboard_dsn, incident_id)[-1][5] == "不属于本辖区"


def test_english_refusal(pages: SimpleNamespace, logged_in: LoggedIn, towns: tuple[str, str],
                         new_incident: Callable[..., int], dash_calls: DashCalls) -> None:
    a, _ = towns
    incident_id = new_incident(a)
    with logged_in(township_username(a), lang="en"):
        dash_calls.clicked(pages.township.callbacks.sign, {"type": "tw-sign", "index": incident_id}, [1], 0)
        msg, _ = dash_calls.clicked(pages.township.callbacks.sign, {"type": "tw-sign", "index": incident_id}, [1], 0)
    assert "Already signed for or changed meanwhile" in text_of(msg)


# -- command desk --

def test_dispatch_needs_a_real_township_and_a_command_role(pages: SimpleNamespace, logged_in: LoggedIn,
                                                           towns: tuple[str, str], dashboard_dsn: str,
                                                           new_incident: Callable[..., int],
                                                           dash_calls: DashCalls) -> None:
    b = towns[1]
    incident_id = new_incident(None, "无位置的事件")  # no township: stays 待分拨
    button = {"type": "cmd-dispatch", "index": incident_id}

    def chosen(value: str | None) -> list[dict[str, Any]]:
        """The dropdown of the card, with ``value`` chosen."""
        return [{"id": {"type": "cmd-target", "index": incident_id}, "property": "value", "value": value}]

    with logged_in("zhihui"):
        assert "cmd-dispatch" in text_of(pages.command.layout())
        none_chosen = dash_calls.clicked(pages.command.callbacks.dispatch, button, [1], [None], 0, matched=chosen(None))
        assert "请选择派遣的镇街" in text_of(none_chosen[0])
        bogus = dash_calls.clicked(pages.command.callbacks.dispatch, button, [1], ["999999999"], 0,
                                   matched=chosen("999999999"))
        assert "请选择派遣的镇街" in text_of(bogus[0])
    with logged_in("lingdao"):
        leader = dash_calls.clicked(pages.command.callbacks.dispatch, button, [1], [b], 0, matched=chosen(b))
        assert "您的角色无权" in text_of(leader[0])
    assert status_of(dashboard_dsn, incident_id) == "new"
    with logged_in("zhihui"):
        ok = dash_calls.clicked(pages.command.callbacks.dispatch, button, [1], [b], 0, matched=chosen(b))
        assert "操作成功" in text_of(ok[0])
    with psycopg.connect(dashboard_dsn) as conn:
        assert conn.execute("SELECT status, township_code FROM incidents WHERE id = %s",
                            (incident_id,)).fetchone() == ("dispatched", b)


def _resolved(dsn: str, township: str, new_incident: Callable[..., int]) -> int:
    incident_id = new_incident(township)
    actor = Actor(township_username(township), Role.TOWNSHIP, township)
    with psycopg.connect(dsn) as conn:
        now = datetime.now(UTC)
        act(conn, incident_id, Action.SIGN, actor, now)
        act(conn, incident_id, Action.FEEDBACK, actor, now, note="处置完毕", details={"people_evacuated": 2})
        conn.commit()
    return incident_id


def test_verify_and_rework(pages: SimpleNamespace, logged_in: LoggedIn, towns: tuple[str, str],
                           dashboard_dsn: str, new_incident: Callable[..., int], dash_calls: DashCalls) -> None:
    a, _ = towns
    to_close, to_redo = _resolved(dashboard_dsn, a, new_incident), _resolved(dashboard_dsn, a, new_incident)
    with logged_in("zhihui"):
        whole = pages.command.load.queues(get_data(), utcnow(), pages.command.load.shown_rows({"verify": 10_000}))
        shown = text_of(pages.command.views.queues(whole, "zh", True))
        assert f'{{"type":"cmd-verify","index":{to_close}}}' in shown
        # Cards keyed by incident: when a redraw removes one, React keeps the others' buttons, so a
        # click landing during the redraw is neither lost nor applied to the card that slid under it.
        assert f"cmd-resolved-{to_close}" in shown and f"cmd-resolved-{to_redo}" in shown
        assert "转移人数 2" in shown  # the verifier sees what was reported
        button = {"type": "cmd-verify", "index": to_close}

        def cause(value: int | None) -> list[dict[str, Any]]:
            """The card's root cause dropdown (七张问题清单), with ``value`` chosen."""
            return [{"id": {"type": "cmd-root-cause", "index": to_close}, "property": "value", "value": value}]

        none = dash_calls.clicked(pages.command.callbacks.verify, button, [1], [None], 0, matched=cause(None))[0]
        assert "请选择根源分类后再核查结案" in text_of(none)  # a desk's close names its root cause
        msg = dash_calls.clicked(pages.command.callbacks.verify, button, [1], [1], 0, matched=cause(1))[0]
        assert "核查结案：操作成功" in text_of(msg)
        again = dash_calls.clicked(pages.command.callbacks.verify, button, [1], [1], 0, matched=cause(1))[0]
        assert "该事件已结案或状态已变化，请刷新" in text_of(again)
        no_reason = pages.command.callbacks.rework(1, to_redo, " ", 0)
        assert "请填写返工原因" in text_of(no_reason["msg"])
        redo = pages.command.callbacks.rework(1, to_redo, "照片不清晰，请补充", 0)
        assert "操作成功" in text_of(redo["msg"])
    assert status_of(dashboard_dsn, to_close) == "closed"
    assert status_of(dashboard_dsn, to_redo) == "in_progress"
    assert log_rows(dashboard_dsn, to_redo)[-1][:3] == ("rework", "zhihui", "command")


def test_township_cannot_verify_and_leader_sees_read_only(pages: SimpleNamespace, logged_in: LoggedIn,
                                                          towns: tuple[str, str], dashboard_dsn: str,
                                                          new_incident: Callable[..., int],
                                                          dash_calls: DashCalls) -> None:
    a, _ = towns
    incident_id = _resolved(dashboard_dsn, a, new_incident)
    with logged_in(township_username(a)):
        msg = dash_calls.clicked(pages.command.callbacks.verify, {"type": "cmd-verify", "index": incident_id},
                                 [1], [None], 0, matched=[{"id": {"type": "cmd-root-cause", "index": incident_id},
                                                           "property": "value", "value": None}])[0]
        assert "您的角色无权查看此页面" in text_of(msg)
        assert "您的角色无权查看此页面" in text_of(pages.command.layout())
    with logged_in("lingdao"):
        page = text_of(pages.command.layout())
        assert "只读" in page and "cmd-verify" not in page
    assert status_of(dashboard_dsn, incident_id) == "resolved"


def _find(component: Any, component_id: str) -> Any:
    if getattr(component, "id", None) == component_id:
        return component
    children = getattr(component, "children", None)
    for child in children if isinstance(children, list) else [children]:
        if child is not None and not isinstance(child, str):
            found = _find(child, component_id)
            if found is not None:
                return found
    return None


# -- incident timeline --

def test_incident_page_shows_log_and_timeline(pages: SimpleNamespace, logged_in: LoggedIn,
                                              towns: tuple[str, str], dashboard_dsn: str,
                                              new_incident: Callable[..., int]) -> None:
    a, b = towns
    incident_id = _resolved(dashboard_dsn, a, new_incident)
    with logged_in("lingdao"):
        page = pages.incident.layout(incident_id=str(incident_id))
        shown = text_of(page)
    for word in ("立案", "派遣", "签收", "处置反馈", "已签收 → 已反馈", "处置完毕", "转移人数：2", "system",
                 "镇街工作人员"):
        assert word in shown, word
    timeline = _find(page, pages.incident.ids.Ids.TIMELINE).figure
    assert list(timeline.data[0].y) == ["待分拨", "已分拨", "已签收", "已反馈"]
    with logged_in(township_username(a)):
        assert "处置完毕" in text_of(pages.incident.layout(incident_id=str(incident_id)))
    with logged_in(township_username(b)):
        assert "处置完毕" not in text_of(pages.incident.layout(incident_id=str(incident_id)))
    with logged_in("zhihui"):
        assert "事件不存在" in text_of(pages.incident.layout(incident_id="abc"))


@pytest.mark.parametrize("details, zh, en", [
    ({"to": "leader", "tier": 3}, "督办对象：分管领导；督办层级：第3级",
     "Sent to: the leader in charge; Escalation tier: 3"),
    ({"level": 1, "from_level": 2}, "等级：橙色 II级 → 红色 I级", "Level: Orange (II) → Red (I)"),
    ({"level": 2, "category": "flood", "near_boundary": True}, "等级：橙色 II级；类别：防汛防台；近边界：是",
     "Level: Orange (II); Category: Flood; Near a boundary: yes"),
    ({"category": "hotline", "lon": 112.87, "lat": 25.5, "township_code_of_point": "431002001"},
     "类别：民生诉求；位置：112.87000, 25.50000；点位所在镇街：人民路街道",
     "Category: Citizen hotline; Location: 112.87000, 25.50000; Township of the point: 人民路街道"),
    ('{"people_evacuated": 2, "into": 7, "override": true}', "转移人数：2；合并到事件：#7；强制结案：是",
     "People evacuated: 2; Merged into: #7; Closed anyway: yes"),
    ({"grid_code": "431002001001"}, "点位所在网格：人民路街道第1网格", "Grid of the point: 人民路街道第1网格"),
    ({"district_code": "431002", "sign_deadline": "2026-12-07T20:32:22+00:00",
      "finish_deadline": "2026-12-10T18:32:22+00:00"},  # a dispatch's deadlines, kept in UTC, said in local time
     "区县：北湖区；签收时限：2026-12-08 04:32；办结时限：2026-12-11 02:32",
     "District: 北湖区; Sign by: 2026-12-08 04:32; Finish by: 2026-12-11 02:32"),
    ({"new_key": "x"}, "new_key：x", "new_key: x"),  # a key of a newer lifecycle shows as it is
])
def test_log_details_are_said_in_the_users_language(details: Any, zh: str, en: str) -> None:
    names = {"431002001": "人民路街道", "431002": "北湖区", "431002001001": "人民路街道第1网格"}
    assert format_details(details, names, "zh") == zh
    assert format_details(details, names, "en") == en


def test_the_township_list_is_sent_again_only_when_it_changed(pages: SimpleNamespace, logged_in: LoggedIn,
                                                              towns: tuple[str, str], monkeypatch: pytest.MonkeyPatch,
                                                              new_incident: Callable[..., int],
                                                              dash_calls: DashCalls) -> None:
    a, _ = towns
    new_incident(a, "第一件")
    monkeypatch.setattr(pages.township.callbacks, "utcnow", lambda: datetime(2026, 5, 1, 8, 0, 30, tzinfo=UTC))
    refresh = pages.township.callbacks.refresh  # the queue and the 政令 in one request a tick
    with logged_in(township_username(a)):
        _, marker, _, pending, _, _, banner = dash_calls.triggered_by(refresh, "tw-tick.n_intervals", 1, 1, 0, 0,
                                                                      None, None, None)
        with pytest.raises(PreventUpdate):  # same minute, same rows, same 政令, same banner: nothing is sent
            dash_calls.triggered_by(refresh, "tw-tick.n_intervals", 2, 2, 0, 0, marker, pending, banner)
        after_action, *_ = dash_calls.triggered_by(refresh, "tw-version.data", 1, 2, 1, 0, marker, pending, banner)
        new_incident(a, "第二件")
        changed, new_marker, *not_sent = dash_calls.triggered_by(refresh, "tw-tick.n_intervals", 3, 3, 1, 0, marker,
                                                                 pending, banner)
    assert banner == ["zh"]  # the first tick draws the banner: no level in force, hidden
    assert "tw-card-" in text_of(after_action)  # an action always re-reads
    assert "第二件" in text_of(changed) and new_marker != marker
    assert not_sent == [dash.no_update] * 5  # the 政令 and the banner, unchanged, are not sent again


def test_the_command_desk_is_not_redrawn_after_a_refused_action(pages: SimpleNamespace, logged_in: LoggedIn,
                                                                 new_incident: Callable[..., int],
                                                                 dash_calls: DashCalls) -> None:
    """A refused action changes nothing: the cards stay as they are, so the dropdown the user is about to choose
    from (a root cause after 核查结案 was refused for want of one) is not re-drawn shut; a real change is sent."""
    refresh = pages.command.callbacks.refresh
    with logged_in("zhihui"):
        _, marker, shown = dash_calls.triggered_by(refresh, "cmd-tick.n_intervals", 1, 1, 0, [], None, None)
        with pytest.raises(PreventUpdate):
            dash_calls.triggered_by(refresh, "cmd-version.data", 1, 1, 1, [], marker, shown)
        new_incident(None, "退单后待分拨")
        changed, new_marker, _ = dash_calls.triggered_by(refresh, "cmd-version.data", 2, 1, 2, [], marker, shown)
    assert "退单后待分拨" in text_of(changed) and new_marker != marker


# Two apps in one process; apart from this session's, whose modules it would re-execute.
SECOND_APP = """
import sys
from dashboard.app import create_app
from dashboard.context import EXTENSION

apps = []
for key in ("first", "second"):
    app = create_app(sys.argv[1], secret_key=key)
    app.server.test_client().get("/login")  # the first request takes over the callbacks registered so far
    app.server.extensions[EXTENSION].close()
    apps.append(app)
first, second = (set(app.callback_map) for app in apps)
assert first == second and len(second) > 30, first ^ second
command = sys.modules["dashboard.pages.command"]
assert command.callbacks is sys.modules["dashboard.pages.command.callbacks"]
served = {getattr(spec.get("callback"), "__wrapped__", None) for spec in apps[1].callback_map.values()}
assert command.callbacks.refresh in served and command.act.submit_act in served
"""


def test_a_second_app_gets_every_callback_again(dashboard_dsn: str) -> None:
    """A page package is re-executed submodules first: the callbacks in them register for the next app too,
    and the package holds the re-executed modules."""
    subprocess.run([sys.executable, "-c", SECOND_APP, dashboard_dsn], cwd=PROJECT_ROOT, check=True, timeout=120)
