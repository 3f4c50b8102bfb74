"""A grid member's 巡查上报 in headless Chromium against a real dashboard process, accepted on the command desk.

On a phone-sized page: the member logs in through the form and lands on its page, reads the point under the
map's cross (after dragging the map), takes the phone's position (the browser's geolocation), writes what it
saw, attaches a photo and sends it; the report is listed as 待受理 on its page and waits in the database; the
duty officer's desk shows it under 待受理 and 受理立案 routes it to the township of its point. No console error,
nothing asked of another host."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import psycopg
import pytest
from playwright.sync_api import Browser, FilePayload, expect

from dashboard.auth import DEMO_USERS, GRID_PASSWORD
from store.users import grid_username
from tests.fix_db import one

if TYPE_CHECKING:
    from tests.fix_browser import DashboardProcess, PageWatch

pytestmark = pytest.mark.browser

GRID = "431002001002"  # 人民路街道第2网格 (北湖区)
PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)
PASSWORDS = {username: password for username, password, _, _ in DEMO_USERS}


@pytest.fixture(scope="module")
def scene(demo_db: Callable[[], str], dashboard_process: Callable[[str], DashboardProcess]) -> dict[str, object]:
    dsn = demo_db()
    with psycopg.connect(dsn) as conn:
        lon, lat = one(conn, "SELECT label_lon, label_lat FROM regions r JOIN boundary_versions b USING (version)"
                             " WHERE b.active AND r.code = %s", (GRID,))
    server = dashboard_process(dsn)
    return {"dsn": dsn, "url": server.url, "server": server, "lon": float(lon), "lat": float(lat)}


def test_a_grid_report_from_the_phone_is_accepted_on_the_desk(browser: Browser, scene: dict[str, object],
                                                              page_watch: type[PageWatch]) -> None:
    url, dsn = str(scene["url"]), str(scene["dsn"])
    lon, lat = float(str(scene["lon"])), float(str(scene["lat"]))
    phone = browser.new_context(viewport={"width": 390, "height": 844},
                                geolocation={"longitude": lon, "latitude": lat}, permissions=["geolocation"])
    page = phone.new_page()
    watch = page_watch(page)
    try:
        page.goto(f"{url}/")
        page.fill("#username", grid_username(GRID))
        page.fill("#password", GRID_PASSWORD)
        page.click("#login-submit")
        expect(page).to_have_url(f"{url}/grid", timeout=30_000)  # a grid member lands on its own page
        expect(page.locator("h1")).to_contain_text("人民路街道第2网格", timeout=30_000)
        expect(page.locator("#wg-map canvas").first).to_be_visible(timeout=30_000)  # its grid's map is drawn
        # The map's centre: drawn on the grid, then dragged to the west by a third of its width (its centre goes east).
        page.get_by_role("button", name="用地图中心位置（十字处）").click()
        drawn = float(page.locator("#wg-lon").input_value())
        box = page.locator("#wg-map").bounding_box()
        assert box is not None
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        page.mouse.move(x, y)
        page.mouse.down()
        page.mouse.move(x - box["width"] / 3, y, steps=8)
        page.mouse.up()
        page.wait_for_timeout(500)
        page.get_by_role("button", name="用地图中心位置（十字处）").click()
        expect(page.locator("#wg-lon")).not_to_have_value(f"{drawn:.6f}", timeout=15_000)
        assert float(page.locator("#wg-lon").input_value()) > drawn  # the point under the cross, east of it
        page.fill("#wg-lon", "")
        page.fill("#wg-lat", "")
        page.get_by_role("button", name="使用当前位置").click()
        expect(page.locator("#wg-lon")).to_have_value(f"{lon:.6f}", timeout=15_000)
        expect(page.locator("#wg-lat")).to_have_value(f"{lat:.6f}")
        page.click("#wg-submit")
        expect(page.locator("#wg-form-msg")).to_contain_text("请描述现场情况", timeout=15_000)
        page.fill("#wg-note", "人民路与北湖路口井盖缺失")
        photo: FilePayload = {"name": "manhole.png", "mimeType": "image/png", "buffer": PNG}
        page.set_input_files("#wg-photo input[type=file]", files=[photo])
        expect(page.locator("#wg-photo-name")).to_contain_text("manhole.png", timeout=15_000)
        page.click("#wg-submit")
        expect(page.locator("#wg-msg")).to_contain_text("巡查上报：操作成功", timeout=15_000)
        with psycopg.connect(dsn) as conn:
            rid, status, grid, township, title = one(
                conn, "SELECT id, status, grid_code, township_code, title FROM incidents WHERE reported_by = %s",
                (grid_username(GRID),))
            photos = one(conn, "SELECT count(*) FROM incident_attachments WHERE incident_id = %s", (rid,))[0]
        assert (status, grid, township, title, photos) == ("reported", GRID, GRID[:9], "人民路与北湖路口井盖缺失", 1)
        card = page.locator(f"#wg-card-{rid}")
        expect(card).to_contain_text("待受理", timeout=15_000)
        assert watch.errors == [], watch.errors
        assert watch.outside == [], watch.outside
    finally:
        phone.close()

    desk = browser.new_context(viewport={"width": 1600, "height": 1000})
    page = desk.new_page()
    watch = page_watch(page)
    try:
        page.goto(f"{url}/login?next=/command")
        page.fill("#username", "zhihui")
        page.fill("#password", PASSWORDS["zhihui"])
        page.click("#login-submit")
        card = page.locator(f"#cmd-reported-{rid}")
        expect(card).to_contain_text("人民路与北湖路口井盖缺失", timeout=30_000)
        expect(card).to_contain_text(grid_username(GRID))
        card.get_by_role("button", name="受理立案").click()
        expect(page.locator("#cmd-msg")).to_contain_text(f"#{rid} 受理立案：操作成功", timeout=15_000)
        expect(card).to_have_count(0, timeout=15_000)  # off the 待受理 list: it is an incident now
        with psycopg.connect(dsn) as conn:
            status, unit = one(conn, "SELECT status, township_code FROM incidents WHERE id = %s", (rid,))
            moves = [r[0] for r in conn.execute("SELECT action FROM incident_log WHERE incident_id = %s ORDER BY id",
                                                (rid,))]
        assert (status, unit) == ("dispatched", GRID[:9]) and moves == ["patrol_report", "accept", "dispatch"]
        assert watch.errors == [], watch.errors
        assert watch.outside == [], watch.outside
    finally:
        desk.close()
    log = scene["server"].log()  # type: ignore[attr-defined]
    assert "Traceback" not in log, log
