"""Data-quality and admin pages against the real PostgreSQL, called as their users would call them."""

from __future__ import annotations

import importlib
import json
import uuid
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import TYPE_CHECKING, Any

import dash
import psycopg
import pytest
from werkzeug.security import check_password_hash

from dashboard import charts
from ingest.counters import counter_day
from store.users import township_username
from tests.fix_db import one

if TYPE_CHECKING:
    from tests.fix_browser import DashCalls, LoggedIn


@pytest.fixture(scope="module")
def pages(dash_app: dash.Dash) -> dict[str, ModuleType]:
    return {name: importlib.import_module(f"dashboard.pages.{name}") for name in ("quality", "admin")}


@pytest.fixture(scope="module")
def fleet(dashboard_dsn: str) -> str:
    """Three devices of a department of their own (two reporting, one silent for an hour) and dead letters."""
    dept = "t" + uuid.uuid4().hex[:5]
    now = datetime.now(UTC)
    with psycopg.connect(dashboard_dsn) as conn:
        for i, seen in enumerate((now - timedelta(seconds=30), now - timedelta(seconds=150), now - timedelta(hours=1))):
            conn.execute("INSERT INTO devices (device_id, device_type, dept, name, lon, lat, expected_interval_s)"
                         " VALUES (%s, 'rain_gauge', %s, %s, 113.0, 25.8, 60)", (f"{dept}-{i}", dept, f"测试{i}"))
            conn.execute("INSERT INTO device_status (device_id, last_seen, online, status_at)"
                         " VALUES (%s, %s, true, %s)", (f"{dept}-{i}", seen, seen))
        conn.execute("INSERT INTO devices (device_id, device_type, dept, name, lon, lat) VALUES"
                     " (%s, 'smoke_detector', %s, '从未上报', 113.0, 25.8)", (f"{dept}-never", dept))
        for reason, body in (("not_json", b"{oops"), ("not_json", b"\xff\xfe"), ("unknown_device", b'{"ts": 1}')):
            conn.execute("INSERT INTO dead_letters (topic, payload, reason, detail) VALUES (%s, %s, %s, %s)",
                         (f"city/chenzhou/telemetry/{dept}/x/y", body, reason, "测试"))
        conn.execute("INSERT INTO dead_letters (received_at, topic, payload, reason) VALUES"
                     " (now() - interval '2 days', 'old', 'x', 'too_large')")
        conn.commit()
    return dept


def test_quality_counts_online_by_department_and_dead_letters(pages: dict[str, ModuleType], logged_in: LoggedIn,
                                                              fleet: str, dash_app: dash.Dash) -> None:
    from dashboard.context import EXTENSION

    data = dash_app.server.extensions[EXTENSION]
    now = datetime.now(UTC)
    online = data.online_by_type(now).set_index(["dept", "device_type"])
    # within 3 × 60 s: 30 s and 150 s old are online, an hour is not; never seen is offline too
    assert tuple(online.loc[(fleet, "rain_gauge")]) == (3, 2, 0)
    assert tuple(online.loc[(fleet, "smoke_detector")]) == (1, 0, 1)
    reasons = dict(zip(*data.dead_letters_by_reason(now).to_dict("list").values(), strict=True))
    assert reasons["not_json"] >= 2 and reasons["unknown_device"] >= 1 and "too_large" not in reasons  # 24 h only
    latest = data.latest_dead_letters()
    assert len(latest) <= 20 and int(latest["id"].iloc[0]) == int(latest["id"].max())


def test_quality_page_in_both_languages(pages: dict[str, ModuleType], logged_in: LoggedIn, fleet: str,
                                        dash_calls: DashCalls) -> None:
    with logged_in("lingdao"):
        page = dash_calls.text_of(pages["quality"].layout())
        body, _ = pages["quality"].callbacks.refresh(1)
    with logged_in("zhihui", lang="en"):
        english = dash_calls.text_of(pages["quality"].layout())
    for shown in (page, dash_calls.text_of(body)):
        assert "设备在线率（按部门、类型）" in shown and "66.7%" in shown  # 2 of 3 rain gauges
        assert "不是 JSON" in shown and "雨量站" in shown and "{oops" in shown
    assert "Devices online by department and type" in english and "Not JSON" in english


def test_quality_shows_each_of_the_last_30_days(pages: dict[str, ModuleType], logged_in: LoggedIn, dashboard_dsn: str,
                                                 dash_app: dash.Dash, dash_calls: DashCalls) -> None:
    """Per day the counters of every source summed (the rejected object too), the last 30 days only, and the
    chart's rates worked from them."""
    from dashboard.context import EXTENSION

    now = datetime.now(UTC)
    today = counter_day(now)
    bad_day, old_day = today - timedelta(days=20), today - timedelta(days=30)
    with psycopg.connect(dashboard_dsn) as conn:
        for day, source, received, stored, late, rejected in (
                (bad_day, "qx/rain_gauge", 1000, 990, 5, {"not_json": 4, "out_of_range": 6}),
                (bad_day, "sl/river_gauge", 1000, 1000, 15, {}),
                (old_day, "qx/rain_gauge", 10, 10, 0, {"not_json": 99})):
            conn.execute("INSERT INTO ingest_counters (day, source, kind, received, stored, late, rejected) VALUES"
                         " (%s, %s, 'telemetry', %s, %s, %s, %s::jsonb) ON CONFLICT DO NOTHING",
                         (day, source, received, stored, late, json.dumps(rejected)))
        conn.commit()
    daily = dash_app.server.extensions[EXTENSION].daily_counters(now).set_index("day")
    assert old_day not in daily.index  # 30 days, today included
    assert tuple(daily.loc[bad_day, ["received", "stored", "late", "rejected"]]) == (2000, 1990, 20, 10)
    figure = charts.quality_days(daily.reset_index(), ("拒收", "拒收率", "迟到率"))
    at = [str(d) for d in daily.index].index(str(bad_day))
    assert figure.data[0].y[at] == 10 and figure.data[1].y[at] == 0.5  # 10 of 2,000 messages
    assert figure.data[2].y[at] == round(100 * 20 / 1990, 3)
    with logged_in("lingdao"):
        body, _ = pages["quality"].callbacks.refresh(1)
    assert "近30天每日数据质量" in dash_calls.text_of(body)


