"""A fresh dashboard worker answers the requests a browser sends at once: its page's script bundles asked for
together, as the first requests it ever gets (gunicorn respawned it, or the page came from the other worker).
Dash finished its set-up in the first request but marked it done first, so the others raced it (500). The
worker is a process of its own, as under gunicorn (a second app in this process would re-execute the pages'
modules under the other tests)."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import dash

from cityops.settings import PROJECT_ROOT
from tests.fix_db import AsRole

FRESH_WORKER = """
import json, sys, threading
from dashboard.app import create_app

app = create_app(sys.argv[1], secret_key="test-secret-key")  # nothing asked of it yet
bundles = json.loads(sys.argv[2])
start = threading.Barrier(len(bundles))
got = []

def ask(url):
    client = app.server.test_client()
    start.wait()
    got.append(client.get(url).status_code)

threads = [threading.Thread(target=ask, args=(url,)) for url in bundles]
for th in threads:
    th.start()
for th in threads:
    th.join(60)
print(json.dumps(got))
"""


def test_a_fresh_worker_serves_a_pages_bundles_asked_for_at_once(dash_app: dash.Dash, dashboard_dsn: str,
                                                                  as_role: AsRole) -> None:
    with dash_app.server.test_request_context("/"):
        bundles = re.findall(r'src="(/_dash-component-suites/[^"]+)"', dash_app.index())
    assert len(bundles) >= 5
    for _ in range(3):  # a race: asked three times over
        done = subprocess.run([sys.executable, "-c", FRESH_WORKER, as_role(dashboard_dsn, "dashboard"),
                               json.dumps(bundles * 2)], cwd=PROJECT_ROOT, capture_output=True, text=True,
                              timeout=120, check=True)
        assert json.loads(done.stdout.strip().splitlines()[-1]) == [200] * len(bundles) * 2, done.stderr[-2000:]
