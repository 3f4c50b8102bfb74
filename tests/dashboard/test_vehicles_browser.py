"""The big screen's hazmat trucks in headless Chromium on the demo city: a truck's last half hour drawn as a
faint trail in its cargo class's colour with the truck on its end, and a click on its trail showing plate,
company, cargo and its open warning (a screenshot of each is kept in $CITYOPS_SHOTS, default /tmp/cityops-shots)."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
import pytest
from playwright.sync_api import Browser, expect

from alerts.apply import Site, apply_verdict
from alerts.incidents import Location
from alerts.rules import ZoneSpeedRule, load_rules
from alerts.vehicles import Fix, Vehicle, VehicleCase, judge
from dashboard.map.model import T
from dashboard.map.points import CARGO_COLOR
from tests.fix_db import one

if TYPE_CHECKING:
    from tests.fix_browser import DashboardProcess, PageWatch

pytestmark = pytest.mark.browser
SHOTS = Path(os.environ.get("CITYOPS_SHOTS", "/tmp/cityops-shots"))
TRAIL = f"""(plate) => {{
    const gd = document.querySelector('#overview-map .js-plotly-plot');
    const d = gd && gd.data && gd.data[{int(T.VEHICLES)}];
    if (!d || !d.text) return null;
    const at = d.text.findIndex(t => t.startsWith(plate + '<br>'));
    const start = d.text.findIndex(t => t === plate);
    return at < 0 ? null : {{at: at, n: d.text.filter(t => t === plate).length, color: d.marker.color[at],
                              id: d.customdata[at], lon: d.lon[start], lat: d.lat[start]}};
}}"""

WHERE = """([lon, lat]) => { const gd = document.querySelector('#overview-map .js-plotly-plot');
    const map = gd._fullLayout.map._subplot.map; const p = map.project([lon, lat]);
    const box = map.getCanvas().getBoundingClientRect(); return [box.left + p.x, box.top + p.y]; }"""


def _truck_on_the_road(dsn: str) -> tuple[str, str, int]:
    """A demo truck's 20 minutes east then north, as ingest stores a moving device's fixes, and the speeding
    warning the engine's apply stage opens for its last two; returns its id, plate and cargo class."""
    rule = next(r for r in load_rules() if isinstance(r, ZoneSpeedRule))
    now = datetime.now(UTC).replace(microsecond=0)
    with psycopg.connect(dsn) as conn:
        device_id, plate, cargo_class, company, district, town, lon, lat = one(
            conn, "SELECT device_id, attributes->>'plate', (attributes->>'cargo_class')::int, attributes->>'company',"
                  " district_code, township_code, lon, lat FROM devices WHERE device_type = 'hazmat_vehicle'"
                  " AND district_code = '431021' ORDER BY device_id LIMIT 1")
        fixes = [Fix(now - timedelta(seconds=30 * (40 - k)), lon - 0.02 + 0.001 * min(k, 20),
                     lat + 0.001 * max(0, k - 20), 50.0 if k < 38 else 95.0) for k in range(41)]
        for f in fixes:
            for metric, value in (("lon", f.lon), ("lat", f.lat), ("speed_kmh", f.speed), ("heading", 90.0)):
                conn.execute("INSERT INTO telemetry (ts, device_id, metric, value, district_code, township_code)"
                             " VALUES (%s, %s, %s, %s, %s, %s)", (f.ts, device_id, metric, value, district, town))
        truck = Vehicle(device_id, plate, company, cargo_class)
        apply_verdict(conn, rule, Site(device_id, plate, Location(fixes[-1].lon, fixes[-1].lat, district, town, None,
                                                                   None)), judge(VehicleCase(rule, truck, fixes)), now)
        conn.commit()
    return device_id, plate, cargo_class


def test_a_truck_is_drawn_with_its_trail_and_a_click_shows_it(
        demo_dsn: str, browser: Browser, dashboard_process: Callable[[str], DashboardProcess],
        page_watch: type[PageWatch]) -> None:
    device_id, plate, cargo_class = _truck_on_the_road(demo_dsn)
    server = dashboard_process(demo_dsn)
    context = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
    page = context.new_page()
    watch = page_watch(page)
    SHOTS.mkdir(parents=True, exist_ok=True)
    try:
        page.goto(f"{server.url}/login")
        page.fill("#username", "zhihui")
        page.fill("#password", "zhihui123")
        page.click("#login-submit")
        drawn = page.wait_for_function(TRAIL, arg=plate, timeout=60_000).json_value()
        assert drawn["id"] == device_id and drawn["color"] == CARGO_COLOR[cargo_class]
        assert drawn["n"] == 2  # its trail: where it set off and the corner, the straight stretches left out
        page.screenshot(path=str(SHOTS / "hazmat-bigscreen.png"))
        # a click where its trail starts (on the truck itself sits its incident, drawn on top)
        where = page.evaluate(WHERE, [drawn["lon"], drawn["lat"]])  # on the screen, from MapLibre
        card = page.locator("#overview-clicked")
        for _ in range(5):  # plotly's map takes a click on the point it hovers: hover it first
            page.mouse.move(where[0] - 8, where[1] - 8)
            page.mouse.move(where[0], where[1], steps=4)
            page.wait_for_timeout(500)
            page.mouse.click(where[0], where[1])
            page.wait_for_timeout(1_500)
            if plate in (card.text_content() or ""):
                break
        page.screenshot(path=str(SHOTS / "hazmat-trail.png"),
                        clip={"x": where[0] - 160, "y": where[1] - 120, "width": 320, "height": 240})
        expect(card).to_contain_text(plate, timeout=15_000)
        expect(card).to_contain_text("运输企业")
        expect(card).to_contain_text("第")  # its UN class, named
        expect(card).to_contain_text("危货车辆超速（精准限速）")
        expect(card).to_contain_text("限速 80 km/h，车速 95.0 km/h")
        card.screenshot(path=str(SHOTS / "hazmat-card.png"))
        page.screenshot(path=str(SHOTS / "hazmat-bigscreen-clicked.png"))
        page.click("#overview-districts")  # its district, nearer: the trail turns the corner
        page.get_by_role("option", name="桂阳县").click()
        expect(page.locator("#overview-crumb")).to_contain_text("桂阳县", timeout=15_000)
        page.wait_for_timeout(4_000)  # fitted to the district
        page.screenshot(path=str(SHOTS / "hazmat-district.png"))
        assert watch.errors == [], watch.errors
        assert watch.outside == [], watch.outside
    finally:
        context.close()
    assert "Traceback" not in server.log(), server.log()
