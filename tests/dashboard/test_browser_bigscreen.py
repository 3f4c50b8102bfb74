"""The big screen, live: warnings published over MQTT during the test reach the open page within
seconds, without a reload, and the map keeps changing refresh after refresh.

The whole path runs for real: mosquitto, ``python -m ingest``, ``python -m alerts``, the
dashboard process and headless Chromium. "The map changed" is read from MapLibre's own
source data, not only from plotly's: a style whose updates fail (an empty sources object does) leaves plotly's
copy updated while the picture stands still.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import psycopg
import pytest
from playwright.sync_api import Browser, Page, expect

from cityops.localserver import LocalMosquitto
from dashboard.map.model import T
from tests.fix_system import ServiceFactory
from tests.mqtt_publish import publish

if TYPE_CHECKING:
    from tests.fix_browser import DashboardProcess, PageWatch

pytestmark = pytest.mark.browser
LIVE_WITHIN_S = 12.0  # publish → visible: ingest batch + engine + one 3-s refresh, with room for a slow machine

# Red points as MapLibre holds them (the layer plotly drew for the trace), and as plotly holds them.
_RED_SOURCE = f"""
    const gd = document.querySelector('#overview-map .js-plotly-plot');
    const map = gd && gd._fullLayout && gd._fullLayout.map && gd._fullLayout.map._subplot.map;
    const source = map && map.getSource('source-' + gd._fullData[{int(T.INCIDENT_1)}].uid + '-circle');"""
RED_ON_MAP = f"""() => {{{_RED_SOURCE}
    const geo = source.serialize().data;
    return [geo.features ? geo.features.length : 0, gd.data[{int(T.INCIDENT_1)}].customdata.length];
}}"""
# The canvas appears before plotly has handed MapLibre its sources: wait for the red one.
RED_SOURCE_READY = f"() => {{{_RED_SOURCE}\n    return Boolean(source);\n}}"


def _smoke_detectors(dsn: str, n: int) -> list[tuple[str, str, str]]:
    """(device_id, dept, name) of ``n`` smoke detectors in ``n`` different townships."""
    with psycopg.connect(dsn) as conn:
        rows = conn.execute("SELECT DISTINCT ON (township_code) device_id, dept, name FROM devices"
                            " WHERE device_type = 'smoke_detector' AND township_code IS NOT NULL"
                            " ORDER BY township_code, device_id LIMIT %s", (n,)).fetchall()
    assert len(rows) == n, "the demo registers smoke detectors"
    return [(r[0], r[1], r[2]) for r in rows]


def _fire(port: int, device_id: str, dept: str) -> None:
    topic = f"city/chenzhou/telemetry/{dept}/smoke_detector/{device_id}"
    publish(port, [(topic, {"ts": datetime.now(UTC).isoformat(), "values": {"smoke": 1.0}})],
            client_id=f"bigscreen-test-{uuid.uuid4().hex[:6]}")


def _red_counts(page: Page) -> tuple[int, int]:
    on_map, in_plotly = page.evaluate(RED_ON_MAP)
    return int(on_map), int(in_plotly)


def test_a_fire_published_over_mqtt_appears_on_the_open_screen(
        demo_dsn: str, services: ServiceFactory, broker: LocalMosquitto, browser: Browser,
        dashboard_process: Callable[[str], DashboardProcess], page_watch: type[PageWatch]) -> None:
    group = f"bigscreen-{uuid.uuid4().hex[:8]}"
    ingest = services("ingest", demo_dsn, "--client-id", group, "--share-group", group)
    alerts = services("alerts", demo_dsn, "--name", group)
    server = dashboard_process(demo_dsn)
    context = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
    page = context.new_page()
    watch = page_watch(page)
    try:
        page.goto(f"{server.url}/login")
        page.fill("#username", "zhihui")
        page.fill("#password", "zhihui123")
        page.click("#login-submit")
        page.wait_for_selector("#overview-map .maplibregl-canvas", timeout=60_000)
        ingest.wait_for_log("ingest subscribed")
        alerts.wait_for_log("alert engine active")
        page.evaluate("window.__sameDocument = true")  # gone if the page reloads
        page.wait_for_function(RED_SOURCE_READY, timeout=60_000)
        before = _red_counts(page)
        for round_, (device_id, dept, name) in enumerate(_smoke_detectors(demo_dsn, 3), start=1):
            published = time.monotonic()
            _fire(broker.port, device_id, dept)
            item = page.locator("#overview-warnings .warning-item", has_text=name)
            expect(item.first).to_contain_text("烟感火警", timeout=LIVE_WITHIN_S * 1000)
            page.wait_for_function(f"() => ({RED_ON_MAP})()[0] >= {before[0] + round_}", timeout=LIVE_WITHIN_S * 1000)
            seen_after = time.monotonic() - published
            assert seen_after < LIVE_WITHIN_S, f"round {round_}: {seen_after:.1f} s"
            on_map, in_plotly = _red_counts(page)
            assert on_map == in_plotly == before[1] + round_  # MapLibre drew what plotly holds
        assert page.evaluate("window.__sameDocument === true")  # no reload happened
        expect(page.locator("#overview-kpi-today_new")).not_to_have_text("0")
        with psycopg.connect(demo_dsn) as conn:
            fires = conn.execute("SELECT count(*) FROM warnings WHERE rule_id = 'fire_alarm'").fetchone()
        assert fires == (3,)
        assert watch.errors == [], watch.errors
        assert watch.outside == [], watch.outside
    finally:
        context.close()
    assert "Traceback" not in server.log(), server.log()
