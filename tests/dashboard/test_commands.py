"""The command desk's transfer, assist, postpone/resume, merge and override close, and 政令一键智达
(issue on the command desk, acknowledge on the township desk), called as a logged-in user
against the real PostgreSQL. Refusals are checked to change nothing.
"""

from __future__ import annotations

import importlib
import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import dash
import psycopg
import pytest
from plotly.io.json import to_json_plotly

from alerts.incidents import Location, act, open_incident
from alerts.lifecycle import Action, Actor, Role
from alerts.locate import locate
from dashboard.context import get_data
from i18n.timefmt import utcnow
from layers.loader import load_active_layers
from store.users import township_username
from tests.fix_db import one
from tests.near_border import border_points

if TYPE_CHECKING:
    from tests.fix_browser import DashCalls, LoggedIn


@pytest.fixture(scope="module")
def pages(dash_app: dash.Dash) -> SimpleNamespace:
    return SimpleNamespace(command=importlib.import_module("dashboard.pages.command"),
                           township=importlib.import_module("dashboard.pages.township"),
                           incident=importlib.import_module("dashboard.pages.incident"))


@pytest.fixture(scope="module")
def towns(dashboard_dsn: str) -> tuple[str, str, str]:
    with psycopg.connect(dashboard_dsn) as conn:
        a, b, c = [r[0] for r in conn.execute(
            "SELECT code FROM regions r JOIN boundary_versions v USING (version)"
            " WHERE v.active AND r.level = 'township' ORDER BY code LIMIT 3")]
    return a, b, c


def _incident(dsn: str, township: str | None, title: str = "命令台测试", *, warning: bool = False) -> int:
    with psycopg.connect(dsn) as conn:
        now = datetime.now(UTC) - timedelta(minutes=2)
        warning_id = None
        if warning:
            row = conn.execute(
                "INSERT INTO warnings (rule_id, subject, level, status, title, opened_at, updated_at, township_code)"
                " VALUES ('gas_high', %s, 2, 'open', '燃气浓度超标', %s, %s, %s) RETURNING id",
                (f"dev-{uuid.uuid4().hex[:8]}", now, now, township)).fetchone()
            warning_id = row[0] if row else None
        # A category no department handles: the desk's own moves are what these tests watch (no 部门 协办).
        incident_id = open_incident(conn, title=title, category="市容", level=2,
                                    source_kind="warning" if warning else "manual",
                                    location=Location(None, None, None, township, None, None), now=now,
                                    warning_id=warning_id)
        conn.commit()
    assert incident_id is not None
    return incident_id


def _signed(dsn: str, township: str, **kw: Any) -> int:
    incident_id = _incident(dsn, township, **kw)
    with psycopg.connect(dsn) as conn:
        act(conn, incident_id, Action.SIGN, Actor(township_username(township), Role.TOWNSHIP, township),
            datetime.now(UTC))
        conn.commit()
    return incident_id


def _resolved(dsn: str, township: str, **kw: Any) -> int:
    incident_id = _signed(dsn, township, **kw)
    with psycopg.connect(dsn) as conn:
        act(conn, incident_id, Action.FEEDBACK, Actor(township_username(township), Role.TOWNSHIP, township),
            datetime.now(UTC), note="已关阀通风")
        conn.commit()
    return incident_id


EVERY_ROW = {"verify": 10_000, "new": 10_000, "active": 10_000}  # the queues uncut, whatever else is open


def text_of(component: Any) -> str:
    return json.dumps(json.loads(to_json_plotly(component)), ensure_ascii=False, separators=(",", ":"))



def row(dsn: str, incident_id: int) -> tuple[Any, ...]:
    with psycopg.connect(dsn) as conn:
        found = conn.execute("SELECT status, township_code, assist_units, merged_into FROM incidents WHERE id = %s",
                             (incident_id,)).fetchone()
    assert found is not None
    return tuple(found)


