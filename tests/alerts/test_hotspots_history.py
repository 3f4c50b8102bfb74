"""The demo's history writes its 12345 hotspots as the engine makes live ones: each hotline incident lists its
tickets (five of its kind nearby before it opened, a few that joined after, none in the future), their callers
stored apart from the events, and the tickets read the incident's state."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import psycopg

from alerts import hotspots
from alerts.hotspots import metres
from simulator.history import write_history

NOW = datetime.now(UTC).replace(microsecond=0)


def test_history_hotspots_list_their_tickets(demo_db: Callable[[], str]) -> None:
    dsn = demo_db()
    assert write_history(dsn, NOW, 3, 7, progress=None) > 0
    with psycopg.connect(dsn) as conn:
        incidents = conn.execute("SELECT id, lon, lat, status, created_at, title FROM incidents"
                                 " WHERE category = 'hotline' ORDER BY id").fetchall()
        assert len(incidents) > 20
        for incident_id, lon, lat, status, created, title in incidents:
            listed = hotspots.tickets(conn, incident_id)
            assert 5 <= len(listed) <= 9, incident_id
            assert sum(t.ts < created for t in listed) == 5  # the five it formed from
            assert all(created - timedelta(days=3) < t.ts < NOW for t in listed)
            assert {t.complaint for t in listed} == {title.split(" · ")[1]}  # 主动治理·高频诉求热点 · <kind> · <town>
            assert all(t.lon is not None and t.lat is not None and metres(lon, lat, t.lon, t.lat) < 1000
                       for t in listed)
            assert all(t.status == status and t.reporter is not None and t.text for t in listed)
        assert conn.execute("SELECT count(*) FROM events e LEFT JOIN event_reporters r"
                            " USING (source_system, event_id, ts) WHERE r.phone IS NULL").fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM events WHERE payload ? 'reporter'").fetchone() == (0,)
