"""A district's command center (区县指挥中心) on its desk (issue 18): an escalation to the district is at the top of
that district's desk, marked, and on no other district's; the incident page says the tier reached."""

from __future__ import annotations

import importlib
import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import dash
import psycopg
from plotly.io.json import to_json_plotly

from alerts.deadlines import windows
from alerts.escalate import escalate_overdue
from alerts.incidents import Location, open_incident
from dashboard.context import get_data
from i18n.timefmt import utcnow
from store.users import district_username

if TYPE_CHECKING:
    from tests.fix_browser import LoggedIn

EVERY_ROW = {"verify": 10_000, "new": 10_000, "active": 10_000}


def _text(component: Any) -> str:
    return json.dumps(json.loads(to_json_plotly(component)), ensure_ascii=False, separators=(",", ":"))


def test_an_escalation_to_the_district_tops_its_desk_marked(dash_app: dash.Dash, logged_in: LoggedIn,
                                                           dashboard_dsn: str) -> None:
    command = importlib.import_module("dashboard.pages.command")
    incident = importlib.import_module("dashboard.pages.incident")
    with psycopg.connect(dashboard_dsn) as conn:
        towns = conn.execute("SELECT code, parent_code, label_lon, label_lat FROM regions r JOIN boundary_versions v"
                             " USING (version) WHERE v.active AND r.level = 'township' ORDER BY code DESC").fetchall()
        here = towns[0]
        there = next(t for t in towns if t[1] != here[1])
        now = datetime.now(UTC)
        sign = windows(4).sign
        iid = open_incident(conn, title="区县升级督办测试", category="", level=4, source_kind="manual",
                            location=Location(here[2], here[3], here[1], here[0], None, None),
                            now=now - sign - sign / 2 - timedelta(minutes=1))
        assert iid is not None
        conn.commit()
        escalate_overdue(conn, now)
        conn.commit()
        assert conn.execute("SELECT escalated_to FROM incidents WHERE id = %s", (iid,)).fetchone() == ("district",)
    with logged_in(district_username(here[1])):
        user = command.load.district_of(command.callbacks.auth.current_user())
        queues = command.load.queues(get_data(), utcnow(), EVERY_ROW, user)
        assert queues.active.rows[0].id == iid and queues.escalated[iid] == "district"  # first, marked
        shown = _text(command.views.queues(queues, "zh", True))
        assert "已升级至区县指挥中心" in shown and f"cmd-row-{iid}" in shown
        page = _text(incident.layout(incident_id=str(iid)))
        assert "督办层级" in page and "已升级至区县指挥中心" in page
    with logged_in(district_username(there[1])):  # another district's desk: not there at all
        queues = command.load.queues(get_data(), utcnow(), EVERY_ROW, there[1])
        assert iid not in {r.id for q in (queues.verify, queues.new, queues.active) for r in q.rows}


def test_an_escalation_to_a_leader_is_on_top_of_the_leader_page(dash_app: dash.Dash, logged_in: LoggedIn,
                                                                dashboard_dsn: str) -> None:
    leader = importlib.import_module("dashboard.pages.leader")
    with psycopg.connect(dashboard_dsn) as conn:
        code, district, lon, lat = conn.execute(
            "SELECT code, parent_code, label_lon, label_lat FROM regions r JOIN boundary_versions v USING (version)"
            " WHERE v.active AND r.level = 'township' ORDER BY code DESC OFFSET 3").fetchone() or (None,) * 4
        now = datetime.now(UTC)
        sign = windows(4).sign
        iid = open_incident(conn, title="升级至领导测试", category="", level=4, source_kind="manual",
                            location=Location(lon, lat, district, code, None, None),
                            now=now - 2 * sign - timedelta(minutes=1))  # a whole window past its sign deadline
        assert iid is not None
        conn.commit()
        escalate_overdue(conn, now)
        conn.commit()
    with logged_in("lingdao"):
        page = _text(leader.layout())
        assert f"ld-escalated-{iid}" in page and "已升级至分管领导" in page
