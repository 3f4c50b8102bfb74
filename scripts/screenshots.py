"""Screenshot every dashboard page of a running server, to look at what users see.

    .venv/bin/python scripts/screenshots.py --url http://127.0.0.1:8050 \\
        --user zhihui --password zhihui123 --township-user zj431002001 --township-password zj123456

Starts nothing itself: point it at a running dashboard (with data: ``bench/bench_dashboard.py
load`` adds a month of history to a demo database). Writes PNGs into ./screenshots/ (gitignored):
the big screen exactly as a 1920×1080 wall shows it (also at 3840×2160, and drilled down to a
district and a township); the pages that scroll as whole pages, 1920 px wide: the command desk,
one incident timeline, the leader cockpit (and its timeline panel), data quality, admin and the
township desk (again at 390 px, a phone). It prints every browser console error, every request
to a non-loopback host (something not served locally) and a big screen that would scroll, and
exits 1 if there was any. ``--only map,leader`` limits it. Run it with ``FONTCONFIG_FILE``
pointing at a fontconfig without CJK fonts to see what a client without them gets.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import Browser, ConsoleMessage, Page, Request, sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--enable-unsafe-swiftshader",
                 "--disable-background-networking", "--disable-component-update", "--no-first-run",
                 "--disable-sync"]
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


class Watch:
    """Console errors, outside requests and layout problems of the pages, for the final report."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.outside: list[str] = []
        self.layout: list[str] = []

    def attach(self, page: Page) -> None:
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        page.on("request", self._request)

    def _console(self, msg: ConsoleMessage) -> None:
        if msg.type == "error":
            self.errors.append(f"{msg.text} ({msg.location.get('url', '')})")

    def _request(self, req: Request) -> None:
        host = urlsplit(req.url).hostname
        if req.url.startswith(("http:", "https:", "ws:", "wss:")) and host not in LOOPBACK:
            self.outside.append(req.url)


def login(page: Page, base: str, user: str, password: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#username", user)
    page.fill("#password", password)
    page.click("#login-submit")
    page.wait_for_load_state("networkidle")


def shot(page: Page, base: str, path: str, out: Path, name: str, wait_for: str, settle_s: float = 1.0,
         full_page: bool = True) -> None:
    """Open ``path`` and capture it: the whole page, or (``full_page=False``) the screen only."""
    started = time.monotonic()
    page.goto(f"{base}{path}")
    page.wait_for_selector(wait_for, timeout=60_000)
    time.sleep(settle_s)  # WebGL in software (no GPU here) paints after the DOM is ready
    capture(page, out, name, f"{path}  {time.monotonic() - started:.1f} s", full_page=full_page)


def capture(page: Page, out: Path, name: str, note: str, full_page: bool = True) -> list[int]:
    """Write ``name``.png; the page's scroll size and the window's size: [width, height, width, height]."""
    page.screenshot(path=str(out / f"{name}.png"), full_page=full_page, timeout=180_000)  # 4K WebGL is slow
    size: list[int] = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.scrollHeight,"
                                    " window.innerWidth, window.innerHeight]")
    print(f"{name}.png  page {size[0]}×{size[1]}  {note}")
    return size


def wall(page: Page, out: Path, name: str, note: str, watch: Watch) -> None:
    """A big-screen shot: the screen as it stands; content beyond it (it would scroll) is reported."""
    size = capture(page, out, name, note, full_page=False)
    if size[0] > size[2] or size[1] > size[3]:
        watch.layout.append(f"{name}: the big screen scrolls ({size[0]}×{size[1]} in a {size[2]}×{size[3]} window)")


