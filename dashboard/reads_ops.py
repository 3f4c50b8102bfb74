"""Reads of the data-quality and admin pages: device health, dead letters, layers, devices;
and which of the desks' incidents still wait for their area to be confirmed (确认属地).

"Online" is one definition everywhere (this page, the big screen's KPI): ``ingest.health.ONLINE_SQL``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd

from dashboard.reads import Reads
from ingest.counters import counter_day
from ingest.health import ONLINE_SQL

PAYLOAD_PREVIEW = 160  # bytes of a dead letter shown on the page: enough to see what it was


# A district's dead letters (``district``): those whose topic names one of its devices (telemetry and status
# topics end with the device id); an event feed's or an unknown sender's are the city's.
_OF_DISTRICT = (" AND EXISTS (SELECT 1 FROM devices d WHERE d.device_id = substring(topic FROM '[^/]+$')"
                " AND d.district_code = %(district)s)")


def _of_district(district: str | None) -> str:
    return "" if district is None else _OF_DISTRICT


class OpsReads(Reads):
    def online_by_type(self, now: datetime, district: str | None = None) -> pd.DataFrame:
        """dept, device_type, devices, online, never (no reading ever), per department and type (of the
        devices in ``district`` when one is given)."""
        return self._df(
            "SELECT d.dept, d.device_type, count(*) AS devices,"
            " count(*) FILTER (WHERE " + ONLINE_SQL + ") AS online,"
            " count(*) FILTER (WHERE s.last_seen IS NULL) AS never"
            " FROM devices d LEFT JOIN device_status s ON s.device_id = d.device_id"
            + ("" if district is None else " WHERE d.district_code = %(district)s")
            + " GROUP BY 1, 2 ORDER BY 1, 2", {"now": now, "district": district})

    def daily_counters(self, now: datetime, days: int = 30) -> pd.DataFrame:
        """day, received, stored, late, rejected (messages) per Shanghai day of the last ``days``, today
        included, summed over sources: ingest's counters, one row per source and day, so cheap to read."""
        return self._df(
            "SELECT day, sum(received)::bigint AS received, sum(stored)::bigint AS stored,"
            " sum(late)::bigint AS late, sum((SELECT coalesce(sum(value::bigint), 0)"
            " FROM jsonb_each_text(rejected)))::bigint AS rejected"
            " FROM ingest_counters WHERE day > %(today)s - %(days)s GROUP BY day ORDER BY day",
            {"today": counter_day(now), "days": days})

    def dead_letters_by_reason(self, now: datetime, hours: int = 24, district: str | None = None) -> pd.DataFrame:
        """Dead letters of the last ``hours`` per reason (of ``district``'s devices when one is given)."""
        return self._df("SELECT reason, count(*) AS n FROM dead_letters WHERE received_at >= %(since)s"
                        + _of_district(district) + " GROUP BY 1 ORDER BY 2 DESC, 1",
                        {"since": now - timedelta(hours=hours), "district": district})

    def latest_dead_letters(self, limit: int = 20, district: str | None = None) -> pd.DataFrame:
        """The newest dead letters (of ``district``'s devices when one is given) with the start of their
        payload (never the whole: it may be megabytes)."""
        return self._df(
            "SELECT id, received_at, topic, reason, detail, substring(payload FROM 1 FOR %(n)s) AS head,"
            " octet_length(payload) AS size FROM dead_letters WHERE true" + _of_district(district)
            + " ORDER BY id DESC LIMIT %(limit)s", {"n": PAYLOAD_PREVIEW, "limit": limit, "district": district})

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