def test_a_refused_12345_ticket_shows_no_reporter(pages: dict[str, ModuleType], logged_in: LoggedIn,
                                                  dashboard_dsn: str, dash_calls: DashCalls) -> None:
    """A ticket refused whole keeps its bytes (nothing is lost), but the quality page masks who called."""
    ticket = ('{"event_id": "T-1", "reporter": {"name": "王小明", "phone": "13912345678"}, "text": "回电 0735-2221234",'
              ' "level": "x"}').encode()
    with psycopg.connect(dashboard_dsn) as conn:
        conn.execute("INSERT INTO dead_letters (topic, payload, reason, detail) VALUES (%s, %s, 'bad_field', '')",
                     ("city/chenzhou/event/hotline/12345", ticket))
        conn.commit()
    for user in ("lingdao", "zhihui", "admin"):
        with logged_in(user):
            body, _ = pages["quality"].callbacks.refresh(1)
        shown = dash_calls.text_of(body)
        assert "139****5678" in shown and "王**" in shown and "0735-****234" in shown
        assert "13912345678" not in shown and "王小明" not in shown and "2221234" not in shown
    with psycopg.connect(dashboard_dsn) as conn:  # stored as received
        assert one(conn, "SELECT count(*) FROM dead_letters WHERE payload = %s", (ticket,))[0] == 1


def _user_form(**kw: Any) -> list[Any]:
    form = {"username": "zhang_" + uuid.uuid4().hex[:6], "display": "张三", "password": "long-enough",
            "password2": "long-enough", "role": "leader", "township": None, "version": 0} | kw  # version: a State
    return list(form.values())


def test_admin_creates_users_and_explains_refusals(pages: dict[str, ModuleType], logged_in: LoggedIn,
                                                   dashboard_dsn: str, dash_calls: DashCalls) -> None:
    admin = pages["admin"]
    form = _user_form()
    with logged_in("admin"):
        page = dash_calls.text_of(admin.layout())
        short = admin.callbacks.create_user(1, *_user_form(password="123", password2="123"))
        no_town = admin.callbacks.create_user(1, *_user_form(role="township"))
        ok = admin.callbacks.create_user(1, *form)
        again = admin.callbacks.create_user(1, *form)
    assert "新建用户" in page and "预警规则" in page and "heavy_rain" in page and "边界图层版本" in page
    fields = ("username", "display", "password", "password2")
    assert "密码至少 8 位" in dash_calls.text_of(short["msg"])
    assert [short[k] for k in ("users", *fields)] == [dash.no_update] * 5
    assert "镇街工作人员须选择所属镇街" in dash_calls.text_of(no_town["msg"])
    assert f"已创建用户 {form[0]}" in dash_calls.text_of(ok["msg"]) and form[0] in dash_calls.text_of(ok["users"])
    assert [ok[k] for k in fields] == ["", "", "", ""]  # the form is cleared
    assert "用户名已存在" in dash_calls.text_of(again["msg"])
    with psycopg.connect(dashboard_dsn) as conn:
        row = conn.execute("SELECT display_name, role, township_code, password_hash FROM users WHERE username = %s",
                           (form[0],)).fetchone()
    assert row is not None and row[:3] == ("张三", "leader", None) and check_password_hash(row[3], "long-enough")


@pytest.mark.parametrize("user", ["zhihui", "lingdao", "township", None])
def test_only_admins_administer(pages: dict[str, ModuleType], logged_in: LoggedIn, dashboard_dsn: str, user: str | None,
                                dash_calls: DashCalls) -> None:
    if user == "township":
        with psycopg.connect(dashboard_dsn) as conn:
            user = township_username(one(conn, "SELECT township_code FROM users WHERE role = 'township'"
                                                  " LIMIT 1")[0])
    form = _user_form(role="admin")
    with logged_in(user):
        page = dash_calls.text_of(pages["admin"].layout())
        out = pages["admin"].callbacks.create_user(1, *form)
    assert "新建用户" not in page and ("无权" in page or "请先登录" in page)
    assert "无权" in dash_calls.text_of(out["msg"]) or "请先登录" in dash_calls.text_of(out["msg"])
    with psycopg.connect(dashboard_dsn) as conn:
        assert conn.execute("SELECT 1 FROM users WHERE username = %s", (form[0],)).fetchone() is None


def test_township_staff_see_no_data_quality(pages: dict[str, ModuleType], logged_in: LoggedIn, dashboard_dsn: str,
                                            dash_calls: DashCalls) -> None:
    with psycopg.connect(dashboard_dsn) as conn:
        code = one(conn, "SELECT township_code FROM users WHERE role = 'township' LIMIT 1")[0]
    with logged_in(township_username(code)):
        assert "您的角色无权查看此页面" in dash_calls.text_of(pages["quality"].layout())
        assert "您的角色无权查看此页面" in dash_calls.text_of(pages["quality"].callbacks.refresh(1)[0])
