"""A hazardous-goods warning through the engine's apply stage: the incident goes to the township where it
happened and, as 协办, to 交通运输局, whose desk (bmjtysj, a department's role) lists it marked 协办 without the
township's buttons; the township signs it."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import TYPE_CHECKING

import dash
import psycopg
import pytest

from alerts.apply import Site, apply_verdict
from alerts.incidents import Location
from alerts.rules import ZoneSpeedRule, load_rules
from alerts.vehicles import Fix, Vehicle, VehicleCase, judge
from store.departments import DEMO_DEPARTMENTS
from store.users import township_username
from tests.fix_db import one

if TYPE_CHECKING:
    from tests.fix_browser import DashCalls, LoggedIn

TRANSPORT = next(d for d in DEMO_DEPARTMENTS if "hazmat" in d.categories)


@pytest.fixture(scope="module")
def township_page(dash_app: dash.Dash) -> ModuleType:
    return importlib.import_module("dashboard.pages.township")


def test_a_hazmat_incident_is_the_townships_with_transport_assisting(
        dashboard_dsn: str, township_page: ModuleType, logged_in: LoggedIn, dash_calls: DashCalls) -> None:
    assert (TRANSPORT.code, TRANSPORT.name) == ("jtysj", "交通运输局")
    rule = next(r for r in load_rules() if isinstance(r, ZoneSpeedRule))
    now = datetime.now(UTC).replace(microsecond=0)
    with psycopg.connect(dashboard_dsn) as conn:
        town, district, lon, lat = one(conn, "SELECT code, parent_code, label_lon, label_lat FROM regions"
                                             " JOIN boundary_versions USING (version) WHERE active"
                                             " AND level = 'township' AND code LIKE '431021%' ORDER BY code LIMIT 1")
        truck = Vehicle("vt-desk-1", "湘L·D77777", "测试危运公司", 2, "液化石油气")
        track = [Fix(now - timedelta(seconds=30), lon, lat, 95.0), Fix(now, lon, lat, 97.0)]  # over the 80
        verdict = judge(VehicleCase(rule, truck, track))
        assert verdict.firing
        apply_verdict(conn, rule, Site(truck.device_id, truck.plate, Location(lon, lat, district, town, None, None)),
                      verdict, now)
        conn.commit()
        incident, township, assists, category = one(
            conn, "SELECT i.id, i.township_code, i.assist_units, i.category FROM incidents i"
                  " JOIN warnings w ON w.id = i.warning_id WHERE w.subject = 'vt-desk-1'")
    assert (township, assists, category) == (town, [TRANSPORT.unit], "hazmat")
    with logged_in(f"bm{TRANSPORT.code}"):
        cards, *_ = dash_calls.triggered_by(township_page.callbacks.refresh, "tw-tick.n_intervals",
                                            1, 1, 0, 0, None, None, None)
    card = dash_calls.part(cards, f"tw-card-{incident}")
    assert "湘L·D77777" in card and "限速 80 km/h，车速 97.0 km/h" in card and "协办" in card
    assert "tw-sign" not in card  # signing is the township's
    with logged_in(township_username(town)):
        dash_calls.told(township_page.callbacks.sign, {"type": "tw-sign", "index": incident}, [1], 0)
    with psycopg.connect(dashboard_dsn) as conn:
        assert one(conn, "SELECT status FROM incidents WHERE id = %s", (incident,)) == ("signed",)
        calm = judge(VehicleCase(rule, truck, [*track, Fix(now + timedelta(seconds=30), lon, lat, 60.0)]))
        assert calm.cleared  # under the limit again: the warning clears, as the session's other tests expect
        apply_verdict(conn, rule, Site(truck.device_id, truck.plate, Location(lon, lat, district, town, None, None)),
                      calm, now + timedelta(seconds=30))
        conn.commit()
        assert one(conn, "SELECT status FROM warnings WHERE subject = 'vt-desk-1'") == ("cleared",)
