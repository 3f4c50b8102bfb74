"""In a real browser (issue 18): a leader opens the incident of a township-wide outage and sees the device warnings
it held back; after a new boundary version moved an open incident's point into the neighbouring township, the
command desk shows it flagged to confirm the area, and its page shows the 属地变更 row; no console error."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
import pytest
from playwright.sync_api import Browser, Page, expect

from alerts.evaluate import silence, tick
from alerts.incidents import open_incident
from alerts.locate import locate
from alerts.rules import NoDataRule, parse_rules
from ingest.devices import DeviceSpec, register_devices
from ingest.tagging import layer_tagger
from layers.loader import load_active_layers, write_version
from tests.alerts.test_retag_db import merged
from tests.fix_db import one

if TYPE_CHECKING:
    from tests.fix_browser import DashboardProcess, PageWatch

pytestmark = pytest.mark.browser
SHOTS = Path(os.environ.get("CITYOPS_SHOTS", "/tmp/cityops-shots"))
NOW = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
RULE = parse_rules('''
[[rule]]
id = "offline_browser"
kind = "no_data"
name = "离线"
category = "device_health"
device_type = "probe_browser"
''')[0]


def _login(page: Page, url: str, user: str, password: str, landing: str) -> None:
    page.goto(f"{url}/login?next={landing}")
    page.fill("#username", user)
    page.fill("#password", password)
    page.click("#login-submit")
    expect(page).to_have_url(f"{url}{landing}", timeout=30_000)


def _arrange(dsn: str) -> tuple[int, int]:
    """The incident of an outage in the third township, and one at a point of the second township that a new
    version merges into the first."""
    assert isinstance(RULE, NoDataRule)
    with psycopg.connect(dsn, autocommit=True) as conn:
        layers = load_active_layers(conn)
        into, gone, dark = [(r[0], float(r[1]), float(r[2])) for r in conn.execute(
            "SELECT t.code, g.label_lon, g.label_lat FROM regions t JOIN boundary_versions b USING (version)"
            " JOIN LATERAL (SELECT label_lon, label_lat FROM regions g WHERE g.version = t.version"
            " AND g.level = 'grid' AND g.parent_code = t.code ORDER BY g.code LIMIT 1) g ON true"
            " WHERE b.active AND t.level = 'township' ORDER BY t.code LIMIT 3")]
        ids = [f"probe-browser-{n}" for n in range(5)]
        register_devices(conn, [DeviceSpec(d, "probe_browser", "yj", f"井盖探头{n}", dark[1], dark[2])
                                for n, d in enumerate(ids)], layer_tagger(layers), layers.version)
        conn.execute("INSERT INTO device_status (device_id, last_seen) SELECT unnest(%s::text[]), %s",
                     (ids, NOW - timedelta(days=1)))
        conn.execute("UPDATE device_status SET last_seen = %s WHERE device_id = %s", (NOW, ids[-1]))  # still on
        silence(conn, [RULE], NOW)
        outage = one(conn, "SELECT incident_id FROM warnings WHERE rule_id = 'offline_browser' AND status = 'open'")[0]
        moved = open_incident(conn, title="低洼路段积水", category="flood", level=3, source_kind="manual",
                              location=locate(gone[1], gone[2], layers), now=NOW)
        assert moved is not None
        write_version(conn, merged(layers, into[0], gone[0]), "test: 合并镇街", "两镇合并")
        tick(conn, (), NOW + timedelta(minutes=1))
        # the outage's township did not change, and a township's incident is given no grid: no row
        assert not conn.execute("SELECT 1 FROM incident_log WHERE incident_id = %s AND action = 'retag'",
                                (outage,)).fetchall()
    return int(outage), moved


def test_held_back_warnings_and_a_changed_area_on_the_pages(
        browser: Browser, demo_db: Callable[[], str], dashboard_process: Callable[[str], DashboardProcess],
        page_watch: type[PageWatch]) -> None:
    dsn = demo_db()
    outage, moved = _arrange(dsn)
    server = dashboard_process(dsn)
    SHOTS.mkdir(parents=True, exist_ok=True)
    desk = browser.new_context(viewport={"width": 1920, "height": 1080})
    try:
        leader = desk.new_page()
        watch = page_watch(leader)
        _login(leader, server.url, "lingdao", "lingdao123", "/leader")
        leader.goto(f"{server.url}/incident/{outage}")
        section = leader.locator("#incident-suppressed")
        expect(section).to_contain_text("被抑制的设备预警（4）", timeout=20_000)
        expect(section.locator("tbody tr")).to_have_count(4)
        expect(section).to_contain_text("井盖探头0")
        section.scroll_into_view_if_needed()
        leader.screenshot(path=str(SHOTS / "incident-suppressed.png"), full_page=True)

        command = desk.new_page()
        command_watch = page_watch(command)
        _login(command, server.url, "zhihui", "zhihui123", "/command")
        row = command.locator(f"#cmd-card-{moved}, #cmd-row-{moved}").first
        expect(row).to_contain_text("近边界·请确认属地", timeout=20_000)
        expect(row.get_by_role("button", name="确认属地")).to_be_visible()
        command.screenshot(path=str(SHOTS / "command-retagged.png"))
        command.goto(f"{server.url}/incident/{moved}")
        expect(command.locator("body")).to_contain_text("属地变更", timeout=20_000)
        expect(command.locator("body")).to_contain_text("请确认属地或转派")
        expect(command.locator("body")).to_contain_text("改属其他镇街：是")  # the row's details, in words
        command.screenshot(path=str(SHOTS / "incident-retagged.png"), full_page=True)
        for w in (watch, command_watch):
            assert w.errors == [], w.errors
            assert w.outside == []
    finally:
        desk.close()
    assert "Traceback" not in server.log(), server.log()
