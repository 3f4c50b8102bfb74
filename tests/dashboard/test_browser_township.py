"""A township user signs for an incident in a real browser against a real dashboard process.

End to end through everything the unit tests cannot see: the login form, the session
cookie, the CSRF header dash-renderer echoes, the pattern-matching button, the
database row, and that the page neither logs a console error nor asks any host but
this one for anything (the intranet has no internet).
"""

from __future__ import annotations

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


def _incident_in(conn: psycopg.Connection, township: str, title: str) -> int:
    lon, lat, district = one(conn,
        "SELECT label_lon, label_lat, parent_code FROM regions r JOIN boundary_versions b USING (version)"
        " WHERE b.active AND r.code = %s", (township,))
    incident_id = open_incident(conn, title=title, category="防汛", level=2, source_kind="manual",
                                location=Location(lon, lat, district, township, None, None),
                                now=datetime.now(UTC) - timedelta(minutes=3))
    assert incident_id is not None
    return incident_id


@pytest.fixture(scope="module")
def scene(demo_db: Callable[[], str],
          dashboard_process: Callable[[str], DashboardProcess]) -> dict[str, object]:
    """A demo database with one incident dispatched to township A and one to B, and the dashboard on it."""
    dsn = demo_db()
    with psycopg.connect(dsn) as conn:
        a, b = [r[0] for r in conn.execute(
            "SELECT code FROM regions r JOIN boundary_versions v USING (version)"
            " WHERE v.active AND r.level = 'township' ORDER BY code LIMIT 2")]
        mine = _incident_in(conn, a, "人民路低洼处积水")
        theirs = _incident_in(conn, b, "别的镇街的事件")
        conn.commit()
    server = dashboard_process(dsn)
    return {"dsn": dsn, "url": server.url, "township": a, "mine": mine, "theirs": theirs, "server": server}


def test_township_user_signs_for_own_incident(browser: Browser, scene: dict[str, object],
                                              page_watch: type[PageWatch]) -> None:
    url, mine, theirs = scene["url"], scene["mine"], scene["theirs"]
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    watch = page_watch(page)
    try:
        page.goto(f"{url}/township")
        expect(page).to_have_url(f"{url}/login?next=/township")  # the gate sends strangers to the login form
        page.fill("#username", township_username(str(scene["township"])))
        page.fill("#password", TOWNSHIP_PASSWORD)
        page.click("#login-submit")

        card = page.locator(f"#tw-card-{mine}")
        expect(card).to_be_visible(timeout=30_000)
        expect(card).to_contain_text("人民路低洼处积水")
        expect(card).to_contain_text("已分拨")
        assert page.locator(f"#tw-card-{theirs}").count() == 0  # another township's incident is not shown
        assert "别的镇街的事件" not in page.content()

        card.get_by_role("button", name="签收").click()
        expect(page.locator("#tw-msg")).to_contain_text(f"#{mine} 签收：操作成功", timeout=15_000)
        expect(card).to_contain_text("已签收", timeout=15_000)  # the list re-read the database
        expect(card.get_by_role("button", name="签收")).to_have_count(0)

        with psycopg.connect(str(scene["dsn"])) as conn:
            rows = conn.execute("SELECT actor, role, from_status, to_status, source FROM incident_log"
                                " WHERE incident_id = %s AND action = 'sign'", (mine,)).fetchall()
            status = conn.execute("SELECT status FROM incidents WHERE id = %s", (mine,)).fetchone()
        assert rows == [(township_username(str(scene["township"])), "township", "dispatched", "signed", "web")]
        assert status == ("signed",)

        assert watch.errors == [], watch.errors
        assert watch.outside == [], watch.outside
        assert any("/_dash-update-component" in u for u in watch.requests)  # the click went through Dash
    finally:
        context.close()
    log = scene["server"].log()  # type: ignore[attr-defined]
    assert "Traceback" not in log, log


PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)


def test_township_user_feeds_back_with_a_photo(browser: Browser, scene: dict[str, object],
                                               page_watch: type[PageWatch]) -> None:
    """On a phone: feedback without its 处置结果 is refused in Chinese, then it goes in with a photo."""
    url, township = scene["url"], str(scene["township"])
    with psycopg.connect(str(scene["dsn"])) as conn:
        incident_id = _incident_in(conn, township, "河堤渗水")
        act(conn, incident_id, Action.SIGN, Actor(township_username(township), Role.TOWNSHIP, township),
            datetime.now(UTC))
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    watch = page_watch(page)
    try:
        page.goto(f"{url}/login?next=/township")
        page.fill("#username", township_username(township))
        page.fill("#password", TOWNSHIP_PASSWORD)
        page.click("#login-submit")
        card = page.locator(f"#tw-card-{incident_id}")
        expect(card).to_contain_text("已签收", timeout=30_000)
        card.get_by_role("button", name="处置反馈").click()
        page.fill("#tw-note", "已组织抢险队加固堤段，转移下游群众")
        page.click("#tw-submit-report")
        expect(page.locator("#tw-form-msg")).to_contain_text("请选择处置结果", timeout=15_000)
        page.check("#tw-result input[value=resolved]")
        page.set_input_files("#tw-photo input[type=file]",
                             files=[{"name": "dike.png", "mimeType": "image/png", "buffer": PNG}])
        expect(page.locator("#tw-photo-name")).to_contain_text("dike.png", timeout=15_000)
        page.click("#tw-submit-report")
        expect(card).to_contain_text("已反馈", timeout=15_000)
        with psycopg.connect(str(scene["dsn"])) as conn:
            log = conn.execute("SELECT note, details->>'result', details->'photos'->>0 FROM incident_log"
                               " WHERE incident_id = %s AND action = 'feedback'", (incident_id,)).fetchall()
            photos = conn.execute("SELECT filename, content_type, data FROM incident_attachments"
                                  " WHERE incident_id = %s", (incident_id,)).fetchall()
        assert log == [("已组织抢险队加固堤段，转移下游群众", "resolved", "dike.png")]
        assert [(f, ct, bytes(d)) for f, ct, d in photos] == [("dike.png", "image/png", PNG)]
        assert watch.errors == [], watch.errors
        assert watch.outside == [], watch.outside
    finally:
        context.close()