def session(browser: Browser, width: int, height: int, watch: Watch, mobile: bool = False,
            locale: str = "zh-CN") -> Page:
    """A fresh browser context (its own cookies), watched for errors and outside requests.

    The browser's locale is what a command-center PC has (date inputs follow it, not the page).
    """
    context = browser.new_context(viewport={"width": width, "height": height}, is_mobile=mobile,
                                  device_scale_factor=2 if mobile else 1, locale=locale)
    page = context.new_page()
    watch.attach(page)
    return page


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True)
    parser.add_argument("--user", default="zhihui", help="a command-center account")
    parser.add_argument("--password", default="zhihui123")
    parser.add_argument("--township-user", required=True, help="a township account, zj<9-digit code>")
    parser.add_argument("--township-password", default="zj123456")
    parser.add_argument("--leader", default="lingdao")
    parser.add_argument("--leader-password", default="lingdao123")
    parser.add_argument("--admin", default="admin")
    parser.add_argument("--admin-password", default="admin123")
    parser.add_argument("--only", default="", help="comma-separated: login,map,map4k,command,incident,leader,"
                                                   "assessment,quality,admin,township")
    parser.add_argument("--lang", choices=("zh", "en"), default="zh")
    parser.add_argument("--out", type=Path, default=Path("screenshots"))
    args = parser.parse_args(argv)
    base = args.url.rstrip("/")
    args.out.mkdir(parents=True, exist_ok=True)
    suffix = "" if args.lang == "zh" else "-en"
    watch = Watch()
    wanted = set(filter(None, args.only.split(",")))
    locale = "zh-CN" if args.lang == "zh" else "en-US"

    def want(name: str) -> bool:
        return not wanted or name in wanted

    def as_user(width: int, height: int, user: str, password: str, mobile: bool = False) -> Page:
        page = session(browser, width, height, watch, mobile=mobile, locale=locale)
        if args.lang == "en":
            page.goto(f"{base}/lang/en?next=/login")
        login(page, base, user, password)
        return page

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = session(browser, 1920, 1080, watch, locale=locale)
            if args.lang == "en":
                page.goto(f"{base}/lang/en?next=/login")
            if want("login"):
                shot(page, base, "/login", args.out, f"login{suffix}", "#login-submit", settle_s=0.3,
                     full_page=False)
            page = as_user(1920, 1080, args.user, args.password)
            if want("map"):
                page.goto(f"{base}/")
                page.wait_for_selector(".bigscreen-map .maplibregl-canvas", timeout=60_000)
                time.sleep(5.0)
                wall(page, args.out, f"map{suffix}", "/", watch)
                for level in ("district", "township"):  # drill down twice through the area picker
                    page.click("#overview-districts")
                    page.get_by_role("option").first.click()
                    page.wait_for_function("() => document.querySelector('#overview-crumb').textContent.split('›')"
                                           f".length == {2 if level == 'district' else 3}", timeout=30_000)
                    time.sleep(5.0)
                    wall(page, args.out, f"map-{level}{suffix}", f"/ drilled into a {level}", watch)
            if want("command"):
                shot(page, base, "/command", args.out, f"command{suffix}", "#cmd-queues")
            if want("incident"):
                page.goto(f"{base}/command")
                page.wait_for_selector("#cmd-queues", timeout=60_000)
                link = page.query_selector("#cmd-queues a[href^='/incident/']")
                if link is not None:
                    shot(page, base, str(link.get_attribute("href")), args.out, f"incident{suffix}",
                         "#incident-log", settle_s=1.5)
            if want("map4k"):
                big = as_user(3840, 2160, args.user, args.password)
                big.goto(f"{base}/")
                big.wait_for_selector(".bigscreen-map .maplibregl-canvas", timeout=60_000)
                time.sleep(8.0)
                wall(big, args.out, f"map-4k{suffix}", "/", watch)
                big.context.close()  # a 4K map rendering in software would slow every later page
            if want("leader"):
                lead = as_user(1920, 1080, args.leader, args.leader_password)
                shot(lead, base, "/leader", args.out, f"leader{suffix}", "#ld-list-table", settle_s=1.5)
                first = lead.query_selector("#ld-list-table button")
                if first is not None:
                    first.click()
                    lead.wait_for_selector("#ld-timeline-box", timeout=30_000)
                    time.sleep(1.0)
                    capture(lead, args.out, f"leader-timeline{suffix}", "timeline panel opened from the list")
            if want("assessment"):
                lead = as_user(1920, 1080, args.leader, args.leader_password)
                shot(lead, base, "/assessment", args.out, f"assessment{suffix}", ".assess-table", settle_s=1.5)
            if want("quality"):
                shot(page, base, "/quality", args.out, f"quality{suffix}", "#dq-online-table", settle_s=1.0)
            if want("admin"):
                adm = as_user(1920, 1080, args.admin, args.admin_password)
                shot(adm, base, "/admin", args.out, f"admin{suffix}", "#adm-users-table", settle_s=0.5)
            if want("township"):
                for width, height, name in ((1920, 1080, "township"), (390, 844, "township-phone")):
                    tw = as_user(width, height, args.township_user, args.township_password, mobile=width < 600)
                    shot(tw, base, "/township", args.out, f"{name}{suffix}", "#tw-list")
        finally:
            browser.close()
    for err in watch.errors:
        print("console error:", err)
    for url in watch.outside:
        print("outside request:", url)
    for problem in watch.layout:
        print("layout:", problem)
    return 1 if watch.errors or watch.outside or watch.layout else 0


if __name__ == "__main__":
    sys.exit(main())