def actions(dsn: str, incident_id: int) -> list[str]:
    with psycopg.connect(dsn) as conn:
        return [r[0] for r in conn.execute("SELECT action FROM incident_log WHERE incident_id = %s ORDER BY id",
                                           (incident_id,))]


def submit(pages: SimpleNamespace, incident_id: int, mode: str, *, township: str | None = None,
           into: object = None, override: list[str] | None = None, note: str = "") -> dict[str, Any]:
    result: dict[str, Any] = pages.command.act.submit_act(1, {"id": incident_id, "action": mode}, township,
                                                                into, override or [], note, 0)
    return result


def command_queues(pages: SimpleNamespace, lang: str, can_act: bool, asked: object = None) -> list[Any]:
    """The command desk's queues as the page draws them, with ``asked`` rows per queue (as a browser asks)."""
    command = pages.command
    model = command.load.queues(get_data(), utcnow(), command.load.shown_rows(asked))
    return command.views.queues(model, lang, can_act)


# -- 转派 / 协办 / 缓办 / 恢复办理 / 合并 --

def test_transfer_needs_a_reason_and_moves_the_incident(pages: SimpleNamespace, logged_in: LoggedIn,
                                                        towns: tuple[str, str, str], dashboard_dsn: str,
                                                        dash_calls: DashCalls) -> None:
    a, b, _ = towns
    incident_id = _signed(dashboard_dsn, a)
    with logged_in("zhihui"):
        assert '"action":"transfer"' in text_of(pages.command.layout())
        assert f"cmd-row-{incident_id}" in text_of(command_queues(pages, "zh", True, EVERY_ROW))
        opened = dash_calls.clicked(pages.command.act.select_act, {"type": "cmd-open-act", "index": incident_id,
                                                    "action": "transfer"}, [1], 0)
        assert opened == ({"id": incident_id, "action": "transfer"}, None, None)
        panel = pages.command.act.show_act_panel(opened[0])
        assert panel["hidden"] is False and "转派 · #" in panel["title"] and panel["township_hidden"] is False
        assert a not in [o["value"] for o in panel["township_options"]]  # the current unit is not offered
        no_reason = submit(pages, incident_id, "transfer", township=b, note=" ")
        assert "请填写转派原因" in text_of(no_reason["form_msg"])
        no_target = submit(pages, incident_id, "transfer", township=None, note="属地有误")
        assert "请选择转派的镇街" in text_of(no_target["form_msg"])
        ok = submit(pages, incident_id, "transfer", township=b, note="属地有误")
        assert "转派：操作成功" in text_of(ok["msg"]) and ok["selected"] is None
        again = submit(pages, incident_id, "transfer", township=b, note="属地有误")  # a double submit
        assert "不能转派给当前承办单位" in text_of(again["form_msg"])
    assert row(dashboard_dsn, incident_id)[:2] == ("dispatched", b)
    assert actions(dashboard_dsn, incident_id).count("transfer") == 1


def test_assist_is_logged_once(pages: SimpleNamespace, logged_in: LoggedIn, towns: tuple[str, str, str],
                               dashboard_dsn: str) -> None:
    a, b, c = towns
    incident_id = _signed(dashboard_dsn, a)
    with logged_in("zhihui"):
        assert "请填写协办事项说明" in text_of(submit(pages, incident_id, "assist", township=b)["form_msg"])
        assert "操作成功" in text_of(submit(pages, incident_id, "assist", township=b, note="协助疏散")["msg"])
        twice = submit(pages, incident_id, "assist", township=b, note="协助疏散")
        assert "该镇街已是承办或协办单位" in text_of(twice["form_msg"])
        own = submit(pages, incident_id, "assist", township=a, note="自己协办自己")
        assert "该镇街已是承办或协办单位" in text_of(own["form_msg"])
        assert "协办：" in text_of(command_queues(pages, "zh", True, EVERY_ROW))
    assert row(dashboard_dsn, incident_id)[:3] == ("signed", a, [b])
    assert actions(dashboard_dsn, incident_id).count("assist") == 1
    assert c not in row(dashboard_dsn, incident_id)[2]


