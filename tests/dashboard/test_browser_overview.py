"""The big screen in headless Chromium, as a wall screen shows it: the first picture comes with its
data and stays where it was fitted, only the district polygons are fetched for it, and the area
layers and toggles of the map change what MapLibre draws.

The dashboard runs as a real process on the demo city (layers, devices, users); the rain and the
warning are put in its database the way ingest and the engine leave them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import psycopg
import pytest
from playwright.sync_api import Browser, Page, expect

from alerts.incidents import Location, open_incident
from dashboard.data import Data
from dashboard.map.figure import fit
from dashboard.map.model import T
from store.db import make_pool
from tests.fix_db import one

if TYPE_CHECKING:
    from tests.fix_browser import DashboardProcess, PageWatch

pytestmark = pytest.mark.browser
# The map drawn with its data: MapLibre holds the district polygons and every red point plotly
# holds, and has nothing left to load; the KPIs show their values.
DRAWN = f"""() => {{
    const gd = document.querySelector('#overview-map .js-plotly-plot');
    const map = gd && gd._fullLayout && gd._fullLayout.map && gd._fullLayout.map._subplot
        && gd._fullLayout.map._subplot.map;
    if (!map || !map.loaded() || !document.querySelector('#overview-kpi-open').textContent.trim()) return false;
    const count = (id) => {{ const s = map.getSource(id); const d = s && s.serialize().data;
                            return d && d.features ? d.features.length : -1; }};
    const red = count('source-' + gd._fullData[{int(T.INCIDENT_1)}].uid + '-circle');
    return count('source-' + gd._fullData[{int(T.DISTRICT_FILL)}].uid) > 0 && red > 0
        && red === gd.data[{int(T.INCIDENT_1)}].customdata.length;
}}"""
VIEW = """() => { const m = document.querySelector('#overview-map .js-plotly-plot')._fullLayout.map;
                  return [m.center.lon, m.center.lat, m.zoom]; }"""


def _scene(dsn: str) -> tuple[str, tuple[dict[str, float], float]]:
    """A red incident and a storm over one township; returns that township's name and the city's fit."""
    now = datetime.now(UTC)
    with psycopg.connect(dsn) as conn:
        code, name, district, lon, lat = one(conn,
            "SELECT code, name, parent_code, label_lon, label_lat FROM regions r JOIN boundary_versions v"
            " USING (version) WHERE v.active AND r.level = 'township' ORDER BY code LIMIT 1")
        open_incident(conn, title="浏览器测试红色事件", category="flood", level=1, source_kind="manual",
                      location=Location(lon, lat, district, code, None, None), now=now - timedelta(minutes=1))
        gauge = conn.execute("SELECT device_id FROM devices WHERE device_type = 'rain_gauge' AND township_code = %s"
                             " LIMIT 1", (code,)).fetchone()
        assert gauge is not None, "the demo has a rain gauge in every township"
        conn.execute("INSERT INTO telemetry (ts, device_id, metric, value) VALUES (%s, %s, 'rain_1h', 66.6)",
                     (now - timedelta(minutes=1), gauge[0]))
        conn.commit()
    data = Data(make_pool(dsn, "browser-test", min_size=1, max_size=1))
    try:
        return name, fit(data.base_map().bounds)
    finally:
        data.close()


def _log_in(page: Page, url: str) -> None:
    page.goto(f"{url}/login")
    page.fill("#username", "zhihui")
    page.fill("#password", "zhihui123")
    page.click("#login-submit")


def test_the_big_screen_comes_up_drawn_and_its_layers_switch(
        demo_dsn: str, browser: Browser, dashboard_process: Callable[[str], DashboardProcess],
        page_watch: type[PageWatch]) -> None:
    township, (center, zoom) = _scene(demo_dsn)
    server = dashboard_process(demo_dsn)
    context = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
    page = context.new_page()
    watch = page_watch(page)
    try:
        _log_in(page, server.url)
        page.wait_for_function(DRAWN, timeout=60_000)
        page.wait_for_timeout(1_000)  # the browser's own fit has run by now
        assert page.evaluate(VIEW) == pytest.approx([center["lon"], center["lat"], zoom])  # nothing moved
        geo = [u for u in watch.requests if u.endswith(".geojson")]
        assert geo and all(u.endswith("/district.geojson") for u in geo), geo  # townships only on drill-down

        page.get_by_label("近1小时雨量").check()
        title = page.locator("#overview-map .colorbar .cbtitle")
        expect(title).to_contain_text("近1小时雨量", timeout=10_000)
        page.get_by_label("最高预警等级").check()
        expect(title).to_contain_text("最高预警等级", timeout=10_000)
        expect(page.locator("#overview-map .colorbar")).to_contain_text("红色 I级")  # the classes, named

        line_visible = f"document.querySelector('#overview-map .js-plotly-plot').data[{int(T.DISTRICT_LINE)}].visible"
        assert page.evaluate(line_visible) is True
        page.get_by_label("区县界线").uncheck()
        page.wait_for_function(f"() => {line_visible} === false", timeout=10_000)

        page.click("#overview-districts")  # drill into the storm's district: its township shows 66.6 mm
        page.get_by_role("option").first.click()
        expect(page.locator("#overview-crumb")).to_contain_text("›", timeout=15_000)
        page.get_by_label("近1小时雨量").check()
        fill = int(T.TOWNSHIP_FILL)
        page.wait_for_function(
            f"""() => {{ const d = document.querySelector('#overview-map .js-plotly-plot').data[{fill}];
                        return d.text.some(t => t.startsWith('{township}<br>') && t.includes('66.6 mm')); }}""",
            timeout=15_000)
        assert watch.errors == [], watch.errors
        assert watch.outside == [], watch.outside
    finally:
        context.close()
    assert "Traceback" not in server.log(), server.log()
