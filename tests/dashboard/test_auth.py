"""The login gate over HTTP (Flask test client): sessions, CSRF, redirects, photos, demo users."""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import dash
import psycopg
import pytest
from flask.testing import FlaskClient
from werkzeug.security import check_password_hash

from alerts.incidents import Location, act, open_incident
from alerts.lifecycle import Action, Actor, Role
from dashboard.auth import CSRF_COOKIE, CSRF_HEADER, seed_demo_users
from dashboard.data import Photo
from store.departments import DEMO_DEPARTMENTS
from store.users import township_username
from tests.fix_db import one

if TYPE_CHECKING:
    from tests.fix_browser import DashCalls, LoggedIn

PNG = b"\x89PNG\r\n\x1a\n" + b"\x01" * 40


@pytest.fixture
def client(dash_app: dash.Dash) -> FlaskClient:
    return dash_app.server.test_client()


def login(client: FlaskClient, username: str, password: str, next_: str = "/") -> tuple[int, str]:
    form = client.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert token is not None
    resp = client.post("/login", data={"username": username, "password": password, "csrf": token[1],
                                       "next": next_})
    return resp.status_code, resp.headers.get("Location", resp.text)


def township(dsn: str) -> str:
    with psycopg.connect(dsn) as conn:
        return one(conn, "SELECT code FROM regions r JOIN boundary_versions v USING (version)"
                            " WHERE v.active AND level = 'township' ORDER BY code DESC LIMIT 1")[0]


def test_strangers_get_the_login_form_and_no_data(client: FlaskClient) -> None:
    page = client.get("/command?x=1")
    assert page.status_code == 302 and page.headers["Location"] == "/login?next=/command%3Fx%3D1"
    for path in ("/_dash-layout", "/_dash-dependencies"):
        assert client.get(path).status_code == 401
    assert client.post("/_dash-update-component", json={}).status_code == 401
    assert client.get("/attachment/1").status_code == 302
    with client.get("/assets/cityops.css") as css:
        assert css.status_code == 200  # the login page needs its style


def test_login_failures(client: FlaskClient) -> None:
    status, body = login(client, "zhihui", "wrong")
    assert status == 401 and "用户名或密码错误" in body
    status, body = login(client, "nobody", "zhihui123")
    assert status == 401 and "用户名或密码错误" in body
    no_token = client.post("/login", data={"username": "zhihui", "password": "zhihui123"})
    assert no_token.status_code == 400  # a form posted from another site has no token


def test_login_lands_on_the_role_home_and_never_leaves_the_site(client: FlaskClient, dashboard_dsn: str) -> None:
    assert login(client, "zhihui", "zhihui123", next_="//evil.example/x") == (302, "/")
    assert client.get_cookie(CSRF_COOKIE) is not None
    assert client.get("/").status_code == 200
    code = township(dashboard_dsn)
    other = client.application.test_client()
    assert login(other, township_username(code), "zj123456") == (302, "/township")
    assert other.get("/").headers["Location"] == "/township"  # the city screen is not theirs
    assert client.get("/logout").status_code == 302
    assert client.get("/command").status_code == 302
    for user, password, home in (("lingdao", "lingdao123", "/leader"), ("admin", "admin123", "/admin")):
        assert login(client.application.test_client(), user, password) == (302, home)


def _refresh_body(app: dash.Dash) -> dict[str, object]:
    """The township phone's tick as its browser sends it: the queue, the 政令 and the 应急响应 banner in one
    callback (named as the app declares it: a shared output carries its ``@`` suffix there, not in ``outputs``)."""
    output = next(key for key in app.callback_map if "tw-list.children" in key)
    outputs = [part.rsplit(".", 1) for part in output.strip(".").split("...")]
    return {"output": output, "outputs": [{"id": i, "property": p.split("@")[0]} for i, p in outputs],
            "inputs": [{"id": "tw-tick", "property": "n_intervals", "value": 1},
                       {"id": "tw-version", "property": "data", "value": 0},
                       {"id": "tw-dir-version", "property": "data", "value": 0}],
            "changedPropIds": ["tw-tick.n_intervals"],
            "state": [{"id": "tw-marker", "property": "data"}, {"id": "tw-dir-marker", "property": "data"},
                      {"id": "response-shown", "property": "data"}]}


def test_boundaries_are_served_by_version_with_long_caching(client: FlaskClient, dashboard_dsn: str) -> None:
    with psycopg.connect(dashboard_dsn) as conn:
        version = one(conn, "SELECT version FROM boundary_versions WHERE active")[0]
    url = f"/geo/{version}/township.geojson"
    assert client.get(url).status_code == 302  # behind the login like everything else
    login(client, "lingdao", "lingdao123")
    resp = client.get(url)
    assert resp.status_code == 200 and "immutable" in resp.headers["Cache-Control"]
    features = resp.get_json()["features"]
    assert len(features) >= 100 and all(len(f["properties"]["code"]) == 9 for f in features)
    packed = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert packed.headers.get("Content-Encoding") == "gzip"  # the intranet link to the big screen is not free
    assert len(packed.data) < len(resp.data) / 2
    assert client.get(f"/geo/{version + 99}/township.geojson").status_code == 404
    assert client.get(f"/geo/{version}/grid.geojson").status_code == 404
    town = features[0]["properties"]["code"]
    grids = client.get(f"/geo/{version}/grid/{town}.geojson")  # one township's grids, for the drill-down
    assert grids.status_code == 200 and "immutable" in grids.headers["Cache-Control"]
    codes = [f["properties"]["code"] for f in grids.get_json()["features"]]
    assert codes and all(len(c) == 12 and c.startswith(town) for c in codes)
    assert client.get(f"/geo/{version}/grid/431999999.geojson").status_code == 404


