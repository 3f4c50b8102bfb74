"""A unit's reports from the township desk and 协办 from the assisting township's own queue, as a browser posts
them (``dash_calls``: /_dash-update-component in a logged-in session) against the real database: the fields
of the catalogue validated in the user's language, photos stored with their report, the incident page showing
both units, people moved summed per township, and every move of another unit refused and recorded."""

from __future__ import annotations

import base64
import importlib
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import TYPE_CHECKING, Any

import dash
import psycopg
import pytest

from alerts.incidents import act, open_incident
from alerts.lifecycle import Action, Actor, IllegalMove, Role
from alerts.locate import Location
from dashboard.context import EXTENSION
from dashboard.data import Data
from store.users import township_username
from tests.fix_db import one

if TYPE_CHECKING:
    from tests.fix_browser import DashCalls, LoggedIn

PNG = b"\x89PNG\r\n\x1a\n" + bytes(48)
JPEG = b"\xff\xd8\xff\xe0" + bytes(48)
COMMAND = Actor("zhihui", Role.COMMAND)


def data_url(raw: bytes, claimed: str = "image/png") -> str:
    return f"data:{claimed};base64," + base64.b64encode(raw).decode()


@pytest.fixture(scope="module")
def pages(dash_app: dash.Dash) -> tuple[ModuleType, ModuleType]:
    return importlib.import_module("dashboard.pages.township"), importlib.import_module("dashboard.pages.incident")


@pytest.fixture(scope="module")
def data(dash_app: dash.Dash) -> Data:
    found: Data = dash_app.server.extensions[EXTENSION]
    return found


@pytest.fixture(scope="module")
def towns(dashboard_dsn: str) -> list[str]:
    with psycopg.connect(dashboard_dsn) as conn:
        return [r[0] for r in conn.execute(
            "SELECT code FROM regions JOIN boundary_versions USING (version) WHERE active AND level = 'township'"
            " ORDER BY code OFFSET 90 LIMIT 3")]


def flood_at(dsn: str, township: str, title: str, *, assist: str | None = None) -> int:
    with psycopg.connect(dsn) as conn:
        lon, lat, district = one(conn, "SELECT label_lon, label_lat, parent_code FROM regions r JOIN"
                                       " boundary_versions USING (version) WHERE active AND code = %s", (township,))
        incident = open_incident(conn, title=title, category="flood", level=2, source_kind="manual",
                                 location=Location(lon, lat, district, township, None, None),
                                 now=datetime.now(UTC) - timedelta(minutes=5))
        assert incident is not None
        if assist is not None:
            act(conn, incident, Action.ASSIST, COMMAND, datetime.now(UTC) - timedelta(minutes=4),
                note="请协助转移下游群众", township_code=assist)
        conn.commit()
    return incident


def report(dash_calls: DashCalls, township_page: ModuleType, incident: int, mode: str, note: str, *,
           result: str | None = None, people: object = "0", shelters: str = "",
           photos: list[tuple[str, str]] | None = None) -> dict[str, Any]:
    """The report form's 提交 as the browser posts it (the multiple upload sends lists)."""
    contents = [c for _, c in photos] if photos else None
    names = [n for n, _ in photos] if photos else None
    reply: dict[str, Any] = dash_calls.triggered_by(
        township_page.callbacks.submit_report, "tw-submit-report.n_clicks", 1, 1, {"id": incident, "mode": mode},
        note, result, people, shelters, contents, names, 0)
    return reply


def said(dash_calls: DashCalls, reply: dict[str, Any], key: str = "form_msg") -> str:
    return dash_calls.text_of(reply[key])


def card(dash_calls: DashCalls, township_page: ModuleType, incident: int) -> str:
    cards, *_ = dash_calls.triggered_by(township_page.callbacks.refresh, "tw-tick.n_intervals", 1, 1, 0, 0, None, None,
                                        None)
    return dash_calls.part(cards, f"tw-card-{incident}")


