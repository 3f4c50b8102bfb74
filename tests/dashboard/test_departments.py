"""部门 staff at their desk: what is dispatched to their department they sign for and answer; what their
department assists (协办, by its categories) they see marked, without the township's buttons."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import TYPE_CHECKING

import dash
import psycopg
import pytest

from alerts.incidents import open_incident
from alerts.locate import Location
from dashboard.context import get_data
from store.departments import DEMO_DEPARTMENTS
from store.users import township_username
from tests.fix_db import one

if TYPE_CHECKING:
    from tests.fix_browser import DashCalls, LoggedIn

WATER = next(d for d in DEMO_DEPARTMENTS if "flood" in d.categories)  # 水利局


@pytest.fixture(scope="module")
def township_page(dash_app: dash.Dash) -> ModuleType:
    return importlib.import_module("dashboard.pages.township")


def opened(dsn: str, title: str, category: str, *, route_to: str | None = None) -> tuple[int, str]:
    with psycopg.connect(dsn) as conn:
        town, district = one(conn, "SELECT code, parent_code FROM regions JOIN boundary_versions USING (version)"
                                   " WHERE active AND level = 'township' ORDER BY code OFFSET 7 LIMIT 1")
        incident = open_incident(conn, title=title, category=category, level=2, source_kind="manual",
                                 location=Location(113.0, 25.8, district, town, None, None),
                                 now=datetime.now(UTC) - timedelta(minutes=1), route_to=route_to)
        conn.commit()
    assert incident is not None
    return incident, town


def desk(township_page: ModuleType, dash_calls: DashCalls) -> str:
    cards, *_ = dash_calls.triggered_by(township_page.callbacks.refresh, "tw-tick.n_intervals", 1, 1, 0, 0, None, None,
                                        None)
    return dash_calls.text_of(cards)


def test_a_category_the_department_handles_is_assisted_and_shown_marked(
        dashboard_dsn: str, township_page: ModuleType, logged_in: LoggedIn, dash_calls: DashCalls) -> None:
    incident, town = opened(dashboard_dsn, "河道水位超警戒", "flood")
    with psycopg.connect(dashboard_dsn) as conn:
        assert one(conn, "SELECT township_code, assist_units FROM incidents WHERE id = %s", (incident,)) == (
            town, [WATER.unit])
        told = [r[0] for r in conn.execute("SELECT topic FROM mqtt_outbox WHERE payload->>'incident_id' = %s",
                                           (str(incident),))]
    assert f"dispatch/{WATER.unit}" in told  # the department's app hears of it too
    with logged_in(f"bm{WATER.code}"):
        cards, *_ = dash_calls.triggered_by(township_page.callbacks.refresh, "tw-tick.n_intervals",
                                            1, 1, 0, 0, None, None, None)
    card = dash_calls.part(cards, f"tw-card-{incident}")
    assert "河道水位超警戒" in card and "协办" in card
    assert "tw-sign" not in card and "tw-open-feedback" not in card  # signing and answering are the township's


def test_dispatched_to_the_department_it_signs_and_another_department_may_not(
        dashboard_dsn: str, township_page: ModuleType, logged_in: LoggedIn, dash_calls: DashCalls) -> None:
    incident, _ = opened(dashboard_dsn, "危化品车辆违停", "市容", route_to=WATER.unit)
    sign = {"type": "tw-sign", "index": incident}
    with logged_in("bmgaj"):
        assert "该事件不属于本镇街" in dash_calls.told(township_page.callbacks.sign, sign, [1], 0)
    with logged_in(f"bm{WATER.code}"):
        assert "危化品车辆违停" in desk(township_page, dash_calls)
        dash_calls.told(township_page.callbacks.sign, sign, [1], 0)
    with psycopg.connect(dashboard_dsn) as conn:
        assert one(conn, "SELECT status FROM incidents WHERE id = %s", (incident,)) == ("signed",)
        assert one(conn, "SELECT actor, role, unit FROM incident_log WHERE incident_id = %s AND action = 'sign'",
                   (incident,)) == (f"bm{WATER.code}", "department", WATER.unit)


def test_the_desk_may_dispatch_to_departments(dash_app: dash.Dash, logged_in: LoggedIn) -> None:
    with logged_in("zhihui"):
        data = get_data()
        units, names = dict(data.units()), data.unit_names()
    assert units[WATER.unit] == WATER.name == names[WATER.unit]
    assert len(units) == len(data.townships()) + len(DEMO_DEPARTMENTS)


def test_department_staff_open_on_their_desk_not_the_city_screen(dash_app: dash.Dash) -> None:
    client = dash_app.server.test_client()
    form = client.get("/login").get_data(as_text=True)
    csrf = form.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    landed = client.post("/login", data={"csrf": csrf, "username": f"bm{WATER.code}", "password": "bm123456"})
    assert landed.status_code == 302 and landed.headers["Location"].endswith("/township")
    assert client.get("/").headers["Location"].endswith("/township")


def test_an_assisting_department_reports_progress_and_nothing_more(
        dashboard_dsn: str, township_page: ModuleType, logged_in: LoggedIn, dash_calls: DashCalls) -> None:
    """Once the township has signed, the 协办 department's card offers 协办签收, then 协办进展 and 协办反馈 (its
    part's moves only); the note is logged as the department's, the status stays the township's; another
    department is refused."""
    incident, town = opened(dashboard_dsn, "堤防渗水", "flood")
    with logged_in(township_username(town)):
        dash_calls.clicked(township_page.callbacks.sign, {"type": "tw-sign", "index": incident}, [1], 0)

    def card() -> str:
        return dash_calls.part(dash_calls.triggered_by(township_page.callbacks.refresh, "tw-tick.n_intervals",
                                                       1, 1, 0, 0, None, None, None)[0], f"tw-card-{incident}")

    def progress(selected: dict[str, object], note: str) -> dict[str, object]:
        return township_page.callbacks.submit_report(1, selected, note, None, "0", "", None, None, 0)

    with logged_in(f"bm{WATER.code}"):
        assert "tw-assist-sign" in card() and "tw-open-progress" not in card() and "tw-open-feedback" not in card()
        dash_calls.clicked(township_page.callbacks.assist_sign, {"type": "tw-assist-sign", "index": incident}, [1], 0)
        shown = card()
        assert "tw-open-assist-progress" in shown and "tw-open-assist-feedback" in shown
        assert "tw-open-feedback" not in shown and "tw-open-return" not in shown and "tw-sign" not in shown
        selected = dash_calls.clicked(township_page.callbacks.select,
                                      {"type": "tw-open-assist-progress", "index": incident}, [], [], [], [1], [], 0)
        assert selected == {"id": incident, "mode": "assist_progress"}
        panel = township_page.callbacks.show_panel(selected)
        assert panel["hidden"] is False and panel["report_hidden"] is False and panel["return_hidden"] is True
        empty = progress(selected, "  ")
        assert "请填写" in dash_calls.text_of(empty["form_msg"]) and empty["note"] is dash.no_update
        done = progress(selected, "已调派抢险队加固堤防")
        assert "协办进展" in dash_calls.text_of(done["msg"]) and done["note"] == ""
        answered = township_page.callbacks.submit_report(1, {"id": incident, "mode": "feedback"}, "已处置", "resolved",
                                                         "0", "", None, None, 0)
        assert "该事件不属于本镇街" in dash_calls.text_of(answered["form_msg"])
    with logged_in("bmgaj"):
        other = progress(selected, "冒充协办")
        assert "该事件不属于本镇街" in dash_calls.text_of(other["form_msg"])
    with psycopg.connect(dashboard_dsn) as conn:
        assert one(conn, "SELECT status FROM incidents WHERE id = %s", (incident,)) == ("signed",)
        rows = conn.execute("SELECT actor, role, unit, action, from_status, to_status, note FROM incident_log"
                            " WHERE incident_id = %s AND action = 'assist_progress'", (incident,)).fetchall()
    assert rows == [(f"bm{WATER.code}", "department", WATER.unit, "assist_progress", "signed", "signed",
                     "已调派抢险队加固堤防")]


def test_the_township_reports_progress_on_its_own_incident(
        dashboard_dsn: str, township_page: ModuleType, logged_in: LoggedIn, dash_calls: DashCalls) -> None:
    incident, town = opened(dashboard_dsn, "路面塌陷", "市容")
    with logged_in(township_username(town)):
        dash_calls.clicked(township_page.callbacks.sign, {"type": "tw-sign", "index": incident}, [1], 0)
        card = dash_calls.part(dash_calls.triggered_by(township_page.callbacks.refresh, "tw-tick.n_intervals",
                                                       1, 1, 0, 0, None, None, None)[0], f"tw-card-{incident}")
        assert "tw-open-progress" in card and "tw-open-feedback" in card
        township_page.callbacks.submit_report(1, {"id": incident, "mode": "progress"}, "已围挡，等待抢修", None,
                                              "0", "", None, None, 0)
    with psycopg.connect(dashboard_dsn) as conn:
        assert one(conn, "SELECT status FROM incidents WHERE id = %s", (incident,)) == ("in_progress",)