def test_callbacks_need_the_csrf_header(dash_app: dash.Dash, client: FlaskClient, dashboard_dsn: str) -> None:
    login(client, township_username(township(dashboard_dsn)), "zj123456")
    assert client.post("/_dash-update-component", json=_refresh_body(dash_app)).status_code == 403
    cookie = client.get_cookie(CSRF_COOKIE)
    assert cookie is not None
    bad = client.post("/_dash-update-component", json=_refresh_body(dash_app), headers={CSRF_HEADER: "forged"})
    assert bad.status_code == 403
    ok = client.post("/_dash-update-component", json=_refresh_body(dash_app), headers={CSRF_HEADER: cookie.value})
    assert ok.status_code == 200, ok.text
    assert "tw-list" in ok.text


def test_photos_are_served_only_to_whom_may_see_the_incident(dash_app: dash.Dash, dashboard_dsn: str) -> None:
    from dashboard.context import EXTENSION

    code = township(dashboard_dsn)
    with psycopg.connect(dashboard_dsn) as conn:
        other = one(conn, "SELECT code FROM regions r JOIN boundary_versions v USING (version) WHERE v.active"
                             " AND level = 'township' AND code <> %s LIMIT 1", (code,))[0]
        incident_id = open_incident(conn, title="照片测试", category="防汛", level=3, source_kind="manual",
                                    location=Location(None, None, None, code, None, None), now=datetime.now(UTC))
        assert incident_id is not None
        act(conn, incident_id, Action.SIGN, Actor(township_username(code), Role.TOWNSHIP, code), datetime.now(UTC))
        conn.commit()
    data = dash_app.server.extensions[EXTENSION]
    data.act(incident_id, Action.FEEDBACK, Actor(township_username(code), Role.TOWNSHIP, code), datetime.now(UTC),
             note="见照片", photo=Photo("a.png", "image/png", PNG))
    attachment_id = int(data.attachments(incident_id)["id"].iloc[0])

    mine, theirs, boss = (dash_app.server.test_client() for _ in range(3))
    login(mine, township_username(code), "zj123456")
    login(theirs, township_username(other), "zj123456")
    login(boss, "lingdao", "lingdao123")
    got = mine.get(f"/attachment/{attachment_id}")
    assert got.status_code == 200 and got.data == PNG and got.mimetype == "image/png"
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    assert boss.get(f"/attachment/{attachment_id}").status_code == 200
    assert theirs.get(f"/attachment/{attachment_id}").status_code == 404


def test_seeding_is_idempotent(demo_db: Callable[[], str]) -> None:
    dashboard_dsn = demo_db()  # a database of its own: other tests add accounts to the shared one
    with psycopg.connect(dashboard_dsn) as conn:
        assert seed_demo_users(conn) == 0
        townships = one(conn, "SELECT count(*) FROM regions r JOIN boundary_versions v USING (version)"
                                 " WHERE v.active AND level = 'township'")[0]
        districts = one(conn, "SELECT count(*) FROM regions r JOIN boundary_versions v USING (version)"
                              " WHERE v.active AND level = 'district'")[0]
        users = dict(conn.execute("SELECT role, count(*) FROM users GROUP BY role").fetchall())
        zhihui, zj = (one(conn, "SELECT password_hash FROM users WHERE username = %s", (u,))[0]
                      for u in ("zhihui", township_username(township(dashboard_dsn))))
        qx = one(conn, "SELECT password_hash, district_code FROM users WHERE username = 'qx431021'")
    assert users == {"command": 1, "leader": 1, "admin": 1, "department": len(DEMO_DEPARTMENTS), "township": townships,
                     "district": districts, "grid": 60}  # 网格员: the grids of each district's first township
    assert townships >= 100 and districts == 11
    assert check_password_hash(zhihui, "zhihui123") and check_password_hash(zj, "zj123456")
    assert check_password_hash(qx[0], "qx123456") and qx[1] == "431021"  # 桂阳县's 区县指挥中心


def test_lang_switch_stays_on_site(client: FlaskClient) -> None:
    resp = client.get("/lang/en?next=https://evil.example/")
    assert resp.headers["Location"] == "/"
    _, body = login(client, "zhihui", "bad")
    assert "Wrong user name or password" in body



def test_admin_lists_accounts_a_page_at_a_time(dash_app: dash.Dash, logged_in: LoggedIn,
                                               dash_calls: DashCalls) -> None:
    admin = importlib.import_module("dashboard.pages.admin")
    second = {"type": "pager", "table": "adm-users", "to": 2}
    with logged_in("admin"):
        first = dash_calls.text_of(dash_calls.find(admin.layout(), "adm-users"))
        turned = dash_calls.text_of(dash_calls.clicked(admin.callbacks.users_page, second, [1]))
    # a page of rows and a pager under it, instead of a box that scrolls inside the page
    assert first.count('"type":"Tr"') == admin.views.USERS_PAGE + 1 and "第 1/" in first and '"admin"' in first
    assert turned.count('"type":"Tr"') == admin.views.USERS_PAGE + 1 and "第 2/" in turned and '"admin"' not in turned
    with logged_in("zhihui"):
        refused = dash_calls.clicked(admin.callbacks.users_page, second, [1])
        assert "您的角色无权查看此页面" in dash_calls.text_of(refused)
