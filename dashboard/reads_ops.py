"""Reads of the data-quality and admin pages: device health, dead letters, users, layers, devices;
and which of the desks' incidents still wait for their area to be confirmed (确认属地).

"Online" is one definition everywhere (this page, the big screen's KPI): the device's
last reading is younger than three of its reporting intervals.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd
import psycopg

from dashboard.reads import Reads

# Needs devices ``d`` LEFT JOINed to device_status ``s`` and the parameter %(now)s.
ONLINE_SQL = "(s.last_seen > %(now)s - make_interval(secs => 3 * d.expected_interval_s))"
PAYLOAD_PREVIEW = 160  # bytes of a dead letter shown on the page: enough to see what it was


class UsernameTaken(ValueError):
    pass


class OpsReads(Reads):
    def online_by_type(self, now: datetime) -> pd.DataFrame:
        """dept, device_type, devices, online, never (no reading ever), per department and type."""
        return self._df(
            "SELECT d.dept, d.device_type, count(*) AS devices,"
            " count(*) FILTER (WHERE " + ONLINE_SQL + ") AS online,"
            " count(*) FILTER (WHERE s.last_seen IS NULL) AS never"
            " FROM devices d LEFT JOIN device_status s ON s.device_id = d.device_id"
            " GROUP BY 1, 2 ORDER BY 1, 2", {"now": now})

    def dead_letters_by_reason(self, now: datetime, hours: int = 24) -> pd.DataFrame:
        return self._df("SELECT reason, count(*) AS n FROM dead_letters WHERE received_at >= %(since)s"
                        " GROUP BY 1 ORDER BY 2 DESC, 1", {"since": now - timedelta(hours=hours)})

    def latest_dead_letters(self, limit: int = 20) -> pd.DataFrame:
        """The newest dead letters with the start of their payload (never the whole: it may be megabytes)."""
        return self._df(
            "SELECT id, received_at, topic, reason, detail, substring(payload FROM 1 FOR %(n)s) AS head,"
            " octet_length(payload) AS size FROM dead_letters ORDER BY id DESC LIMIT %(limit)s",
            {"n": PAYLOAD_PREVIEW, "limit": limit})

    def users(self) -> pd.DataFrame:
        return self._df("SELECT username, display_name, role, township_code FROM users ORDER BY role, username")

    def create_user(self, username: str, display_name: str, password_hash: str, role: str,
                    township_code: str | None) -> None:
        """Insert a new account; ``UsernameTaken`` if the name exists (an existing user is never overwritten)."""
        with self.pool.connection() as conn:
            try:
                row = conn.execute(
                    "INSERT INTO users (username, display_name, password_hash, role, township_code)"
                    " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (username) DO NOTHING RETURNING username",
                    (username, display_name, password_hash, role, township_code)).fetchone()
            except psycopg.errors.CheckViolation as exc:
                raise ValueError(f"users row refused by the database: {exc}") from exc
        if row is None:
            raise UsernameTaken(username)

    def boundary_versions(self) -> pd.DataFrame:
        return self._df(
            "SELECT b.version, b.loaded_at, b.source, b.note, b.active,"
            " count(r.code) FILTER (WHERE r.level = 'district') AS districts,"
            " count(r.code) FILTER (WHERE r.level = 'township') AS townships,"
            " count(r.code) FILTER (WHERE r.level = 'grid') AS grids"
            " FROM boundary_versions b LEFT JOIN regions r ON r.version = b.version"
            " GROUP BY b.version ORDER BY b.version DESC")

    def devices_by_type(self, now: datetime) -> pd.DataFrame:
        return self._df(
            "SELECT d.device_type, d.dept, count(*) AS devices, count(*) FILTER (WHERE " + ONLINE_SQL + ") AS online"
            " FROM devices d LEFT JOIN device_status s ON s.device_id = d.device_id GROUP BY 1, 2 ORDER BY 1",
            {"now": now})
