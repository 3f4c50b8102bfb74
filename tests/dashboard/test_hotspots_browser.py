"""12345 hotspots in Chromium against a real dashboard process, on hotspots the engine made: the incident page lists
the hotspot's tickets (whole callers for the command center, masked for a leader, each with the outcome it is
answered with), the leader cockpit ranks the hotspots by kind and by township, the big screen rings the open
ones. Screenshots kept in $CITYOPS_SHOTS (default /tmp/cityops-shots)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
import pytest
from playwright.sync_api import Browser, Page, expect

from dashboard.map.model import T
from tests.dashboard import hotspot_scene

if TYPE_CHECKING:
    from tests.fix_browser import DashboardProcess, PageWatch

pytestmark = pytest.mark.browser
SHOTS = Path(os.environ.get("CITYOPS_SHOTS", "/tmp/cityops-shots"))
HOTSPOT_IDS = f"""() => {{
    const gd = document.querySelector('#overview-map .js-plotly-plot');
    return gd && gd.data ? gd.data[{int(T.HOTSPOTS)}].customdata : null;
}}"""


@pytest.fixture(scope="module")
def scene(demo_db: Callable[[], str], dashboard_process: Callable[[str], DashboardProcess]) -> dict[str, object]:
    dsn = demo_db()
    made = hotspot_scene.make(dsn)
    with psycopg.connect(dsn) as conn:
        names: dict[str, str] = dict(conn.execute("SELECT code, name FROM regions WHERE code = ANY(%s)",
                                  ([made.noise_township, made.vending_township],)).fetchall())
    return {"dsn": dsn, "url": dashboard_process(dsn).url, "made": made, "names": names}


def _login(page: Page, url: str, user: str, password: str, landing: str) -> None:
    page.goto(f"{url}/login?next={landing}")
    page.fill("#username", user)
    page.fill("#password", password)
    page.click("#login-submit")
    expect(page).to_have_url(f"{url}{landing}", timeout=30_000)


@pytest.mark.parametrize(("user", "password", "phone"), [("zhihui", "zhihui123", "13900000003"),
                                                         ("lingdao", "lingdao123", "139****0003")])
def test_the_incident_page_lists_the_hotspots_tickets(browser: Browser, scene: dict[str, object],
                                                      page_watch: type[PageWatch], user: str, password: str,
                                                      phone: str) -> None:
    made = scene["made"]
    assert isinstance(made, hotspot_scene.Scene)
    context = browser.new_context(viewport={"width": 1440, "height": 1100})
    page = context.new_page()
    watch = page_watch(page)
    try:
        _login(page, str(scene["url"]), user, password, f"/incident/{made.noise}")
        expect(page.locator("h1")).to_contain_text("主动治理·高频诉求热点", timeout=30_000)
        table = page.locator("#incident-tickets")
        expect(table.locator("tbody tr")).to_have_count(6)
        row = table.locator("tbody tr").nth(3)
        expect(row).to_contain_text("噪音扰民")
        expect(row).to_contain_text("夜间工地施工噪音大，影响休息（第4次）")
        expect(row).to_contain_text(phone)
        expect(row).to_contain_text(str(scene["names"][made.noise_township]))  # type: ignore[index]
        expect(row).to_contain_text("办理中（已分拨）")  # the outcome each ticket will be answered with
        expect(page.get_by_text("主动治理 · 本热点的 12345 工单（6 件）")).to_be_visible()
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"hotspot-incident-{user}.png"), full_page=True)
        assert watch.errors == [] and watch.outside == [], (watch.errors, watch.outside)
    finally:
        context.close()


def test_the_leader_ranks_the_hotspots_and_the_big_screen_rings_them(
        browser: Browser, scene: dict[str, object], page_watch: type[PageWatch]) -> None:
    made, names = scene["made"], scene["names"]
    assert isinstance(made, hotspot_scene.Scene) and isinstance(names, dict)
    context = browser.new_context(viewport={"width": 1920, "height": 1080})
    page = context.new_page()
    watch = page_watch(page)
    try:
        _login(page, str(scene["url"]), "lingdao", "lingdao123", "/leader")
        kinds = page.locator("#ld-hotspot-kinds tbody tr")
        expect(kinds).to_have_count(2, timeout=30_000)
        expect(kinds.nth(0)).to_contain_text("噪音扰民")  # 1 hotspot of 6 tickets before 1 of 5
        expect(kinds.nth(0)).to_contain_text("6")
        expect(kinds.nth(1)).to_contain_text("占道经营")
        areas = page.locator("#ld-hotspot-areas tbody tr")
        expect(areas).to_have_count(2)
        expect(areas.nth(0)).to_contain_text(names[made.noise_township])
        expect(areas.nth(1)).to_contain_text(names[made.vending_township])
        page.locator("#ld-hotspots").scroll_into_view_if_needed()
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "hotspot-leader.png"), full_page=True)
        page.goto(f"{scene['url']}/")
        expect(page.locator("#overview-map")).to_be_visible(timeout=30_000)
        page.wait_for_function(f"() => {{ const ids = ({HOTSPOT_IDS})(); return ids && ids.length === 2; }}",
                               timeout=30_000)
        assert sorted(page.evaluate(HOTSPOT_IDS)) == sorted([made.noise, made.vending])
        page.wait_for_timeout(1500)  # MapLibre paints the rings
        page.screenshot(path=str(SHOTS / "hotspot-bigscreen.png"))
        assert watch.errors == [] and watch.outside == [], (watch.errors, watch.outside)
    finally:
        context.close()
