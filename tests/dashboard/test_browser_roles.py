"""Each kind of user in a real browser against a real dashboard process: where they land, what
they can do, and that no page asks any host but this one for anything (the intranet has no internet).

One database and one dashboard for the module; each test logs in in a fresh browser
context and ends asserting the console stayed clean.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import psycopg
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from alerts.incidents import Location, act, open_incident
from alerts.lifecycle import Action, Actor, Role
from dashboard.auth import TOWNSHIP_PASSWORD
from store.users import township_username

if TYPE_CHECKING:
    from tests.fix_browser import DashboardProcess, PageWatch

pytestmark = pytest.mark.browser
MAP_READY = "#overview-map .maplibregl-canvas"


@pytest.fixture(scope="module")
def scene(demo_db: Callable[[], str], dashboard_process: Callable[[str], DashboardProcess]) -> dict[str, Any]:
    """Two incidents reported back by township A (to verify and to return) and one still open in B."""
    dsn = demo_db()
    now = datetime.now(UTC)
    with psycopg.connect(dsn) as conn:
        (a, a_district, a_lon, a_lat), (b, b_district, b_lon, b_lat) = conn.execute(
            "SELECT code, parent_code, label_lon, label_lat FROM regions r JOIN boundary_versions v USING (version)"
            " WHERE v.active AND r.level = 'township' ORDER BY code LIMIT 2").fetchall()
        staff = Actor(township_username(a), Role.TOWNSHIP, a)

        def reported(title: str) -> int:
            iid = open_incident(conn, title=title, category="flood", level=2, source_kind="manual",
                                location=Location(a_lon, a_lat, a_district, a, None, None),
                                now=now - timedelta(hours=1))
            assert iid is not None
            act(conn, iid, Action.SIGN, staff, now - timedelta(minutes=50))
            act(conn, iid, Action.FEEDBACK, staff, now - timedelta(minutes=10), note="积水已排除",
                details={"people_evacuated": 4})
            return iid

        to_verify, to_return = reported("待核查的积水"), reported("照片不清的积水")
        open_b = open_incident(conn, title="乙镇燃气泄漏", category="production_safety", level=1, source_kind="manual",
                               location=Location(b_lon, b_lat, b_district, b, None, None), now=now - timedelta(hours=2))
        conn.commit()
    server = dashboard_process(dsn)
    return {"dsn": dsn, "url": server.url, "server": server, "a": a, "verify": to_verify, "return": to_return,
            "open_b": open_b}


@pytest.fixture
def session(browser: Browser, scene: dict[str, Any], page_watch: type[PageWatch]
            ) -> Iterator[Callable[..., tuple[Page, PageWatch]]]:
    """``session(user, password)``: a fresh context, logged in, with its page and its watch."""
    contexts: list[BrowserContext] = []

    def open_as(user: str, password: str, width: int = 1920, height: int = 1080) -> tuple[Page, PageWatch]:
        context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
        contexts.append(context)
        page = context.new_page()
        watch = page_watch(page)
        page.goto(f"{scene['url']}/login")
        page.fill("#username", user)
        page.fill("#password", password)
        page.click("#login-submit")
        return page, watch

    yield open_as
    for context in contexts:
        context.close()
    log = scene["server"].log()
    assert "Traceback" not in log, log


def _button(kind: str, index: int) -> str:
    """The CSS selector of a pattern-matching button (Dash writes its id as JSON with sorted keys)."""
    return f"button[id='{{\"index\":{index},\"type\":\"{kind}\"}}']"


def _clean(watch: PageWatch) -> None:
    assert watch.errors == [], watch.errors
    assert watch.outside == [], watch.outside


@pytest.mark.parametrize("who, home, landmark", [
    ("zhihui", "/", MAP_READY),
    ("township", "/township", "#tw-list"),
    ("lingdao", "/leader", "#ld-list-table"),
])
def test_each_role_lands_on_its_own_page(session: Callable[..., tuple[Page, PageWatch]], scene: dict[str, Any],
                                         who: str, home: str, landmark: str) -> None:
    user, password = (township_username(scene["a"]), TOWNSHIP_PASSWORD) if who == "township" \
        else (who, f"{who}123")
    page, watch = session(user, password)
    expect(page).to_have_url(f"{scene['url']}{home}")
    page.wait_for_selector(landmark, timeout=60_000)
    if who == "township":  # not the city's pages: the navigation offers only the desk
        assert page.locator(".nav-links a").all_inner_texts() == ["镇街工作台", "问题清单"]  # and its rectifications
        page.goto(f"{scene['url']}/leader")
        expect(page.locator(".denied")).to_contain_text("您的角色无权查看此页面", timeout=30_000)
    _clean(watch)


def test_command_verifies_one_and_returns_one_for_rework(session: Callable[..., tuple[Page, PageWatch]],
                                                         scene: dict[str, Any]) -> None:
    page, watch = session("zhihui", "zhihui123")
    page.goto(f"{scene['url']}/command")
    verify_id, return_id = scene["verify"], scene["return"]
    page.locator(_button("cmd-root-cause", verify_id)).click()  # 核查结案 names its root cause (Dash's dropdown)
    page.get_by_role("option").first.click()
    page.locator(_button("cmd-verify", verify_id)).click()
    expect(page.locator("#cmd-msg")).to_contain_text(f"#{verify_id} 核查结案：操作成功", timeout=15_000)
    # The queues are redrawn without the closed one; a click on a button being replaced is lost.
    expect(page.locator(_button("cmd-verify", verify_id))).to_have_count(0, timeout=15_000)
    page.locator(_button("cmd-open-rework", return_id)).click()
    panel = page.locator("#cmd-rework-panel")
    expect(panel).to_be_visible()
    page.click("#cmd-rework-submit")  # no reason: refused, in Chinese
    expect(page.locator("#cmd-msg")).to_contain_text("请填写返工原因", timeout=15_000)
    page.fill("#cmd-rework-reason", "照片看不清，请补拍")
    page.click("#cmd-rework-submit")
    expect(page.locator("#cmd-msg")).to_contain_text(f"#{return_id} 返工：操作成功", timeout=15_000)
    expect(panel).to_be_hidden()
    with psycopg.connect(scene["dsn"]) as conn:
        statuses = dict(conn.execute("SELECT id, status FROM incidents WHERE id = ANY(%s)",
                                     ([verify_id, return_id],)).fetchall())
        note = conn.execute("SELECT note FROM incident_log WHERE incident_id = %s AND action = 'rework'",
                            (return_id,)).fetchone()
    assert statuses == {verify_id: "closed", return_id: "in_progress"} and note == ("照片看不清，请补拍",)
    _clean(watch)


def test_leader_finds_an_incident_and_opens_its_timeline(session: Callable[..., tuple[Page, PageWatch]],
                                                         scene: dict[str, Any]) -> None:
    page, watch = session("lingdao", "lingdao123")
    page.wait_for_selector("#ld-list-table", timeout=60_000)
    page.fill("#ld-search", "燃气泄漏")
    page.press("#ld-search", "Enter")
    expect(page.locator("#ld-count")).to_have_text("共 1 条", timeout=15_000)
    page.locator("#ld-list-table button", has_text=f"#{scene['open_b']}").click()
    box = page.locator("#ld-timeline-box")
    expect(box).to_contain_text("乙镇燃气泄漏", timeout=15_000)
    expect(box.locator("#incident-log")).to_contain_text("按属地自动派遣")
    page.wait_for_selector("#ld-timeline .main-svg", timeout=30_000)  # the Gantt is drawn
    assert page.locator("#ld-timeline .bars path").count() >= 2  # 待分拨 and 已分拨
    with page.expect_download() as download:
        page.click("#ld-export-list")
    assert download.value.suggested_filename.endswith(".xlsx")
    _clean(watch)


def test_every_page_is_served_by_this_server_alone(session: Callable[..., tuple[Page, PageWatch]],
                                                   scene: dict[str, Any]) -> None:
    """The admin tours every page, drills the map into a township and turns every layer on: each request
    the browser makes goes to this dashboard (no CDN, no tiles, no fonts, no glyph server)."""
    page, watch = session("admin", "admin123")
    page.wait_for_selector("#adm-users-table", timeout=60_000)
    tour = (("/quality", "#dq-online-table"), ("/leader", "#ld-list-table"), ("/command", "#cmd-queues"),
            (f"/incident/{scene['verify']}", "#incident-timeline .main-svg"), ("/", MAP_READY))
    for path, landmark in tour:
        page.goto(f"{scene['url']}{path}")
        page.wait_for_selector(landmark, timeout=60_000)
    page.locator("#overview-layers input").nth(1).check()  # devices on
    for _ in range(2):  # city → district → township: the grids' GeoJSON comes from here too
        page.click("#overview-districts")
        page.get_by_role("option").first.click()
    expect(page.locator("#overview-crumb")).to_contain_text("›", timeout=15_000)
    page.wait_for_timeout(3_000)  # let MapLibre fetch whatever it would fetch
    own = scene["url"]
    foreign = [u for u in watch.requests if not u.startswith((own, "data:", "blob:"))]
    assert foreign == [], foreign
    assert any("/grid/" in u for u in watch.requests)  # the drill-down really happened
    _clean(watch)


def test_the_date_picker_speaks_the_page_language_not_the_browsers(
        browser: Browser, scene: dict[str, Any], page_watch: type[PageWatch]) -> None:
    """A leader whose browser is English but who reads the Chinese pages gets 一 二 三 … in the calendar;
    after switching the page to English, Mo Tu We …. The names come from date-fns's zh-CN locale served
    by the dashboard itself (no CDN)."""
    context = browser.new_context(viewport={"width": 1600, "height": 1000}, locale="en-US")
    try:
        page = context.new_page()
        watch = page_watch(page)
        page.goto(f"{scene['url']}/login")
        page.fill("#username", "lingdao")
        page.fill("#password", "lingdao123")
        page.click("#login-submit")
        page.wait_for_selector("#ld-list-table", timeout=60_000)
        assert page.get_attribute("html", "lang") == "zh-CN"

        def weekdays() -> str:
            page.click("#ld-start")
            calendar = page.locator(".dash-datepicker-calendar").first
            calendar.wait_for(timeout=15_000)
            names = calendar.locator("thead").inner_text()
            page.keyboard.press("Escape")
            return " ".join(names.split())

        assert weekdays() == "一 二 三 四 五 六 日"
        page.goto(f"{scene['url']}/lang/en?next=/leader")
        page.wait_for_selector("#ld-list-table", timeout=60_000)
        assert page.get_attribute("html", "lang") == "en"
        assert weekdays().split()[:2] == ["Mo", "Tu"]
        assert any(u.endswith("/vendor/date-fns/zh-CN.js") for u in watch.requests)
        _clean(watch)
    finally:
        context.close()
