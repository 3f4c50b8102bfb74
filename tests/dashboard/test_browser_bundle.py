"""The trimmed plotly.js (tools/plotly): the dashboard serves it in place of Dash's full plotly.min.js,
every page that draws a chart still draws it with no console error, MapLibre's stylesheet still comes
with it, and without the bundle (or with one of another plotly.js version) Dash's full one is served
with a warning. Also the cache headers of fingerprinted URLs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import dash
import flask
import psycopg
import pytest
from playwright.sync_api import Browser, Page, Response
from plotly.offline import get_plotlyjs_version
from werkzeug.routing import Map, Rule

from alerts.incidents import Location, open_incident
from dashboard.app import PLOTLY_BUNDLE, PLOTLY_JS_URL, register_plotly_bundle
from simulator.__main__ import register

if TYPE_CHECKING:
    from tests.fix_browser import DashboardProcess, PageWatch

pytestmark = pytest.mark.browser
TRIMMED_MAX_BYTES = 3_300_000  # bar, scatter and the map traces: 3.06 MB, two thirds of it MapLibre

# Every plot on the page drawn: each .js-plotly-plot has its full data, and a map has its MapLibre canvas.
DRAWN = """(n) => {
    const plots = Array.from(document.querySelectorAll('.js-plotly-plot'));
    return plots.length >= n && plots.every(gd => gd._fullData && gd._fullLayout
        && (!gd._fullLayout.map || gd.querySelector('.maplibregl-canvas')));
}"""
MAPLIBRE_CSS = """() => Array.from(document.styleSheets).some(sheet => {
    try { return Array.from(sheet.cssRules).some(rule => (rule.selectorText || '').includes('.maplibregl-map')); }
    catch (e) { return false; }
})"""


@pytest.fixture(scope="module")
def url(demo_db: Callable[[], str], dashboard_process: Callable[[str], DashboardProcess]) -> str:
    """The demo city with its devices (the quality page's chart) and one open incident (the leader's)."""
    dsn = demo_db()
    register(dsn, seed=7)
    with psycopg.connect(dsn) as conn:
        code, district, lon, lat = conn.execute(
            "SELECT code, parent_code, label_lon, label_lat FROM regions r JOIN boundary_versions v USING (version)"
            " WHERE v.active AND r.level = 'township' ORDER BY code LIMIT 1").fetchone() or ()
        assert open_incident(conn, title="燃气泄漏", category="production_safety", level=1, source_kind="manual",
                             location=Location(lon, lat, district, code, None, None),
                             now=datetime.now(UTC) - timedelta(hours=1)) is not None
        conn.commit()
    return dashboard_process(dsn).url


def _open(browser: Browser, url: str, user: str, password: str,
          page_watch: type[PageWatch]) -> tuple[Page, PageWatch, list[Response]]:
    context = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
    page = context.new_page()
    watch = page_watch(page)
    plotly: list[Response] = []
    page.on("response", lambda r: plotly.append(r) if r.url.endswith(PLOTLY_JS_URL) else None)
    page.goto(f"{url}/login")
    page.fill("#username", user)
    page.fill("#password", password)
    page.click("#login-submit")
    page.wait_for_load_state("networkidle")
    return page, watch, plotly


@pytest.mark.parametrize(("user", "password", "path", "plots", "map_"), [
    pytest.param("zhihui", "zhihui123", "/", 2, True, id="big-screen"),
    pytest.param("lingdao", "lingdao123", "/leader", 1, False, id="leader"),
    pytest.param("lingdao", "lingdao123", "/quality", 1, False, id="quality"),
])
def test_pages_draw_with_the_trimmed_plotly(browser: Browser, url: str, page_watch: type[PageWatch], user: str,
                                            password: str, path: str, plots: int, map_: bool) -> None:
    page, watch, plotly = _open(browser, url, user, password, page_watch)
    try:
        page.goto(f"{url}{path}")
        page.wait_for_function(DRAWN, arg=plots, timeout=60_000)
        assert plotly, "plotly.js was not fetched"
        assert plotly[0].headers["cache-control"] == "no-cache" and plotly[0].headers["etag"]
        body = page.context.request.get(f"{url}{PLOTLY_JS_URL}").body()  # the page's own copy is gone after goto
        assert len(body) < TRIMMED_MAX_BYTES, f"{len(body)} bytes: Dash's full plotly.min.js was served"
        assert body.startswith(f"/* plotly.js v{get_plotlyjs_version()} ".encode())
        traces = page.evaluate("Array.from(document.querySelectorAll('.js-plotly-plot'))"
                               ".flatMap(gd => gd._fullData.map(t => t.type))")
        assert traces, "no trace drawn"
        if map_:
            assert {"scattermap", "choroplethmap"} <= set(traces), traces
            assert page.evaluate(MAPLIBRE_CSS), "MapLibre's stylesheet was not injected"
        else:
            assert set(traces) & {"bar", "scatter"}, traces
        assert watch.errors == [], watch.errors
        assert watch.outside == [], watch.outside
    finally:
        page.context.close()


def test_fingerprinted_urls_cached_for_a_year(browser: Browser, url: str, page_watch: type[PageWatch]) -> None:
    page, watch, _ = _open(browser, url, "zhihui", "zhihui123", page_watch)
    try:
        responses: list[Response] = []
        page.on("response", lambda r: responses.append(r))
        page.reload()
        page.wait_for_function(DRAWN, arg=2, timeout=60_000)
        assets = [r for r in responses if "/assets/" in r.url and "?m=" in r.url]
        assert assets, [r.url for r in responses]
        for response in assets:
            assert response.headers.get("cache-control") == "max-age=31536000", (response.url, response.headers)
        assert watch.errors == [], watch.errors
    finally:
        page.context.close()


def test_missing_or_other_version_bundle_falls_back_to_dash_full_one(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    served = flask.Flask("bundle-test")
    assert register_plotly_bundle(served, PLOTLY_BUNDLE), f"{PLOTLY_BUNDLE} not built (./cityops.sh builds it)"
    client = served.test_client()
    first = client.get(PLOTLY_JS_URL)
    assert first.status_code == 200 and first.mimetype == "text/javascript"
    assert len(first.get_data()) < TRIMMED_MAX_BYTES
    assert first.cache_control.no_cache and first.headers["ETag"]
    assert client.get(PLOTLY_JS_URL, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304

    other = tmp_path / "other.min.js"
    other.write_text("/* plotly.js v1.0.0 (MIT) */ var Plotly = {};\n")
    for bundle, why in ((tmp_path / "not-built.min.js", "not built"), (other, "plotly.js 1.0.0")):
        bare = flask.Flask("no-bundle-test")
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="cityops.dashboard"):
            assert not register_plotly_bundle(bare, bundle)
        assert why in caplog.text and "serving Dash's full plotly.min.js" in caplog.text
        assert PLOTLY_JS_URL not in {rule.rule for rule in bare.url_map.iter_rules()}


def test_the_trimmed_bundle_wins_over_dash_route_and_dash_answers_without_it(dash_app: dash.Dash) -> None:
    """In the real app the URL reaches our rule, not Dash's ``<package_name>/<path>`` one (whatever the
    order they were added in); without ours it is Dash's, which serves plotly.py's full bundle."""
    rules = list(dash_app.server.url_map.iter_rules())
    assert dash_app.server.url_map.bind("localhost").match(PLOTLY_JS_URL)[0] == "plotly_bundle"
    without = Map([Rule(r.rule, endpoint=r.endpoint, methods=r.methods)
                   for r in rules if r.endpoint != "plotly_bundle"])
    endpoint, args = without.bind("localhost").match(PLOTLY_JS_URL)
    assert args == {"package_name": "plotly", "fingerprinted_path": "package_data/plotly.min.js"}, (endpoint, args)