def log_of(dsn: str, incident: int, *actions: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(dsn) as conn:
        return conn.execute("SELECT id, actor, unit, action, from_status, to_status, note, details FROM incident_log"
                            " WHERE incident_id = %s AND action = ANY(%s) ORDER BY id",
                            (incident, list(actions))).fetchall()


def refusals(dsn: str, username: str) -> int:
    with psycopg.connect(dsn) as conn:
        return int(one(conn, "SELECT count(*) FROM auth_events WHERE username = %s AND event = 'refused'",
                       (username,))[0])


def test_flood_progress_reported_twice_then_feedback_with_fields_and_photos(
        dashboard_dsn: str, pages: tuple[ModuleType, ModuleType], towns: list[str], logged_in: LoggedIn,
        dash_calls: DashCalls, data: Data) -> None:
    township_page, incident_page = pages
    lead = towns[0]
    started = datetime.now(UTC) - timedelta(minutes=1)
    incident = flood_at(dashboard_dsn, lead, "沿河村山洪转移")
    with logged_in(township_username(lead)):
        dash_calls.clicked(township_page.callbacks.sign, {"type": "tw-sign", "index": incident}, [1], 0)
        progress_form = township_page.callbacks.show_panel({"id": incident, "mode": "progress"})
        feedback_form = township_page.callbacks.show_panel({"id": incident, "mode": "feedback"})
        assert (progress_form["flood_hidden"], progress_form["result_hidden"]) == (False, True)
        assert (feedback_form["flood_hidden"], feedback_form["result_hidden"]) == (False, False)

        for kwargs, words in [
            ({"people": "-3", "shelters": "村委会"}, "转移人数须为不小于 0 的整数"),
            ({"people": "12"}, "有群众转移，请填写安置点"),
            ({"people": "12", "shelters": "、".join(f"安置点{n}" for n in range(11))}, "安置点最多 10 个"),
            ({"photos": [(f"{n}.png", data_url(PNG)) for n in range(4)]}, "最多上传 3 张照片"),
            ({"photos": [("伪装.png", data_url(b"GIF89a" + bytes(20)))]}, "照片须为 JPEG、PNG 或 WebP 图片"),
        ]:
            refused = report(dash_calls, township_page, incident, "progress", "正在转移", **kwargs)
            assert words in said(dash_calls, refused), kwargs
            assert refused["note"] is dash.no_update  # the form keeps what was typed
        first = report(dash_calls, township_page, incident, "progress", "已转移沿河低洼户", people="12",
                       shelters="镇中心小学、村委会",
                       photos=[("转移1.png", data_url(PNG)), ("转移2.jpg", data_url(JPEG))])
        assert "处置进展：操作成功" in said(dash_calls, first, "msg")
        assert (first["evacuated"], first["shelters"], first["photo"]) == ("0", "", None)  # cleared for the next
        second = report(dash_calls, township_page, incident, "progress", "又转移 8 人", people="８",
                        shelters="镇中心小学")
        assert "操作成功" in said(dash_calls, second, "msg")
        no_result = report(dash_calls, township_page, incident, "feedback", "水位回落，群众暂不返回")
        assert "请选择处置结果" in said(dash_calls, no_result)
        done = report(dash_calls, township_page, incident, "feedback", "水位回落，群众暂不返回", result="controlled")
        assert "处置反馈：操作成功" in said(dash_calls, done, "msg")
    with logged_in(township_username(lead), lang="en"):
        english = report(dash_calls, township_page, incident, "progress", "x", people="1.5", shelters="School")
        assert "People evacuated must be a whole number" in said(dash_calls, english)

    rows = log_of(dashboard_dsn, incident, "progress", "feedback")
    assert [(r[3], r[4], r[5], r[6], r[7]) for r in rows] == [
        ("progress", "signed", "in_progress", "已转移沿河低洼户",
         {"people_evacuated": 12, "shelters": ["镇中心小学", "村委会"], "photos": ["转移1.png", "转移2.jpg"]}),
        ("progress", "in_progress", "in_progress", "又转移 8 人", {"people_evacuated": 8, "shelters": ["镇中心小学"]}),
        ("feedback", "in_progress", "resolved", "水位回落，群众暂不返回",
         {"result": "controlled", "people_evacuated": 0}),
    ]
    with psycopg.connect(dashboard_dsn) as conn:
        photos = conn.execute("SELECT id, log_id, filename, content_type, data FROM incident_attachments"
                              " WHERE incident_id = %s ORDER BY id", (incident,)).fetchall()
    assert [(p[1], p[2], p[3], bytes(p[4])) for p in photos] == [
        (rows[0][0], "转移1.png", "image/png", PNG), (rows[0][0], "转移2.jpg", "image/jpeg", JPEG)]

    moved = data.people_moved(started, datetime.now(UTC) + timedelta(minutes=1))
    assert moved.get(lead) == 20
    assert lead not in data.people_moved(datetime.now(UTC) + timedelta(minutes=1),
                                               datetime.now(UTC) + timedelta(hours=1))  # outside the window
    assert data.people_moved(started, datetime.now(UTC) + timedelta(minutes=1), lead[:6])[lead] == 20
    assert lead not in data.people_moved(started, datetime.now(UTC) + timedelta(minutes=1), "439999")

    with logged_in("zhihui"):
        shown = dash_calls.part(incident_page.layout(incident_id=str(incident)), "incident-reports")
    for text in ("累计转移 20 人", "转移人数：12；安置点：镇中心小学、村委会",
                 "处置结果：已控制，持续跟进；转移人数：0", *(f"/attachment/{p[0]}" for p in photos), "主办"):
        assert text in shown, text


def test_an_assisting_township_finishes_its_part_from_its_own_queue(
        dashboard_dsn: str, pages: tuple[ModuleType, ModuleType], towns: list[str], logged_in: LoggedIn,
        dash_calls: DashCalls, data: Data) -> None:
    township_page, incident_page = pages
    lead, helper, stranger = towns
    started = datetime.now(UTC)  # after the other test's reports: this event's window
    incident = flood_at(dashboard_dsn, lead, "河堤管涌，下游转移", assist=helper)
    helper_user, lead_user, stranger_user = (township_username(t) for t in (helper, lead, stranger))
    with logged_in(lead_user):
        dash_calls.clicked(township_page.callbacks.sign, {"type": "tw-sign", "index": incident}, [1], 0)

    before = refusals(dashboard_dsn, helper_user)
    with logged_in(helper_user):
        shown = card(dash_calls, township_page, incident)
        assert "协办" in shown and "协办待签收" in shown and "tw-assist-sign" in shown
        assert '"tw-sign"' not in shown and "tw-open-feedback" not in shown and "tw-open-return" not in shown
        # the lead unit's moves, crafted by the assisting unit: refused on the server
        assert "该事件不属于本镇街" in dash_calls.told(township_page.callbacks.sign,
                                                    {"type": "tw-sign", "index": incident}, [1], 0)
        for mode in ("progress", "feedback"):
            refused = report(dash_calls, township_page, incident, mode, "冒充主办", result="resolved")
            assert "该事件不属于本镇街" in said(dash_calls, refused), mode
        returned = dash_calls.triggered_by(township_page.callbacks.submit_return, "tw-submit-return.n_clicks", 1, 1,
                                           {"id": incident, "mode": "return"}, "不是我们的", 0, None)
        assert "该事件不属于本镇街" in said(dash_calls, returned)
        early = report(dash_calls, township_page, incident, "assist_progress", "还没签收就报")
        assert "须先协办签收" in said(dash_calls, early)  # its part's order, from the lifecycle
        signed = dash_calls.clicked(township_page.callbacks.assist_sign, {"type": "tw-assist-sign", "index": incident},
                                    [1], 0)
        assert "协办签收：操作成功" in dash_calls.text_of(signed[0])
        shown = card(dash_calls, township_page, incident)
        assert "协办处置中" in shown and "tw-open-assist-progress" in shown and "tw-open-assist-feedback" in shown
        panel = township_page.callbacks.show_panel({"id": incident, "mode": "assist_progress"})
        assert panel["hidden"] is False and panel["flood_hidden"] is False and panel["result_hidden"] is True
        moved = report(dash_calls, township_page, incident, "assist_progress", "协助转移下游 5 户", people="17",
                       shelters="邻镇敬老院", photos=[("协办.png", data_url(PNG))])
        assert "协办进展：操作成功" in said(dash_calls, moved, "msg")
        finished = report(dash_calls, township_page, incident, "assist_feedback", "协助转移完毕", result="resolved")
        assert "协办反馈：操作成功" in said(dash_calls, finished, "msg")
        shown = card(dash_calls, township_page, incident)
        assert "协办已反馈" in shown and "tw-open-assist" not in shown and "tw-assist-sign" not in shown
    # recorded (one row per request context: logged_in's posts share one, test_permissions counts them apart)
    assert refusals(dashboard_dsn, helper_user) > before

    with logged_in(stranger_user):  # a township that neither handles nor assists it
        gone = dash_calls.told(township_page.callbacks.assist_sign, {"type": "tw-assist-sign", "index": incident},
                               [1], 0)
        assert "该事件不属于本镇街" in gone
        assert "该事件不属于本镇街" in said(dash_calls, report(dash_calls, township_page, incident, "assist_progress",
                                                        "冒充协办"))
    with logged_in(lead_user):  # and the lead is not its own helper
        assert "该事件不属于本镇街" in dash_calls.told(township_page.callbacks.assist_sign,
                                                    {"type": "tw-assist-sign", "index": incident}, [1], 0)

    with psycopg.connect(dashboard_dsn) as conn:
        status, parts = one(conn, "SELECT status, assist_parts FROM incidents WHERE id = %s", (incident,))
    assert (status, parts.get(helper)) == ("signed", "done")  # the helper's part is done; the incident is the lead's
    with pytest.raises(IllegalMove, match="wrong_state"), psycopg.connect(dashboard_dsn) as conn:
        act(conn, incident, Action.VERIFY, COMMAND, datetime.now(UTC))  # nothing to verify before the lead's feedback
    with logged_in(lead_user):
        lead_done = report(dash_calls, township_page, incident, "feedback", "管涌已封堵", result="resolved",
                           people="3", shelters="镇中心小学")
        assert "处置反馈：操作成功" in said(dash_calls, lead_done, "msg")
    with psycopg.connect(dashboard_dsn) as conn:
        act(conn, incident, Action.VERIFY, COMMAND, datetime.now(UTC))
        assert one(conn, "SELECT status FROM incidents WHERE id = %s", (incident,)) == ("closed",)

    units = [(r[2], r[3]) for r in log_of(dashboard_dsn, incident, "sign", "assist_sign", "assist_progress",
                                          "assist_feedback", "feedback")]
    assert units == [(lead, "sign"), (helper, "assist_sign"), (helper, "assist_progress"),
                     (helper, "assist_feedback"), (lead, "feedback")]
    names = data.unit_names()
    with logged_in("zhihui"):
        reports = dash_calls.part(incident_page.layout(incident_id=str(incident)), "incident-reports")
    assert "累计转移 20 人" in reports
    for text in (names[helper], names[lead], "协办进展", "协办反馈", "处置反馈", "安置点：邻镇敬老院", "主办", "协办"):
        assert text in reports, text
    helper_at, lead_feedback_at = reports.index(names[helper]), reports.index(names[lead], reports.index("协办反馈"))
    assert helper_at < reports.index("协办进展") < lead_feedback_at  # oldest first, each under its unit
    moved_by = data.people_moved(started, datetime.now(UTC) + timedelta(minutes=1))
    assert (moved_by[helper], moved_by[lead]) == (17, 3)  # each township counts the people it moved
