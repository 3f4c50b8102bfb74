"""政令一键智达 end to end in a real browser: the duty officer sends a directive to two townships,
one township acknowledges it on its desk, and the command desk shows 1/2 acknowledged,
with no console error on either page.
"""

from __future__ import annotations

from collections.abc import Callable
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


def _login(page: Page, url: str, user: str, password: str, landing: str) -> None:
    page.goto(f"{url}/login?next={landing}")
    page.fill("#username", user)
    page.fill("#password", password)
    page.click("#login-submit")
    expect(page).to_have_url(f"{url}{landing}", timeout=30_000)


def test_directive_is_sent_acknowledged_and_counted(browser: Browser, demo_db: Callable[[], str],
                                                    dashboard_process: Callable[[str], DashboardProcess],
                                                    page_watch: type[PageWatch]) -> None:
    dsn = demo_db()
    with psycopg.connect(dsn) as conn:
        towns = conn.execute(
            "SELECT code, name FROM regions r JOIN boundary_versions v USING (version)"
            " WHERE v.active AND r.level = 'township' ORDER BY code LIMIT 2").fetchall()
    (a, name_a), (b, name_b) = towns
    server = dashboard_process(dsn)
    url = server.url
    desk = browser.new_context(viewport={"width": 1920, "height": 1080})
    phone = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        command = desk.new_page()
        command_watch = page_watch(command)
        _login(command, url, "zhihui", "zhihui123", "/command")
        command.fill("#dir-title", "关于做好强降雨防范的紧急通知")
        command.fill("#dir-body", "请立即组织巡查低洼易涝点")
        command.get_by_text("指定镇街", exact=True).click()
        picker = command.locator("#dir-townships")
        expect(picker).to_be_visible()
        for name in (name_a, name_b):
            picker.click()
            command.keyboard.type(name)
            command.get_by_role("option", name=name).first.click()
            command.keyboard.press("Escape")
        command.fill("#dir-minutes", "15")
        command.click("#dir-submit")
        expect(command.locator("#dir-msg")).to_contain_text("已发送至 2 个镇街", timeout=15_000)
        with psycopg.connect(dsn) as conn:
            directive_id, targets = one(conn,
                "SELECT d.id, array_agg(t.township_code ORDER BY t.township_code) FROM directives d"
                " JOIN directive_targets t ON t.directive_id = d.id GROUP BY d.id")
        assert targets == [a, b]
        count = command.locator(f"#dir-count-{directive_id}")
        expect(count).to_have_text("已确认 0/2", timeout=15_000)

        township = phone.new_page()
        township_watch = page_watch(township)
        _login(township, url, township_username(a), TOWNSHIP_PASSWORD, "/township")
        card = township.locator(f"#tw-dir-{directive_id}")
        expect(card).to_contain_text("关于做好强降雨防范的紧急通知", timeout=15_000)
        card.get_by_role("button", name="确认收到").click()
        expect(township.locator("#tw-msg")).to_contain_text(f"政令 #{directive_id} 已确认收到", timeout=15_000)
        expect(card).to_have_count(0, timeout=15_000)

        expect(count).to_have_text("已确认 1/2", timeout=15_000)  # the command desk's timer re-reads it
        expect(command.locator(f"#dir-card-{directive_id} .laggard")).to_contain_text(name_b)

        assert command_watch.errors == [], command_watch.errors
        assert township_watch.errors == [], township_watch.errors
        assert command_watch.outside == [] and township_watch.outside == []
    finally:
        desk.close()
        phone.close()
    assert "Traceback" not in server.log(), server.log()