def test_postpone_and_resume(pages: SimpleNamespace, logged_in: LoggedIn, towns: tuple[str, str, str],
                             dashboard_dsn: str, dash_calls: DashCalls) -> None:
    a, _, _ = towns
    incident_id = _signed(dashboard_dsn, a)
    resume_button = {"type": "cmd-resume", "index": incident_id}
    with logged_in("zhihui"):
        assert "请填写缓办理由" in text_of(submit(pages, incident_id, "postpone")["form_msg"])
        assert "缓办：操作成功" in text_of(submit(pages, incident_id, "postpone", note="汛期过后施工，已批准")["msg"])
        twice = submit(pages, incident_id, "postpone", note="汛期过后施工，已批准")
        assert "该事件已缓办或状态已变化" in text_of(twice["form_msg"])
        page = text_of(command_queues(pages, "zh", True, EVERY_ROW))
        assert "缓办中" in page and json.dumps(resume_button, ensure_ascii=False, separators=(",", ":")) in page
        msg, _ = dash_calls.clicked(pages.command.callbacks.resume, resume_button, [1], 0)
        assert "恢复办理：操作成功" in text_of(msg)
        msg, _ = dash_calls.clicked(pages.command.callbacks.resume, resume_button, [1], 0)
        assert "该事件已恢复办理或状态已变化" in text_of(msg)
    assert row(dashboard_dsn, incident_id)[0] == "in_progress"
    assert actions(dashboard_dsn, incident_id)[-2:] == ["postpone", "resume"]


def test_merge_into_an_open_incident(pages: SimpleNamespace, logged_in: LoggedIn, towns: tuple[str, str, str],
                                     dashboard_dsn: str) -> None:
    a, _, _ = towns
    keep, duplicate = _signed(dashboard_dsn, a, title="燃气泄漏"), _incident(dashboard_dsn, a, "燃气泄漏（重复）")
    with logged_in("zhihui"):
        not_a_number = submit(pages, duplicate, "merge", into="abc", note="重复")
        assert "请填写要合并到的事件编号" in text_of(not_a_number["form_msg"])
        assert "请填写合并说明" in text_of(submit(pages, duplicate, "merge", into=str(keep))["form_msg"])
        itself = submit(pages, duplicate, "merge", into=str(duplicate), note="重复")
        assert "请填写要合并到的未结案事件编号" in text_of(itself["form_msg"])
        ok = submit(pages, duplicate, "merge", into=f"＃{keep}", note="同一处泄漏")  # typed with a Chinese IME
        assert "合并：操作成功" in text_of(ok["msg"])
        again = submit(pages, duplicate, "merge", into=str(keep), note="同一处泄漏")
        assert "该事件已合并或状态已变化" in text_of(again["form_msg"])
    assert row(dashboard_dsn, duplicate)[0] == "merged" and row(dashboard_dsn, duplicate)[3] == keep


