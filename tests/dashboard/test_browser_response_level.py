"""应急响应 in a real browser (issue 12): the duty officer declares the city's Ⅳ级 response on the command desk,
the open big screen shows it within seconds without a reload, and shows it raised to Ⅱ级 the same way; the
township's phone page shows it too; no console error on any page."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
import pytest
from playwright.sync_api import Browser, Page, expect

from dashboard.auth import TOWNSHIP_PASSWORD
from store.users import township_username
from tests.fix_db import one

if TYPE_CHECKING:
    from tests.fix_browser import DashboardProcess, PageWatch

pytestmark = pytest.mark.browser
SHOTS = Path(os.environ.get("CITYOPS_SHOTS", "/tmp/cityops-shots"))


def _login(page: Page, url: str, user: str, password: str, landing: str) -> None:
    page.goto(f"{url}/login?next={landing}")
    page.fill("#username", user)
    page.fill("#password", password)
    page.click("#login-submit")
    expect(page).to_have_url(f"{url}{landing}", timeout=30_000)


def _declare(command: Page, level: str, note: str) -> None:
    command.get_by_text(level, exact=True).click()
    command.fill("#response-note", note)
    command.click("#response-declare")


def test_the_big_screen_shows_the_response_level_as_it_is_declared(
        browser: Browser, demo_db: Callable[[], str], dashboard_process: Callable[[str], DashboardProcess],
        page_watch: type[PageWatch]) -> None:
    dsn = demo_db()
    with psycopg.connect(dsn) as conn:
        township = one(conn, "SELECT min(code) FROM regions r JOIN boundary_versions v USING (version)"
                             " WHERE v.active AND r.level = 'township'")[0]
    server = dashboard_process(dsn)
    url = server.url
    SHOTS.mkdir(parents=True, exist_ok=True)
    desk = browser.new_context(viewport={"width": 1920, "height": 1080})
    wall = browser.new_context(viewport={"width": 1920, "height": 1080})
    phone = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        screen = wall.new_page()
        screen_watch = page_watch(screen)
        _login(screen, url, "zhihui", "zhihui123", "/")
        expect(screen.locator("#overview-map")).to_be_visible(timeout=30_000)
        expect(screen.locator("#response-banner")).to_be_hidden()  # nothing in force yet

        command = desk.new_page()
        command_watch = page_watch(command)
        _login(command, url, "zhihui", "zhihui123", "/command")
        command.click("#response-declare")  # no level chosen: refused in words
        expect(command.locator("#response-msg")).to_contain_text("请选择响应级别", timeout=15_000)
        _declare(command, "Ⅳ级", "台风“梅花”将于今夜登陆")
        expect(command.locator("#response-msg")).to_contain_text("全市：Ⅳ级", timeout=15_000)
        expect(command.locator("#response-banner")).to_contain_text("全市 Ⅳ级应急响应", timeout=15_000)
        command.screenshot(path=str(SHOTS / "response-command.png"))

        badge = screen.locator("#response-banner .response-badge")
        expect(badge).to_have_text("全市 Ⅳ级应急响应", timeout=20_000)  # the open screen's own timer
        expect(badge).to_have_attribute("data-level", "4")
        screen.screenshot(path=str(SHOTS / "response-bigscreen-iv.png"))
        _declare(command, "Ⅱ级", "雨情加剧")
        expect(command.locator("#response-msg")).to_contain_text("全市：Ⅱ级", timeout=15_000)
        expect(badge).to_have_text("全市 Ⅱ级应急响应", timeout=20_000)
        expect(badge).to_have_attribute("data-level", "2")
        screen.screenshot(path=str(SHOTS / "response-bigscreen-ii.png"))

        mobile = phone.new_page()
        mobile_watch = page_watch(mobile)
        _login(mobile, url, township_username(township), TOWNSHIP_PASSWORD, "/township")
        expect(mobile.locator("#response-banner .response-badge")).to_have_text("全市 Ⅱ级应急响应", timeout=20_000)
        # and the directive it came as, to acknowledge
        expect(mobile.locator(".directive-pending", has_text="全市提升至Ⅱ级应急响应")).to_have_count(1)
        mobile.screenshot(path=str(SHOTS / "response-township.png"))

        for watch in (screen_watch, command_watch, mobile_watch):
            assert watch.errors == [], watch.errors
            assert watch.outside == []
    finally:
        desk.close()
        wall.close()
        phone.close()
    assert "Traceback" not in server.log(), server.log()
