"""Screenshot every dashboard page of a running server, to look at what users see.

    .venv/bin/python scripts/screenshots.py --url http://127.0.0.1:8050 \\
        --user zhihui --password zhihui123 --township-user zj431002001 --township-password zj123456

Starts nothing itself: point it at a running dashboard (with data: ``bench/bench_dashboard.py
load`` adds a month of history to a demo database). Writes 1920×1080 PNGs of the big
screen (also at 3840×2160, and drilled down to a district), the command desk, one
incident timeline, the leader cockpit (and its timeline panel), data quality, admin
and the township desk (again at 390 px, a phone) into ./screenshots/ (gitignored),
and prints every browser console error and every request to a non-loopback host,
which would mean something is not served locally. ``--only map,leader`` limits it.
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
    """Console errors and outside requests of one page, for the final report."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.outside: list[str] = []

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


def shot(page: Page, base: str, path: str, out: Path, name: str, wait_for: str, settle_s: float = 1.0) -> None:
    started = time.monotonic()
    page.goto(f"{base}{path}")
    page.wait_for_selector(wait_for, timeout=60_000)
    time.sleep(settle_s)  # WebGL in software (no GPU here) paints after the DOM is ready
    page.screenshot(path=str(out / f"{name}.png"), timeout=180_000)  # a 4K WebGL canvas in software is slow
    print(f"{name}.png  {path}  {time.monotonic() - started:.1f} s")


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
                                                   "quality,admin,township")
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
                shot(page, base, "/login", args.out, f"login{suffix}", "#login-submit", settle_s=0.3)
            page = as_user(1920, 1080, args.user, args.password)
            if want("map"):
                shot(page, base, "/", args.out, f"map{suffix}", ".bigscreen-map .maplibregl-canvas", settle_s=5.0)
                for level in ("district", "township"):  # drill down twice through the area picker
                    page.click("#overview-districts")
                    page.get_by_role("option").first.click()
                    page.wait_for_function("document.querySelector('#overview-crumb').textContent.split('›')"
                                           f".length == {2 if level == 'district' else 3}", timeout=30_000)
                    time.sleep(5.0)
                    page.screenshot(path=str(args.out / f"map-{level}{suffix}.png"))
                    print(f"map-{level}{suffix}.png  / drilled into a {level}")
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
                wall = as_user(3840, 2160, args.user, args.password)
                shot(wall, base, "/", args.out, f"map-4k{suffix}", ".bigscreen-map .maplibregl-canvas", settle_s=8.0)
                wall.context.close()  # a 4K map rendering in software would slow every later page
            if want("leader"):
                lead = as_user(1920, 1080, args.leader, args.leader_password)
                shot(lead, base, "/leader", args.out, f"leader{suffix}", "#ld-list-table", settle_s=1.5)
                lead.screenshot(path=str(args.out / f"leader-full{suffix}.png"), full_page=True)
                first = lead.query_selector("#ld-list-table button")
                if first is not None:
                    first.click()
                    lead.wait_for_selector("#ld-timeline-box", timeout=30_000)
                    time.sleep(1.0)
                    lead.screenshot(path=str(args.out / f"leader-timeline{suffix}.png"), full_page=True)
                    print(f"leader-timeline{suffix}.png  timeline panel opened from the list")
            if want("quality"):
                shot(page, base, "/quality", args.out, f"quality{suffix}", "#dq-online-table", settle_s=1.0)
            if want("admin"):
                adm = as_user(1920, 1080, args.admin, args.admin_password)
                shot(adm, base, "/admin", args.out, f"admin{suffix}", "#adm-users-table", settle_s=0.5)
                adm.screenshot(path=str(args.out / f"admin-full{suffix}.png"), full_page=True)
            if want("township"):
                for width, height, name in ((1920, 1080, "township"), (390, 844, "township-phone")):
                    tw = as_user(width, height, args.township_user, args.township_password, mobile=width < 600)
                    shot(tw, base, "/township", args.out, f"{name}{suffix}", "#tw-list")
                    if width < 600:
                        tw.screenshot(path=str(args.out / f"{name}-full{suffix}.png"), full_page=True)
        finally:
            browser.close()
    for err in watch.errors:
        print("console error:", err)
    for url in watch.outside:
        print("outside request:", url)
    return 1 if watch.errors or watch.outside else 0


if __name__ == "__main__":
    sys.exit(main())