def test_override_close_when_the_sensor_still_breaches(pages: SimpleNamespace, logged_in: LoggedIn,
                                                       towns: tuple[str, str, str], dashboard_dsn: str,
                                                       dash_calls: DashCalls) -> None:
    a, _, _ = towns
    incident_id = _resolved(dashboard_dsn, a, warning=True)
    with logged_in("zhihui"):
        msg, _, opened = dash_calls.clicked(pages.command.callbacks.verify,
                                            {"type": "cmd-verify", "index": incident_id}, [1], [None], 0,
                                            matched=[{"id": {"type": "cmd-root-cause", "index": incident_id},
                                                      "property": "value", "value": None}])
        assert "监测设备仍在报警，不能结案" in text_of(msg)
        assert opened == {"id": incident_id, "action": "override"}  # the override form opens
        panel = pages.command.act.show_act_panel(opened)
        assert "强制结案 · #" in panel["title"] and panel["override_hidden"] is False
        assert "强制结案理由" in panel["note_label"]
        unticked = submit(pages, incident_id, "override", note="现场已处置，传感器待校准")
        assert "请勾选“强制结案”" in text_of(unticked["form_msg"])
        no_reason = submit(pages, incident_id, "override", override=["override"], note="  ")
        assert "请填写强制结案理由" in text_of(no_reason["form_msg"])
        assert row(dashboard_dsn, incident_id)[0] == "resolved"
        ok = submit(pages, incident_id, "override", override=["override"], note="现场已处置，传感器待校准")
        assert "核查结案：操作成功" in text_of(ok["msg"])
        again = submit(pages, incident_id, "override", override=["override"], note="现场已处置，传感器待校准")
        assert "该事件已结案或状态已变化" in text_of(again["form_msg"])
    assert row(dashboard_dsn, incident_id)[0] == "closed"
    with psycopg.connect(dashboard_dsn) as conn:
        note, details = one(conn, "SELECT note, details FROM incident_log WHERE incident_id = %s"
                                     " AND action = 'verify'", (incident_id,))
        (warning,) = one(conn, "SELECT warning_id FROM incidents WHERE id = %s", (incident_id,))
    assert (note, details) == ("现场已处置，传感器待校准", {"override": True, "open_warnings": [warning]})


@pytest.mark.parametrize("who, expected", [("township", "您的角色无权查看此页面"),
                                           ("lingdao", "您的角色无权查看此页面"), (None, "请先登录")])
def test_command_callbacks_refuse_other_roles(pages: SimpleNamespace, logged_in: LoggedIn,
                                              towns: tuple[str, str, str], dashboard_dsn: str, who: str | None,
                                              expected: str, dash_calls: DashCalls) -> None:
    a, b, _ = towns
    incident_id = _signed(dashboard_dsn, a)
    user = township_username(a) if who == "township" else who
    with logged_in(user):
        for mode, kw in (("transfer", {"township": b, "note": "x"}), ("assist", {"township": b, "note": "x"}),
                         ("postpone", {"note": "x"}), ("merge", {"into": "1", "note": "x"})):
            assert expected in text_of(submit(pages, incident_id, mode, **kw)["form_msg"]), mode
        resume = {"type": "cmd-resume", "index": incident_id}
        assert expected in dash_calls.told(pages.command.callbacks.resume, resume, [1], 0)
        issued = pages.command.directives.submit_directive(1, "越权政令", "", "all", [], [], "30", 0)
        assert expected in text_of(issued["msg"])
    assert row(dashboard_dsn, incident_id)[:3] == ("signed", a, [])
    assert actions(dashboard_dsn, incident_id) == ["create", "dispatch", "sign"]
    with psycopg.connect(dashboard_dsn) as conn:
        assert conn.execute("SELECT count(*) FROM directives WHERE title = '越权政令'").fetchone() == (0,)


def test_returned_incident_shows_reason_and_suggested_owner(pages: SimpleNamespace, logged_in: LoggedIn,
                                                            towns: tuple[str, str, str], dashboard_dsn: str,
                                                            dash_calls: DashCalls) -> None:
    a, b, _ = towns
    incident_id = _incident(dashboard_dsn, a, "边界处路灯损坏")
    with logged_in(township_username(a)):
        done = pages.township.callbacks.submit_return(1, {"id": incident_id, "mode": "return"}, "位于邻镇辖区", 0, b)
        assert "退单：操作成功" in text_of(done["msg"])
        assert f"tw-card-{incident_id}" not in text_of(pages.township.layout())  # back with the command center
    with logged_in("zhihui"):
        queues = command_queues(pages, "zh", True, EVERY_ROW)
        waiting = dash_calls.find(queues, "cmd-queue-new")  # 待分拨, wherever a 待受理 queue puts it
        card = text_of(waiting)
    assert "退单原因：位于邻镇辖区" in card and "建议承办：" in card
    dropdown = dash_calls.find(waiting, {"type": "cmd-target", "index": incident_id})
    assert dropdown.value == b  # the suggestion is pre-chosen for re-dispatch


