"""Security headers on every kind of response: the login form, a page, a callback, a static asset.

The browser tests (tests/test_browser_*.py) fail on any console error, so a policy that blocked
something Dash, plotly or MapLibre needs would fail them too. (Their waits hand Playwright functions,
never expression strings: an expression is eval'ed in the page, which this policy refuses.)
"""

from __future__ import annotations

import base64
import hashlib
import re

import dash
import pytest

from tests.dashboard.test_auth import login


@pytest.mark.parametrize("path", ["/login", "/", "/assets/cityops.css", "/_dash-layout"])
def test_every_response_carries_the_security_headers(dash_app: dash.Dash, path: str) -> None:
    client = dash_app.server.test_client()
    login(client, "zhihui", "zhihui123")
    with client.get(path) as response:  # a static file must be closed
        assert response.status_code == 200, path
        headers = response.headers
    csp = headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
    assert directives["default-src"] == "'self'" and directives["connect-src"] == "'self'"
    scripts = directives["script-src"].split()
    assert scripts[0] == "'self'" and "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts
    assert all(re.fullmatch(r"'sha256-[A-Za-z0-9+/]+=*'", s) for s in scripts[1:]) and len(scripts) >= 2
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"


def test_the_inline_scripts_of_a_page_are_exactly_the_allowed_ones(dash_app: dash.Dash) -> None:
    client = dash_app.server.test_client()
    login(client, "zhihui", "zhihui123")
    response = client.get("/")
    allowed = set(re.findall(r"'sha256-([^']+)'", response.headers["Content-Security-Policy"]))
    html = re.sub(r"<!--\[if IE\]>.*?<!\[endif\]-->", "", response.text, flags=re.S)  # never runs in a browser
    inline = [m.group(2) for m in re.finditer(r"<script([^>]*)>(.*?)</script>", html, re.S)
              if "src=" not in m.group(1) and "application/json" not in m.group(1)]
    hashes = {base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() for s in inline}
    assert inline and hashes <= allowed
