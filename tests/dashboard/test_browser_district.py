"""A district desk (区县指挥中心) in headless Chromium against a real dashboard process: logged in as 桂阳县's
desk it sees, on the big screen, its district only (its townships coloured, its incidents, its escalation
counted, none of 北湖区's), and its navigation offers the pages it may open."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import psycopg
import pytest
from playwright.sync_api import Browser, expect

from alerts.incidents import Location, open_incident
from dashboard.auth import DISTRICT_PASSWORD
from dashboard.map.model import T, incident_trace
from store.users import district_username
from tests.fix_db import one

if TYPE_CHECKING:
    from tests.fix_browser import DashboardProcess, PageWatch

pytestmark = pytest.mark.browser
A, B = "431021", "431002"  # 桂阳县, 北湖区
FILL, RED = int(T.TOWNSHIP_FILL), incident_trace(1)
# The district's screen drawn: MapLibre holds its townships' polygons and every red point plotly holds.
DRAWN = f"""() => {{
    const gd = document.querySelector('#overview-map .js-plotly-plot');
    const map = gd && gd._fullLayout && gd._fullLayout.map && gd._fullLayout.map._subplot
        && gd._fullLayout.map._subplot.map;
    if (!map || !map.loaded() || !document.querySelector('#overview-kpi-open').textContent.trim()) return false;
    const count = (id) => {{ const s = map.getSource(id); const d = s && s.serialize().data;
                            return d && d.features ? d.features.length : -1; }};
    const red = count('source-' + gd._fullData[{RED}].uid + '-circle');
    return count('source-' + gd._fullData[{FILL}].uid) > 0 && red > 0 && red === gd.data[{RED}].customdata.length;
}}"""
SHOWN = f"""() => {{ const gd = document.querySelector('#overview-map .js-plotly-plot');
    return {{townships: gd.data[{FILL}].locations, red: gd.data[{RED}].customdata}}; }}"""


def _red_incident(conn: psycopg.Connection, district: str, title: str) -> int:
    code, lon, lat = one(conn, "SELECT code, label_lon, label_lat FROM regions r JOIN boundary_versions v"
                               " USING (version) WHERE v.active AND r.level = 'township' AND parent_code = %s"
                               " ORDER BY code LIMIT 1", (district,))
    iid = open_incident(conn, title=title, category="production_safety", level=1, source_kind="manual",
                        location=Location(lon, lat, district, code, None, None),
                        now=datetime.now(UTC) - timedelta(minutes=5))
    assert iid is not None
    conn.execute("UPDATE incidents SET escalated_to = 'district' WHERE id = %s", (iid,))  # as the escalator leaves it
    return iid


def test_a_district_desk_sees_only_its_district_on_the_big_screen(
        demo_db: Callable[[], str], browser: Browser, dashboard_process: Callable[[str], DashboardProcess],
        page_watch: type[PageWatch]) -> None:
    dsn = demo_db()
    with psycopg.connect(dsn) as conn:
        mine, theirs = _red_incident(conn, A, "桂阳县燃气泄漏"), _red_incident(conn, B, "北湖区燃气泄漏")
        names = dict(conn.execute("SELECT code, name FROM regions r JOIN boundary_versions v USING (version)"
                                  " WHERE v.active AND r.level = 'township' AND parent_code = %s", (A,)).fetchall())
        townships = sorted(names)
        others = {r[0] for r in conn.execute(  # 北湖区's, none of which 桂阳县 shares
            "SELECT name FROM regions r JOIN boundary_versions v USING (version) WHERE v.active"
            " AND r.level = 'township' AND parent_code = %s", (B,))} - set(names.values())
        conn.commit()
    server = dashboard_process(dsn)
    context = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
    page = context.new_page()
    watch = page_watch(page)
    try:
        page.goto(f"{server.url}/login")
        page.fill("#username", district_username(A))
        page.fill("#password", DISTRICT_PASSWORD)
        page.click("#login-submit")
        expect(page).to_have_url(f"{server.url}/command", timeout=30_000)  # its desk first
        expect(page.locator(".nav-links a")).to_have_text(["一张图", "值班指挥", "领导驾驶舱", "考核", "数据质量",
                                                           "问题清单"])
        page.goto(f"{server.url}/")  # typed in, not only through the navigation: the screen is its own
        expect(page).to_have_url(f"{server.url}/")
        page.wait_for_function(DRAWN, timeout=60_000)
        shown = page.evaluate(SHOWN)
        assert sorted(shown["townships"]) == townships  # 桂阳县's townships coloured, and only those
        assert mine in shown["red"] and theirs not in shown["red"]
        expect(page.locator("#overview-crumb")).to_contain_text("桂阳县")
        expect(page.locator("#overview-kpi-card-escalated")).to_contain_text("升级至本级")
        expect(page.locator("#overview-kpi-escalated")).to_have_text("1")  # its own escalation, not 北湖区's
        expect(page.locator("#overview-back")).to_be_hidden()  # its district is the top
        page.click("#overview-districts")  # the list offers its own townships to drill into
        options = page.get_by_role("option")
        expect(options.first).to_have_text(names[townships[0]])
        offered = set(options.all_inner_texts())  # with the layer switches, which are options too
        assert set(names.values()) <= offered and not offered & others, offered
        options.first.click()
        expect(page.locator("#overview-crumb")).to_contain_text(f"桂阳县 › {names[townships[0]]}", timeout=15_000)
        expect(page.locator("#overview-back")).to_be_visible()
        assert "北湖区" not in page.locator("#overview-warnings").inner_text()
        assert watch.errors == [], watch.errors
        assert watch.outside == [], watch.outside
    finally:
        context.close()
    assert "Traceback" not in server.log(), server.log()