# -- 确认属地: an incident near a township border --

def test_near_boundary_incident_is_badged_until_the_command_desk_confirms_its_area(
        pages: SimpleNamespace, logged_in: LoggedIn, dashboard_dsn: str, dash_calls: DashCalls) -> None:
    points, layers = border_points(), load_active_layers(dashboard_dsn)

    def opened(point: tuple[float, float], title: str) -> int:
        with psycopg.connect(dashboard_dsn) as conn:
            incident_id = open_incident(conn, title=title, category="市容", level=3, source_kind="manual",
                                        location=locate(*point, layers), now=datetime.now(UTC) - timedelta(minutes=2))
            conn.commit()
        assert incident_id is not None
        return incident_id

    near, far = opened(points.near, "边界处井盖缺失"), opened(points.far, "镇中心井盖缺失")
    badge, hint = "近边界·请确认属地", "可能不属于本镇街"
    confirm = {"type": "cmd-open-act", "index": near, "action": "confirm"}
    confirm_json = json.dumps(confirm, ensure_ascii=False, separators=(",", ":"))
    staff = township_username(points.township)
    with logged_in("zhihui"):
        queues = command_queues(pages, "zh", True, EVERY_ROW)
        near_row, far_row = dash_calls.part(queues, f"cmd-row-{near}"), dash_calls.part(queues, f"cmd-row-{far}")
        assert badge in near_row and "确认属地" in near_row
        assert badge not in far_row and '"action":"confirm"' not in far_row
        english = command_queues(pages, "en", True, EVERY_ROW)
        assert "Near a boundary: confirm the area" in dash_calls.part(english, f"cmd-row-{near}")
        assert badge in text_of(pages.incident.layout(incident_id=str(near)))
        assert badge not in text_of(pages.incident.layout(incident_id=str(far)))
        opened_panel = dash_calls.clicked(pages.command.act.select_act, confirm, [1], 0)
        assert opened_panel == ({"id": near, "action": "confirm"}, None, None)
        panel = pages.command.act.show_act_panel(opened_panel[0])
        assert panel["hidden"] is False and f"确认属地 · #{near}" in panel["title"]
        assert panel["township_hidden"] is True  # no township to pick
        assert "核实情况（可选）" in panel["note_label"]
    with logged_in("lingdao"):  # leaders see the badge, read only
        queue = dash_calls.part(command_queues(pages, "zh", False, EVERY_ROW), f"cmd-row-{near}")
        assert badge in queue and confirm_json not in queue
    with logged_in(staff):
        page = pages.township.layout()
        assert hint in dash_calls.part(page, f"tw-card-{near}") and hint not in dash_calls.part(page, f"tw-card-{far}")
        assert "您的角色无权查看此页面" in text_of(submit(pages, near, "confirm", note="本镇自己确认")["form_msg"])
    with logged_in("zhihui"):
        ok = submit(pages, near, "confirm", note="电话核实：属本镇")
        assert "确认属地：操作成功" in text_of(ok["msg"]) and ok["selected"] is None
        for incident_id in (near, far):  # once only; and never for a point far from any border
            refused = submit(pages, incident_id, "confirm")
            assert "属地已确认或该事件不在边界附近" in text_of(refused["form_msg"])
        assert badge not in dash_calls.part(command_queues(pages, "zh", True, EVERY_ROW), f"cmd-row-{near}")
        page = text_of(pages.incident.layout(incident_id=str(near)))
        assert badge not in page and "确认属地" in page and "电话核实：属本镇" in page  # in the log table
    with logged_in(staff):
        assert hint not in dash_calls.part(pages.township.layout(), f"tw-card-{near}")
    with psycopg.connect(dashboard_dsn) as conn:
        assert conn.execute("SELECT near_boundary FROM incidents WHERE id = %s", (near,)).fetchone() == (False,)
        assert conn.execute("SELECT actor, role, note FROM incident_log WHERE incident_id = %s"
                            " AND action = 'confirm_area'", (near,)).fetchall() == [
            ("zhihui", "command", "电话核实：属本镇")]
    assert actions(dashboard_dsn, far) == ["create", "dispatch"]


