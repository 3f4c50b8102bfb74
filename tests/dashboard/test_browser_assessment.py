"""考核 in a real browser: a leader opens the page, clicks a figure, gets the incidents behind it and their
Excel file, with no console error (a click that Dash routes nowhere shows only here)."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import psycopg
import pytest
from openpyxl import load_workbook
from playwright.sync_api import Browser, expect

from alerts.incidents import Location, act, open_incident
from alerts.lifecycle import Action, Actor, Role
from store.users import township_username
from tests.fix_db import one

if TYPE_CHECKING:
    from tests.fix_browser import DashboardProcess, PageWatch

pytestmark = pytest.mark.browser


def test_a_leader_opens_the_incidents_behind_a_figure(browser: Browser, demo_db: Callable[[], str],
                                                      dashboard_process: Callable[[str], DashboardProcess],
                                                      page_watch: type[PageWatch]) -> None:
    dsn = demo_db()
    t0 = datetime.now(UTC) - timedelta(days=1)
    with psycopg.connect(dsn) as conn:
        town, name, lon, lat, district = one(conn, "SELECT code, name, label_lon, label_lat, parent_code FROM regions"
                                                   " JOIN boundary_versions USING (version) WHERE active"
                                                   " AND level = 'township' ORDER BY code LIMIT 1")
        staff = Actor(township_username(town), Role.TOWNSHIP, town)
        for n, signed_after in enumerate((10, 50)):  # level 2: 30 min to sign; one on time, one late
            iid = open_incident(conn, title=f"考核浏览器{n}", category="市容", level=2, source_kind="manual",
                                location=Location(lon, lat, district, town, None, None), now=t0)
            assert iid is not None
            act(conn, iid, Action.SIGN, staff, t0 + timedelta(minutes=signed_after))
        conn.commit()
    server = dashboard_process(dsn)
    context = browser.new_context(viewport={"width": 1600, "height": 1000}, accept_downloads=True)
    try:
        page = context.new_page()
        watch = page_watch(page)
        page.goto(f"{server.url}/login?next=/assessment")
        page.fill("#username", "lingdao")
        page.fill("#password", "lingdao123")
        page.click("#login-submit")
        expect(page.locator(".assess-table")).to_contain_text(name, timeout=30_000)
        expect(page.locator(".assess-table")).to_contain_text("50.0%")  # 按期签收率: 1 of 2
        page.locator(".assess-table button.link-button", has_text="50.0%").click()
        drill = page.locator("#as-drill")
        expect(drill).to_be_visible(timeout=15_000)
        expect(drill).to_contain_text("派遣：2 件")
        expect(drill).to_contain_text("考核浏览器0")
        expect(drill.locator("td.late")).to_have_count(1)  # the late signature, marked
        with page.expect_download() as done:
            page.click("#as-export-drill")
        rows = list(load_workbook(io.BytesIO(done.value.path().read_bytes())).active.iter_rows(values_only=True))
        assert sum(1 for r in rows if r and r[2] in ("考核浏览器0", "考核浏览器1")) == 2
        assert watch.errors == [] and watch.outside == [], (watch.errors, watch.outside)
    finally:
        context.close()
        server.stop()
