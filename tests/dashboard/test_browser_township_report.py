"""处置进展 with a photo on a phone, in a real browser against a real dashboard process (two gunicorn-like
workers are the dashboard_process fixture's): the flood form asks for the people moved and the shelters,
refuses a bad count in Chinese, takes a photo by its content, and the incident page then shows the report
with its fields and the photo served back."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import psycopg
import pytest
from playwright.sync_api import Browser, expect

from alerts.incidents import Location, act, open_incident
from alerts.lifecycle import Action, Actor, Role
from dashboard.auth import TOWNSHIP_PASSWORD
from store.users import township_username
from tests.fix_db import one

if TYPE_CHECKING:
    from tests.fix_browser import DashboardProcess, PageWatch

pytestmark = pytest.mark.browser

# A real 1×1 PNG: the incident page must be able to draw it.
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJ"
                       "RU5ErkJggg==")


@pytest.fixture(scope="module")
def scene(demo_db: Callable[[], str], dashboard_process: Callable[[str], DashboardProcess]) -> dict[str, object]:
    """A demo database with a signed flood incident in township A, and the dashboard on it."""
    dsn = demo_db()
    with psycopg.connect(dsn) as conn:
        township, lon, lat, district = one(conn, "SELECT code, label_lon, label_lat, parent_code FROM regions r"
                                                 " JOIN boundary_versions v USING (version) WHERE v.active"
                                                 " AND r.level = 'township' ORDER BY code LIMIT 1")
        incident = open_incident(conn, title="沿河村山洪，组织转移", category="flood", level=1, source_kind="manual",
                                 location=Location(lon, lat, district, township, None, None),
                                 now=datetime.now(UTC) - timedelta(minutes=3))
        assert incident is not None
        act(conn, incident, Action.SIGN, Actor(township_username(township), Role.TOWNSHIP, township),
            datetime.now(UTC) - timedelta(minutes=2))
        conn.commit()
    return {"dsn": dsn, "server": dashboard_process(dsn), "township": township, "incident": incident}


def test_township_reports_progress_with_people_moved_and_a_photo(browser: Browser, scene: dict[str, object],
                                                                page_watch: type[PageWatch]) -> None:
    server, township, incident = scene["server"], str(scene["township"]), scene["incident"]
    url = server.url  # type: ignore[attr-defined]
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    watch = page_watch(page)
    try:
        page.goto(f"{url}/login?next=/township")
        page.fill("#username", township_username(township))
        page.fill("#password", TOWNSHIP_PASSWORD)
        page.click("#login-submit")
        card = page.locator(f"#tw-card-{incident}")
        expect(card).to_contain_text("已签收", timeout=30_000)
        card.get_by_role("button", name="处置进展").click()
        expect(page.locator("#tw-panel-title")).to_contain_text(f"处置进展 · #{incident}", timeout=15_000)
        expect(page.locator("#tw-flood-rows")).to_be_visible()  # a flood asks for 人员转移
        expect(page.locator("#tw-result-row")).to_be_hidden()  # 处置结果 is for the report of work done
        page.fill("#tw-note", "已转移沿河低洼户，继续巡查")
        page.fill("#tw-evacuated", "-1")
        page.click("#tw-submit-report")
        expect(page.locator("#tw-form-msg")).to_contain_text("转移人数须为不小于 0 的整数", timeout=15_000)
        page.fill("#tw-evacuated", "6")
        page.click("#tw-submit-report")
        expect(page.locator("#tw-form-msg")).to_contain_text("有群众转移，请填写安置点", timeout=15_000)
        page.fill("#tw-shelters", "镇中心小学、村委会")
        page.set_input_files("#tw-photo input[type=file]",
                             files=[{"name": "转移现场.png", "mimeType": "image/png", "buffer": PNG}])
        expect(page.locator("#tw-photo-name")).to_contain_text("转移现场.png", timeout=15_000)
        page.click("#tw-submit-report")
        expect(page.locator("#tw-msg")).to_contain_text(f"#{incident} 处置进展：操作成功", timeout=15_000)
        expect(card).to_contain_text("处置中", timeout=15_000)
        expect(page.locator("#tw-panel")).to_be_hidden()

        with psycopg.connect(str(scene["dsn"])) as conn:
            log_id, note, details, source = one(conn, "SELECT id, note, details, source FROM incident_log"
                                                      " WHERE incident_id = %s AND action = 'progress'", (incident,))
            photos = conn.execute("SELECT id, log_id, filename, content_type, data FROM incident_attachments"
                                  " WHERE incident_id = %s", (incident,)).fetchall()
        assert (note, source) == ("已转移沿河低洼户，继续巡查", "web")
        assert details == {"people_evacuated": 6, "shelters": ["镇中心小学", "村委会"], "photos": ["转移现场.png"]}
        assert [(p[1], p[2], p[3], bytes(p[4])) for p in photos] == [(log_id, "转移现场.png", "image/png", PNG)]

        page.goto(f"{url}/incident/{incident}")
        reports = page.locator("#incident-reports")
        expect(reports).to_contain_text("累计转移 6 人", timeout=30_000)
        expect(reports).to_contain_text("安置点：镇中心小学、村委会")
        expect(reports).to_contain_text("主办")
        image = reports.locator(f"img[src='/attachment/{photos[0][0]}']")
        expect(image).to_be_visible()
        assert image.evaluate("img => img.complete && img.naturalWidth") == 1  # served back and drawn
        assert watch.errors == [], watch.errors
        assert watch.outside == [], watch.outside
    finally:
        context.close()
    log = server.log()  # type: ignore[attr-defined]
    assert "Traceback" not in log, log