# -- long queues: the most urgent first, more on request --

def test_a_long_queue_shows_the_most_urgent_and_more_on_request(pages: SimpleNamespace, logged_in: LoggedIn,
                                                               towns: tuple[str, str, str], dashboard_dsn: str,
                                                               dash_calls: DashCalls) -> None:
    a, _, _ = towns
    for _ in range(pages.command.load.SHOWN["active"] + 1):
        _signed(dashboard_dsn, a, title="排队测试")
    with psycopg.connect(dashboard_dsn) as conn:
        urgent = [r[0] for r in conn.execute(
            "SELECT id FROM incidents WHERE status IN ('dispatched', 'signed', 'in_progress', 'postponed')"
            " ORDER BY level, CASE WHEN status = 'dispatched' THEN sign_deadline ELSE finish_deadline END"
            " NULLS FIRST, id")]
    more = {"type": "cmd-more", "queue": "active", "to": 40}
    less = {"type": "cmd-more", "queue": "active", "to": 20}

    def rows(section: str) -> list[int]:
        return [int(n) for n in re.findall(r'"cmd-row-(\d+)"', section)]

    with logged_in("zhihui"):
        first = dash_calls.part(command_queues(pages, "zh", True), "cmd-queue-active")
        assert rows(first) == urgent[:20] and "按紧急程度显示前 20 条" in first
        assert f"显示更多（还有 {len(urgent) - 20} 条）" in first and _json(more) in first and "收起" not in first
        queues, _, shown = dash_calls.clicked(pages.command.callbacks.refresh, more, 0, 0, [1], None,
                                              pages.command.load.SHOWN)
        longer = dash_calls.part(queues, "cmd-queue-active")
        assert shown == pages.command.load.SHOWN | {"active": 40} and rows(longer) == urgent[:40]
        assert _json(less) in longer and "收起" in longer
        assert dash_calls.clicked(pages.command.callbacks.refresh, less, 0, 0, [1], None, shown)[2]["active"] == 20
        # whatever the browser asks for: never fewer than the defaults, never without bound
        assert pages.command.load.shown_rows({"active": -5, "verify": 10**9, "new": "x"}) == {
            "verify": pages.command.load.MAX_SHOWN, "new": 9, "active": 20}
        english = dash_calls.part(command_queues(pages, "en", True), "cmd-queue-active")
        assert "The 20 most urgent shown" in english and "Show more (" in english
    with logged_in(township_username(a)):
        refused = dash_calls.clicked(pages.command.callbacks.refresh, more, 0, 0, [1], None, None)
        assert "您的角色无权查看此页面" in text_of(refused[0])


def _json(component_id: dict[str, Any]) -> str:
    return json.dumps(component_id, ensure_ascii=False, separators=(",", ":"), sort_keys=False)


# -- 政令一键智达 --

def _targets(dsn: str, directive_id: int) -> list[tuple[str, str | None]]:
    with psycopg.connect(dsn) as conn:
        return [(r[0], r[1]) for r in conn.execute(
            "SELECT township_code, acked_by FROM directive_targets WHERE directive_id = %s ORDER BY township_code",
            (directive_id,))]


def _latest_directive(dsn: str, title: str) -> int:
    with psycopg.connect(dsn) as conn:
        found = conn.execute("SELECT max(id) FROM directives WHERE title = %s", (title,)).fetchone()
    assert found is not None and found[0] is not None
    return int(found[0])


