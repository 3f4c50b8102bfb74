"""The dashboard's own Chinese web font: a client machine without any CJK font still reads Chinese,
from slices this server sends and no other host; a client that has Noto Sans CJK downloads nothing.

"Without any CJK font" is real: that Chromium runs with a fontconfig that rejects every font
``fc-list :lang=zh`` names, and the test first proves it draws 城 and 市 as the same empty box.
"Used" is read from Chromium itself (DevTools ``CSS.getPlatformFontsForNode``: the fonts that
painted a node's text), besides ``document.fonts`` and the requests the page made.
"""

from __future__ import annotations

import logging
import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import flask
import psycopg
import pytest
from playwright.sync_api import Browser, Page, Response

from dashboard.app import WEBFONT_CSS, WEBFONT_FAMILY, WEBFONT_PACKAGE, register_webfont
from dashboard.auth import TOWNSHIP_PASSWORD
from store.users import township_username
from tests.fix_browser import CHROMIUM, CHROMIUM_ARGS, LOOPBACK_HOSTS

if TYPE_CHECKING:
    from tests.fix_browser import DashboardProcess, PageWatch

pytestmark = pytest.mark.browser
WEB_NAME = "Noto Sans SC"  # the name inside the served woff2 files (of its default instance: "… Thin")

# The same two characters drawn on a canvas in ``font``: are their pixels different?
GLYPHS_DIFFER = """async (font) => {
    await document.fonts.load(font, '城市');
    const canvas = document.createElement('canvas');
    canvas.width = canvas.height = 64;
    const ctx = canvas.getContext('2d');
    const pixels = (ch) => {
        ctx.clearRect(0, 0, 64, 64);
        ctx.font = font;
        ctx.fillText(ch, 4, 52);
        return Array.from(ctx.getImageData(0, 0, 64, 64).data).join();
    };
    return pixels('城') !== pixels('市');
}"""
LOADED_FACES = f"""() => Array.from(document.fonts)
    .filter(f => f.family.replaceAll('"', '') === '{WEBFONT_FAMILY}' && f.status === 'loaded')
    .map(f => f.weight)"""


def _painted_with(page: Page, selector: str) -> list[dict[str, Any]]:
    """The platform fonts Chromium painted the text of ``selector`` with (family, isCustomFont, glyphCount)."""
    cdp = page.context.new_cdp_session(page)
    try:
        cdp.send("DOM.enable")
        cdp.send("CSS.enable")
        root = cdp.send("DOM.getDocument")["root"]["nodeId"]
        node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
        return list(cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"])
    finally:
        cdp.detach()


@pytest.fixture(scope="module")
def scene(demo_db: Callable[[], str], dashboard_process: Callable[[str], DashboardProcess]) -> dict[str, str]:
    dsn = demo_db()
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT code FROM regions r JOIN boundary_versions v USING (version)"
                           " WHERE v.active AND r.level = 'township' ORDER BY code LIMIT 1").fetchone()
    assert row is not None
    return {"url": dashboard_process(dsn).url, "township_user": township_username(row[0])}


@pytest.fixture(scope="module")
def no_cjk_browser(browser: Browser, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    """Chromium on a fontconfig without any font that covers Chinese."""
    listed = subprocess.run(["fc-list", ":lang=zh", "file"], capture_output=True, text=True, check=True).stdout
    cjk = sorted({line.split(":")[0] for line in listed.splitlines() if line.strip()})
    assert cjk, "no CJK font installed (fonts-noto-cjk): the 'client has one' half would prove nothing"
    conf = tmp_path_factory.mktemp("fontconfig") / "fonts.conf"
    rejected = "".join(f"<glob>{path}</glob>" for path in cjk)
    conf.write_text('<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">\n'
                    f"<fontconfig><include>/etc/fonts/fonts.conf</include>"
                    f"<selectfont><rejectfont>{rejected}</rejectfont></selectfont></fontconfig>\n")
    fresh = browser.browser_type.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                        env={**os.environ, "FONTCONFIG_FILE": str(conf)})
    yield fresh
    fresh.close()


