"""The reporter on a real incident page in Chromium, against a real dashboard process: whole for the township
handling it, with its Excel export downloaded through the button (CSP, CSRF header and all); masked for a
leader, whose export is masked too. No console error, nothing asked of another host."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import psycopg
import pytest
from openpyxl import load_workbook
from playwright.sync_api import Browser, expect

from alerts.incidents import Location, open_incident
from dashboard.auth import DEMO_USERS, TOWNSHIP_PASSWORD
from store.privacy import Reporter
from store.users import township_username
from tests.fix_db import one

if TYPE_CHECKING:
    from tests.fix_browser import DashboardProcess, PageWatch

pytestmark = pytest.mark.browser
PASSWORDS = {username: password for username, password, _, _ in DEMO_USERS}


@pytest.fixture(scope="module")
def scene(demo_db: Callable[[], str], dashboard_process: Callable[[str], DashboardProcess]) -> dict[str, object]:
    dsn = demo_db()
    with psycopg.connect(dsn) as conn:
        town, lon, lat, district = one(conn,
            "SELECT code, label_lon, label_lat, parent_code FROM regions r JOIN boundary_versions v USING (version)"
            " WHERE v.active AND r.level = 'township' ORDER BY code LIMIT 1")
        incident_id = open_incident(conn, title="井盖缺失", category="hotline", level=4, source_kind="manual",
                                    location=Location(lon, lat, district, town, None, None),
                                    now=datetime.now(UTC) - timedelta(minutes=3),
                                    reporter=Reporter("李秀英", "0735-2221234"))
        conn.commit()
    return {"dsn": dsn, "url": dashboard_process(dsn).url, "town": town, "incident": incident_id}


@pytest.mark.parametrize(("user", "name", "phone"), [("township", "李秀英", "0735-2221234"),
                                                     ("lingdao", "李**", "0735-****234")])
def test_the_incident_page_and_its_download(browser: Browser, scene: dict[str, object],
                                            page_watch: type[PageWatch], user: str, name: str, phone: str) -> None:
    username = township_username(str(scene["town"])) if user == "township" else user
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    watch = page_watch(page)
    try:
        page.goto(f"{scene['url']}/login?next=/incident/{scene['incident']}")
        page.fill("#username", username)
        page.fill("#password", TOWNSHIP_PASSWORD if user == "township" else PASSWORDS[user])
        page.click("#login-submit")
        facts = page.locator("dl.facts")
        expect(facts).to_contain_text(name, timeout=30_000)
        expect(facts).to_contain_text(phone)
        with page.expect_download(timeout=30_000) as download:
            page.click("#incident-export")
        path = download.value.path()
        about = dict(list(load_workbook(io.BytesIO(path.read_bytes()))["事件信息"].iter_rows(values_only=True))[4:])
        assert (about["诉求人"], about["联系电话"]) == (name, phone)
        assert watch.errors == [] and watch.outside == [], (watch.errors, watch.outside)
    finally:
        context.close()
    with psycopg.connect(str(scene["dsn"])) as conn:
        seen = conn.execute("SELECT count(*) FROM auth_events WHERE event = 'pii_viewed' AND username = %s",
                            (username,)).fetchone()
    assert seen == ((1,) if user == "township" else (0,))  # the page and its export within the minute: one