def test_directive_form_is_validated_in_chinese(pages: SimpleNamespace, logged_in: LoggedIn,
                                                towns: tuple[str, str, str]) -> None:
    a, _, _ = towns
    with logged_in("zhihui"):
        def issue(title: str, scope: str, townships: list[str], minutes: object) -> str:
            sent = pages.command.directives.submit_directive(1, title, "", scope, [], townships, minutes, 0)
            return text_of(sent["msg"])
        assert "请填写政令标题" in issue("  ", "all", [], "30")
        assert "请至少选择一个镇街" in issue("防汛通知", "some", [], "30")
        for bad in ("0", "abc", "-5", "1.5", "99999"):
            assert "确认时限须为 1–10080 之间的整数（分钟）" in issue("防汛通知", "some", [a], bad), bad
        assert "所选镇街不在当前图层中" in issue("防汛通知", "some", ["999999999"], "30")


def test_directive_issue_and_acknowledge(pages: SimpleNamespace, logged_in: LoggedIn, towns: tuple[str, str, str],
                                         dashboard_dsn: str, dash_calls: DashCalls) -> None:
    a, b, c = towns
    title = f"关于加强汛期值守的通知 {uuid.uuid4().hex[:6]}"
    with logged_in("zhihui"):
        page = text_of(pages.command.layout())
        assert "政令一键智达" in page and "dir-submit" in page
        ok = pages.command.directives.submit_directive(1, title, "请各镇街24小时值守", "some", [], [a, b], "３０", 0)
        assert "已发送至 2 个镇街" in text_of(ok["msg"])
        assert (ok["title"], ok["body"], ok["townships"], ok["districts"]) == ("", "", [], [])  # the form is cleared
        twice = pages.command.directives.submit_directive(1, title, "请各镇街24小时值守", "some", [], [a, b], "30", 0)
        assert "相同的政令刚刚已发布" in text_of(twice["msg"])  # a double submit does not send it twice
    directive_id = _latest_directive(dashboard_dsn, title)
    assert _targets(dashboard_dsn, directive_id) == [(a, None), (b, None)]
    ack = {"type": "tw-ack", "index": directive_id}
    with logged_in(township_username(c)):  # not addressed to c
        assert title not in text_of(pages.township.layout())
        msg, _ = dash_calls.clicked(pages.township.directives.acknowledge, ack, [1], 0)
        assert "该政令不是发给本镇街的" in text_of(msg)
    with logged_in("zhihui"):  # not township staff
        msg, _ = dash_calls.clicked(pages.township.directives.acknowledge, ack, [1], 0)
        assert "您的角色无权查看此页面" in text_of(msg)
    with logged_in(township_username(a)):
        assert title in text_of(pages.township.layout())
        msg, version = dash_calls.clicked(pages.township.directives.acknowledge, ack, [1], 0)
        assert f"政令 #{directive_id} 已确认收到" in text_of(msg) and version == 1
        again, _ = dash_calls.clicked(pages.township.directives.acknowledge, ack, [1], 1)
        assert "本镇街已确认过该政令" in text_of(again)
        _, _, shown, *_ = pages.township.callbacks.refresh(None, 0, 1, None, None)
        assert title not in text_of(shown)
    assert _targets(dashboard_dsn, directive_id) == [(a, township_username(a)), (b, None)]
    with psycopg.connect(dashboard_dsn) as conn:
        conn.execute("UPDATE directive_targets SET escalation_tier = 2 WHERE directive_id = %s AND township_code = %s",
                     (directive_id, b))
        conn.commit()
    with logged_in("zhihui"):
        listing, _ = pages.command.directives.refresh_directives(None, 1, None)
        shown = text_of(listing)
    assert f'"dir-count-{directive_id}"' in shown and "已确认 1/2" in shown
    assert "已升级督办（区指挥中心）" in shown and "laggard tier-2" in shown
