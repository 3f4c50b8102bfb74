"""The dashboard's /healthz, /readyz and /metrics: who may read them, and what the figures count."""

from __future__ import annotations

import importlib
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING

import dash
import psycopg
import pytest

from store.users import township_username
from tests.fix_db import one

if TYPE_CHECKING:
    from tests.fix_browser import DashCalls, LoggedIn


def metric(text: str, name: str, **labels: str) -> float:
    """The value of one sample of the Prometheus text ``text`` (0 when absent)."""
    inside = ",".join(f'{k}="{v}"' for k, v in labels.items())
    found = re.search(rf"^{re.escape(name)}(?:{{{re.escape(inside)}}})? (\S+)$", text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def test_probes_need_no_session(dash_app: dash.Dash) -> None:
    client = dash_app.server.test_client()
    assert client.get("/healthz").json == {"alive": True}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json is not None
    assert ready.json["ready"] is True and ready.json["checks"] == {"database": True}
    assert ready.headers["Cache-Control"] == "no-store"


def test_metrics_only_for_this_machine_or_the_token(dash_app: dash.Dash, monkeypatch: pytest.MonkeyPatch) -> None:
    client = dash_app.server.test_client()
    assert client.get("/metrics").status_code == 200  # the test client is 127.0.0.1
    outside = client.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert outside.status_code == 403 and "CITYOPS_METRICS_TOKEN" in outside.text
    monkeypatch.setenv("CITYOPS_METRICS_TOKEN", "s3cret-token")
    assert client.get("/metrics").status_code == 403  # a token is set: loopback alone is not enough
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 403
    ok = client.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"},
                    headers={"Authorization": "Bearer s3cret-token"})
    assert ok.status_code == 200 and "cityops_dashboard_active_sessions" in ok.text


def test_callbacks_are_timed_by_their_output_and_crafted_ones_are_one_label(
        dash_app: dash.Dash, dashboard_dsn: str, logged_in: LoggedIn, dash_calls: DashCalls) -> None:
    township = importlib.import_module("dashboard.pages.township")
    with psycopg.connect(dashboard_dsn) as conn:
        code = one(conn, "SELECT code FROM regions WHERE level = 'township' ORDER BY code LIMIT 1")[0]
    client = dash_app.server.test_client()
    before = client.get("/metrics").text
    output = next(k for k, v in dash_app.callback_map.items()
                  if getattr(v.get("callback"), "__wrapped__", None) is township.callbacks.refresh)
    with logged_in(township_username(code)):
        dash_calls.triggered_by(township.callbacks.refresh, "tw-tick.n_intervals", 1, 1, 0, 0, None, None, None)
    after = client.get("/metrics").text
    count = "cityops_dashboard_callback_seconds_count"
    assert metric(after, count, callback=output) == metric(before, count, callback=output) + 1
    assert metric(after, "cityops_dashboard_callback_bytes_total", callback=output) > \
        metric(before, "cityops_dashboard_callback_bytes_total", callback=output)
    # the server's CPU for it: some, and no more than the wall time it took
    cpu = (metric(after, "cityops_dashboard_callback_cpu_seconds_total", callback=output)
           - metric(before, "cityops_dashboard_callback_cpu_seconds_total", callback=output))
    wall = (metric(after, "cityops_dashboard_callback_seconds_sum", callback=output)
            - metric(before, "cityops_dashboard_callback_seconds_sum", callback=output))
    assert 0 < cpu <= wall + 0.001

    # A crafted output is counted under "unknown", never as a label of its own.
    with logged_in("zhihui"):
        from tests.fix_browser import _BROWSER

        browser, headers = _BROWSER.get()
        browser.post("/_dash-update-component", headers=headers, data=json.dumps(
            {"output": "x" * 200 + ".children", "outputs": {"id": "x", "property": "children"}, "inputs": [],
             "changedPropIds": []}), content_type="application/json")
    final = client.get("/metrics").text
    assert "x" * 200 not in final
    assert metric(final, count, callback="unknown") >= metric(after, count, callback="unknown") + 1


def test_active_sessions_count_users_seen_within_the_idle_time(dash_app: dash.Dash, dashboard_dsn: str,
                                                               logged_in: LoggedIn) -> None:
    with psycopg.connect(dashboard_dsn) as conn:
        conn.execute("UPDATE users SET last_seen_at = NULL")
        conn.execute("UPDATE users SET last_seen_at = now() - interval '5 minutes' WHERE username = 'zhihui'")
        conn.execute("UPDATE users SET last_seen_at = now() - interval '3 hours' WHERE username = 'lingdao'")
    client = dash_app.server.test_client()
    assert metric(client.get("/metrics").text, "cityops_dashboard_active_sessions") == 1.0


def test_a_worker_file_not_yet_written_trips_neither_probe(dash_app: dash.Dash, monkeypatch: pytest.MonkeyPatch,
                                                          tmp_path: Path) -> None:
    """Under gunicorn a booting worker has created its metrics file but not written it yet (0 bytes): /readyz
    does not read those files, /metrics says to scrape again instead of failing with a traceback."""
    from dashboard.observe import MULTIPROC_ENV

    (tmp_path / "counter_12345.db").write_bytes(b"")
    monkeypatch.setenv(MULTIPROC_ENV, str(tmp_path))
    client = dash_app.server.test_client()
    assert client.get("/readyz").status_code == 200
    scraped = client.get("/metrics")
    assert scraped.status_code == 503 and "scrape again" in scraped.get_data(as_text=True)
