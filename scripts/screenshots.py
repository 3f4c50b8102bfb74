"""Screenshot every dashboard page of a running server, to look at what users see.

    .venv/bin/python scripts/screenshots.py --url http://127.0.0.1:8050 \\
        --user zhihui --password zhihui123 --township-user zj431002001 --township-password zj123456

Starts nothing itself: point it at a running dashboard. Writes 1920×1080 PNGs of
the big screen, the command desk, one incident timeline and the township desk (and
the township desk again at 390 px, a phone) into ./screenshots/ (gitignored), and
prints every browser console error and every request to a non-loopback host, which
would mean something is not served locally.
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
    page.screenshot(path=str(out / f"{name}.png"))
    print(f"{name}.png  {path}  {time.monotonic() - started:.1f} s")


def session(browser: Browser, width: int, height: int, watch: Watch, mobile: bool = False) -> Page:
    """A fresh browser context (its own cookies), watched for errors and outside requests."""
    context = browser.new_context(viewport={"width": width, "height": height}, is_mobile=mobile,
                                  device_scale_factor=2 if mobile else 1)
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
    parser.add_argument("--lang", choices=("zh", "en"), default="zh")
    parser.add_argument("--out", type=Path, default=Path("screenshots"))
    args = parser.parse_args(argv)
    base = args.url.rstrip("/")
    args.out.mkdir(parents=True, exist_ok=True)
    suffix = "" if args.lang == "zh" else "-en"
    watch = Watch()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = session(browser, 1920, 1080, watch)
            if args.lang == "en":
                page.goto(f"{base}/lang/en?next=/login")
            shot(page, base, "/login", args.out, f"login{suffix}", "#login-submit", settle_s=0.3)
            login(page, base, args.user, args.password)
            if args.lang == "en":
                page.goto(f"{base}/lang/en?next=/")
            shot(page, base, "/", args.out, f"map{suffix}", ".bigscreen-map .maplibregl-canvas", settle_s=4.0)
            shot(page, base, "/command", args.out, f"command{suffix}", "#cmd-queues")
            link = page.query_selector("#cmd-queues a[href^='/incident/']")
            if link is not None:
                shot(page, base, str(link.get_attribute("href")), args.out, f"incident{suffix}",
                     "#incident-log", settle_s=1.5)
            for width, height, name in ((1920, 1080, "township"), (390, 844, "township-phone")):
                page = session(browser, width, height, watch, mobile=width < 600)
                login(page, base, args.township_user, args.township_password)
                if args.lang == "en":
                    page.goto(f"{base}/lang/en?next=/township")
                shot(page, base, "/township", args.out, f"{name}{suffix}", "#tw-list")
                if width < 600:
                    page.screenshot(path=str(args.out / f"{name}-full{suffix}.png"), full_page=True)
        finally:
            browser.close()
    for err in watch.errors:
        print("console error:", err)
    for url in watch.outside:
        print("outside request:", url)
    return 1 if watch.errors or watch.outside else 0


if __name__ == "__main__":
    sys.exit(main())
