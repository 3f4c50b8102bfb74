"""问题清单 in a real browser against a real dashboard process: the desk closes the third incident of one root cause
in a grid by choosing the cause on its card (refused without one), the problem is listed, its timeline opens, the
owner township signs its 整改报告 and the desk accepts it; screenshots of the desk and the page are kept."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg
import pytest
from playwright.sync_api import Browser, Page, expect

from alerts import problems
from alerts.incidents import act
from alerts.lifecycle import Action, Actor, Role
from alerts.locate import locate
from dashboard.auth import TOWNSHIP_PASSWORD
from layers.loader import load_active_layers
from store.users import township_username
from tests.fed_back import fed_back_flood

if TYPE_CHECKING:
    from tests.fix_browser import DashboardProcess

pytestmark = pytest.mark.browser
SHOTS = Path(__file__).resolve().parents[2] / ".run" / "screenshots"
COMMAND = Actor("zhihui", Role.COMMAND)


@pytest.fixture(scope="module")
def scene(demo_db: Callable[[], str], dashboard_process: Callable[[str], DashboardProcess]) -> dict[str, Any]:
    """Two incidents of one grid closed with 排水能力不足, and a third reported back, waiting for 核查结案."""
    dsn = demo_db()
    t0 = datetime.now(UTC) - timedelta(days=2)
    with psycopg.connect(dsn, autocommit=True) as conn:
        lon, lat = conn.execute("SELECT label_lon, label_lat FROM regions r JOIN boundary_versions v USING (version)"
                                " WHERE v.active AND r.level = 'grid' ORDER BY code LIMIT 1").fetchone() or (0, 0)
        where = locate(lon, lat, load_active_layers(conn))
        assert where.township_code is not None and where.grid_code is not None
        cause = next(c for c in problems.root_causes(conn) if c.name == "排水能力不足")
        ids = []
        for n in range(3):
            at = t0 + timedelta(hours=n)
            iid = fed_back_flood(conn, where, at, f"人民路积水{n}")
            if n < 2:
                act(conn, iid, Action.VERIFY, COMMAND, at + timedelta(minutes=3), details={"root_cause": cause.id})
            ids.append(iid)
    server = dashboard_process(dsn)
    return {"dsn": dsn, "url": server.url, "third": ids[2], "township": where.township_code, "cause": cause.name}


@pytest.fixture
def login(browser: Browser, scene: dict[str, Any]) -> Iterator[Callable[[str, str], Page]]:
    contexts = []

    def open_as(user: str, password: str) -> Page:
        context = browser.new_context(viewport={"width": 1600, "height": 1000}, locale="zh-CN")
        contexts.append(context)
        page = context.new_page()
        page.goto(f"{scene['url']}/login")
        page.fill("#username", user)
        page.fill("#password", password)
        page.click("#login-submit")
        page.wait_for_load_state("networkidle")
        return page
    yield open_as
    for c in contexts:
        c.close()


def _id(kind: str, **keys: object) -> str:
    """The CSS selector of a pattern-matching component (Dash writes its id as JSON with sorted keys)."""
    return f"[id='{json.dumps({**keys, 'type': kind}, sort_keys=True, separators=(',', ':'))}']"


def test_verify_with_a_root_cause_lists_the_problem_and_its_loop_runs(login: Callable[[str, str], Page],
                                                                     scene: dict[str, Any]) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    third = scene["third"]
    desk = login("zhihui", "zhihui123")
    desk.goto(f"{scene['url']}/command")
    verify = desk.locator(f"button{_id('cmd-verify', index=third)}")
    verify.click()  # no root cause chosen: refused, in Chinese
    expect(desk.locator("#cmd-msg")).to_contain_text("请选择根源分类后再核查结案", timeout=15_000)
    desk.locator(f"button{_id('cmd-root-cause', index=third)}").click()  # Dash's dropdown is a button
    desk.get_by_role("option", name=scene["cause"]).click()
    desk.locator(f"#cmd-resolved-{third}").screenshot(path=str(SHOTS / "rectification_verify_card.png"))
    verify.click()
    expect(desk.locator("#cmd-msg")).to_contain_text(f"#{third} 核查结案：操作成功", timeout=15_000)

    desk.goto(f"{scene['url']}/rectification")
    row = desk.locator("#rect-list tbody tr").first
    expect(row).to_contain_text(scene["cause"], timeout=30_000)
    expect(row).to_contain_text("整改中")
    desk.locator("#rect-choose").click()
    desk.get_by_role("option").first.click()
    expect(desk.locator("#rect-timeline")).to_contain_text("立单", timeout=15_000)
    desk.screenshot(path=str(SHOTS / "rectification_page.png"), full_page=True)

    unit = login(township_username(scene["township"]), TOWNSHIP_PASSWORD)
    unit.goto(f"{scene['url']}/rectification")
    unit.locator("#rect-choose").click()
    unit.get_by_role("option").first.click()
    unit.locator("textarea[id*='rect-note']").fill("疏通排水管网，新增雨水篦子6处")
    unit.locator("button[id*='\"action\":\"report\"']").click()
    expect(unit.locator("#rect-msg")).to_contain_text("整改报告：操作成功", timeout=15_000)
    expect(unit.locator("#rect-timeline")).to_contain_text("疏通排水管网", timeout=15_000)

    desk.goto(f"{scene['url']}/leader")  # the leader cockpit lists it while it is open, with its deadline
    panel = desk.locator("#ld-rectification-panel")
    expect(panel).to_contain_text("未验收整改", timeout=30_000)
    expect(panel).to_contain_text("待验收")
    panel.screenshot(path=str(SHOTS / "rectification_leader.png"))
    desk.goto(f"{scene['url']}/lang/en")
    desk.goto(f"{scene['url']}/rectification")
    expect(desk.locator("#rect-list")).to_contain_text("Awaiting acceptance", timeout=30_000)
    desk.screenshot(path=str(SHOTS / "rectification_page_en.png"), full_page=True)
    desk.goto(f"{scene['url']}/lang/zh")
    desk.goto(f"{scene['url']}/rectification")
    desk.locator("#rect-choose").click()
    desk.get_by_role("option").first.click()
    desk.locator("button[id*='\"action\":\"accept\"']").click()
    expect(desk.locator("#rect-msg")).to_contain_text("验收通过：操作成功", timeout=15_000)
    expect(desk.locator("#rect-timeline")).to_contain_text("已验收", timeout=15_000)
    desk.screenshot(path=str(SHOTS / "rectification_accepted.png"), full_page=True)