def _open(browser: Browser, url: str, user: str, password: str, path: str, ready: str, width: int, height: int,
          page_watch: type[PageWatch]) -> tuple[Page, PageWatch, list[Response]]:
    """Log in, open ``path``, wait until its text is painted and every font it asked for has come."""
    context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN",
                                  is_mobile=width < 600)
    page = context.new_page()
    watch = page_watch(page)
    fonts: list[Response] = []
    page.on("response", lambda r: fonts.append(r) if urlsplit(r.url).path.endswith(".woff2") else None)
    page.goto(f"{url}/login")
    page.fill("#username", user)
    page.fill("#password", password)
    page.click("#login-submit")
    page.wait_for_url(f"{url}{path}")
    page.wait_for_selector(ready, timeout=60_000)
    page.wait_for_function("() => document.fonts.status === 'loaded'", timeout=30_000)
    return page, watch, fonts


PAGES = [pytest.param("zhihui", "zhihui123", "/", ".bigscreen-head h1", 1920, 1080, id="big-screen"),
         pytest.param("township", TOWNSHIP_PASSWORD, "/township", ".nav-title", 390, 844, id="township-phone")]


@pytest.mark.parametrize(("user", "password", "path", "ready", "width", "height"), PAGES)
def test_client_without_cjk_font_reads_chinese_from_this_server(
        no_cjk_browser: Browser, scene: dict[str, str], page_watch: type[PageWatch],
        user: str, password: str, path: str, ready: str, width: int, height: int) -> None:
    login = scene["township_user"] if user == "township" else user
    page, watch, fonts = _open(no_cjk_browser, scene["url"], login, password, path, ready, width, height,
                               page_watch)
    try:
        assert not page.evaluate(GLYPHS_DIFFER, "48px sans-serif"), "this client must have no CJK font"
        assert page.evaluate(GLYPHS_DIFFER, f'48px "{WEBFONT_FAMILY}"'), "the served font draws real glyphs"

        painted = _painted_with(page, ready)
        assert any(f["familyName"].startswith(WEB_NAME) and f["isCustomFont"] and f["glyphCount"] > 0
                   for f in painted), painted
        assert page.evaluate(LOADED_FACES), "no face of the served family reached status 'loaded'"

        assert fonts, "no font slice was fetched"
        for response in fonts:
            parts = urlsplit(response.url)
            assert parts.hostname in LOOPBACK_HOSTS and parts.path.startswith("/assets/fonts/"), response.url
            assert response.status == 200, (response.url, response.status)
        fetched = sum(int(r.headers["content-length"]) for r in fonts)  # the login page's and this one's
        assert len(fonts) < 40 and fetched < 3_000_000, f"{len(fonts)} slices, {fetched} bytes: not split"
        assert watch.outside == [], watch.outside
        assert watch.errors == [], watch.errors
    finally:
        page.context.close()


def test_client_with_noto_cjk_uses_its_own_copy(browser: Browser, scene: dict[str, str],
                                               page_watch: type[PageWatch]) -> None:
    page, watch, fonts = _open(browser, scene["url"], scene["township_user"], TOWNSHIP_PASSWORD, "/township",
                               ".nav-title", 390, 844, page_watch)
    try:
        painted = _painted_with(page, ".nav-title")
        assert any(f["familyName"] == WEBFONT_FAMILY and f["glyphCount"] > 0 for f in painted), painted
        assert [r.url for r in fonts] == [], "the installed font must win over the download (local() first)"
        assert watch.outside == [] and watch.errors == [], (watch.outside, watch.errors)
    finally:
        page.context.close()


def test_font_served_with_long_cache_and_missing_font_only_warns(tmp_path: Path,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    server = flask.Flask("font-test")
    register_webfont(server, WEBFONT_PACKAGE)
    client = server.test_client()
    css = client.get(WEBFONT_CSS)
    assert css.status_code == 200 and css.mimetype == "text/css"
    text = css.get_data(as_text=True)
    first = text.split("url(", 1)[1].split(")", 1)[0]
    assert text.index('local("NotoSansCJKsc-Regular")') < text.index("url(")  # an installed copy first
    with client.get(first) as woff2:
        assert woff2.status_code == 200 and woff2.mimetype == "font/woff2"
        assert woff2.cache_control.max_age == 365 * 24 * 3600  # the URL carries the package version
    assert client.get(WEBFONT_CSS, headers={"If-None-Match": css.headers["ETag"]}).status_code == 304

    bare = flask.Flask("no-font-test")
    with caplog.at_level(logging.WARNING, logger="cityops.dashboard"):
        register_webfont(bare, tmp_path / "not-installed")
    assert "web font not installed" in caplog.text
    empty = bare.test_client().get(WEBFONT_CSS)
    assert empty.status_code == 200 and "@font-face" not in empty.get_data(as_text=True)
