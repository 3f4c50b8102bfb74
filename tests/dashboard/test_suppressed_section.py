"""被抑制的预警 on the incident page (issue 18): a township's probes fall silent together, the engine's timer opens
one area warning and records the devices it holds back; on that warning's incident the command center, a leader
and the district's own desk see which were held back, when and by which warning, in their language; another
district's desk and the township's staff get no section, over plain HTTP too."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import TYPE_CHECKING

import dash
import psycopg
import pytest

from alerts.evaluate import silence
from alerts.rules import NoDataRule, parse_rules
from ingest.devices import DeviceSpec, register_devices
from ingest.tagging import layer_tagger
from layers.loader import load_active_layers
from store.users import district_username, township_username
from tests.fix_db import one

if TYPE_CHECKING:
    from tests.fix_browser import DashCalls, LoggedIn

NOW = datetime.now(UTC).replace(microsecond=0)
RULE = parse_rules('''
[[rule]]
id = "offline_held"
kind = "no_data"
name = "离线"
category = "device_health"
device_type = "probe_held"
''')[0]


@pytest.fixture(scope="module")
def outage(dashboard_dsn: str) -> tuple[int, str, list[str]]:
    """The incident of a township's area warning (the last township: the session's other modules use the first
    ones), that township, and the three probes it held back."""
    assert isinstance(RULE, NoDataRule)
    with psycopg.connect(dashboard_dsn, autocommit=True) as conn:
        township, lon, lat = one(conn, "SELECT code, label_lon, label_lat FROM regions r JOIN boundary_versions b"
                                       " USING (version) WHERE b.active AND r.level = 'township'"
                                       " ORDER BY code DESC LIMIT 1")
        layers = load_active_layers(conn)
        ids = [f"probe-held-{n}" for n in range(4)]
        register_devices(conn, [DeviceSpec(d, "probe_held", "yj", f"水位探头{n}", lon, lat)
                                for n, d in enumerate(ids)], layer_tagger(layers), layers.version)
        conn.execute("INSERT INTO device_status (device_id, last_seen) SELECT unnest(%s::text[]), %s",
                     (ids, NOW - timedelta(days=1)))
        conn.execute("UPDATE device_status SET last_seen = %s WHERE device_id = %s", (NOW, ids[-1]))
        silence(conn, [RULE], NOW + timedelta(seconds=30))
        incident_id = one(conn, "SELECT incident_id FROM warnings WHERE rule_id = 'offline_held' AND status = 'open'"
                                " AND subject = %s", (f"township:{township}",))[0]
    return int(incident_id), str(township), ids[:-1]


@pytest.fixture(scope="module")
def pages(dash_app: dash.Dash) -> SimpleNamespace:
    return SimpleNamespace(incident=importlib.import_module("dashboard.pages.incident"),
                           suppressed=importlib.import_module("dashboard.pages.incident.suppressed"))


def test_the_area_warnings_incident_shows_what_it_held_back(
        outage: tuple[int, str, list[str]], pages: SimpleNamespace, logged_in: LoggedIn, dash_calls: DashCalls,
        dashboard_dsn: str) -> None:
    incident_id, township, held = outage
    suppressed = pages.suppressed
    number = str(incident_id)
    for who in ("zhihui", "lingdao", district_username(township[:6])):
        with logged_in(who):
            assert suppressed.SECTION in dash_calls.text_of(pages.incident.layout(incident_id=number))
            shown = dash_calls.text_of(suppressed.show(number))
            assert "被抑制的设备预警（3）" in shown, who
            assert all(d in shown for d in held) and "probe-held-3" not in shown  # the one still reporting
            assert "水位探头0" in shown and "大面积设备离线" in shown
    with logged_in("zhihui", "en"):
        assert "Device warnings held back (3)" in dash_calls.text_of(suppressed.show(number))
    with psycopg.connect(dashboard_dsn) as conn:
        other = one(conn, "SELECT min(code) FROM regions r JOIN boundary_versions b USING (version)"
                          " WHERE b.active AND r.level = 'district' AND code <> %s", (township[:6],))[0]
    for who in (district_username(other), township_username(township)):
        with logged_in(who):
            assert suppressed.show(number) == []
            sent = dash_calls.triggered_by(suppressed.show, f"{suppressed.Ids.NUMBER}.data", number, number)
            assert sent == [] and "probe-held" not in dash_calls.text_of(sent), who
    with logged_in("zhihui"):
        assert suppressed.show("abc") == [] and suppressed.show(None) == []
