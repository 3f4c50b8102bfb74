"""The big screen's reads: KPIs, counts per area, warning levels and rainfall per area, device
states, vehicle positions, hotline heat, the warning feed.

A district's big screen (区县指挥中心) reads the same through ``Data.for_district``: each read then keeps
only its district's rows in SQL (``district``), so nothing of another district leaves the database
whatever the browser sends: the incidents on its desk (``incidents.desk_district``), the warnings,
devices and tickets tagged with it, the vehicles whose last position lies in it.

Each is one aggregate or one index walk, sized by what is drawn (areas, devices,
vehicles, heat cells), never by the history behind it: the 43 M telemetry rows are
reached only through the primary key's last entry per vehicle or rain gauge.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pandas as pd

from dashboard.reads import (
    DISPATCHES_CTE,
    OVERDUE_SQL,
    SIGN_DUE_SQL,
    SIGNED_ON_TIME_SQL,
    Reads,
    now_param,
    sign_window_params,
)
from dashboard.reads_ops import ONLINE_SQL

HEAT_CELL_DEG = 0.01  # ~1 km: hotline tickets are summed per cell before they leave the database
VEHICLE_STALE = timedelta(minutes=30)  # a vehicle silent longer than this is not drawn; its track: this long
# The time bounds on each probe of telemetry, those at a fix's own time too: without them the planner joined every
# lat (speed, heading) row the vehicle ever sent, in every chunk (27,216 rows for 162 vehicles after a week).
_WINDOW = " AND t.ts > %(since)s AND t.ts <= %(now)s"
RAIN_STALE = timedelta(minutes=15)  # a gauge's rolling hour total older than this no longer says how it rains


def per_area(alias: str) -> tuple[str, str]:
    """The select list's ``level, code`` and the GROUP BY that aggregate rows of ``alias`` (a table with
    district_code, township_code and grid_code) per district, township and grid in one pass."""
    level = (f"CASE WHEN grouping({alias}.district_code) = 0 THEN 'district'"
             f" WHEN grouping({alias}.township_code) = 0 THEN 'township' ELSE 'grid' END AS level,"
             f" coalesce({alias}.district_code, {alias}.township_code, {alias}.grid_code) AS code")
    group = (f" GROUP BY GROUPING SETS (({alias}.district_code), ({alias}.township_code),"
             f" ({alias}.grid_code))")
    return level, group


class LiveReads(Reads):
    district: str | None = None  # a district's screen (``Data.for_district``); None: the whole city

    def _in_district(self, column: str) -> str:
        """`` AND <column> = %(district)s`` on a district's screen (its parameter: ``_district``); "" for the city."""
        return "" if self.district is None else f" AND {column} = %(district)s"

    def _district(self) -> dict[str, Any]:
        return {"district": self.district}

    def kpis(self, day_start: datetime, now: datetime) -> dict[str, Any]:
        """Today's figures for the big screen (``day_start``: local midnight), and the open incidents whose
        escalation reached this screen's desk (a district's: ``district``; the city's: ``city``)."""
        params = ({"day": day_start, "tier": "city" if self.district is None else "district"} | now_param(now)
                  | sign_window_params() | self._district())
        counts = self._row(
            "SELECT count(*) FILTER (WHERE i.created_at >= %(day)s) AS today_new,"
            " count(*) FILTER (WHERE i.status = 'dispatched') AS dispatched,"
            " count(*) FILTER (WHERE i.status IN ('signed', 'in_progress', 'postponed')) AS signed,"
            " count(*) FILTER (WHERE i.status = ANY(%(open)s)) AS open,"
            " count(*) FILTER (WHERE " + OVERDUE_SQL + ") AS overdue,"
            " count(*) FILTER (WHERE i.status = 'closed' AND i.updated_at >= %(day)s) AS closed,"
            " count(*) FILTER (WHERE i.status = ANY(%(open)s) AND i.escalated_to = %(tier)s) AS escalated"
            " FROM incidents i WHERE (i.status = ANY(%(open)s) OR i.updated_at >= %(day)s)"
            + self._in_district("i.desk_district"), params)
        # Dispatched today: their incidents changed today, so the scan stays within today's incidents.
        signed = self._row(
            "WITH inc AS (SELECT i.id, i.level, i.category FROM incidents i WHERE i.updated_at >= %(day)s"
            + self._in_district("i.desk_district") + "), "
            + DISPATCHES_CTE +
            " SELECT count(*) FILTER (WHERE " + SIGNED_ON_TIME_SQL + ") AS on_time,"
            " count(*) FILTER (WHERE " + SIGN_DUE_SQL + ") AS due"
            " FROM disp WHERE dispatched_at >= %(day)s", params)
        on_time, due = int(signed["on_time"]), int(signed["due"])
        return counts | {"on_time": round(100 * on_time / due) if due else None}

    def area_counts(self, now: datetime) -> pd.DataFrame:
        """level, code, open, overdue: open incidents per district, township and grid in one pass."""
        area, group = per_area("i")
        return self._df(
            "SELECT " + area + ", count(*) AS open, count(*) FILTER (WHERE " + OVERDUE_SQL + ") AS overdue"
            " FROM incidents i WHERE i.status = ANY(%(open)s)" + self._in_district("i.desk_district") + group,
            now_param(now) | self._district())

    def area_people_moved(self, now: datetime) -> pd.DataFrame:
        """level, code, moved, since: 人员转移 of the flood event now open on this screen (from the first open flood
        incident's creation to ``now``), per township as its reports said (``Reads.people_moved``) and summed
        per district; no rows when no flood incident is open. Reports name townships: grids get none."""
        row = self._row("SELECT min(i.created_at) AS since FROM incidents i WHERE i.category = 'flood'"
                        " AND i.status = ANY(%(open)s)" + self._in_district("i.desk_district"),
                        now_param(now) | self._district())
        since = row["since"]
        columns = ["level", "code", "moved", "since"]
        if since is None:
            return pd.DataFrame(columns=columns)
        towns = pd.DataFrame(list(self.people_moved(since, now, self.district).items()), columns=["code", "moved"])
        districts = towns.assign(code=towns["code"].str[:6]).groupby("code", as_index=False)["moved"].sum()
        return pd.concat([districts.assign(level="district"), towns.assign(level="township")],
                         ignore_index=True).assign(since=since)[columns]

    def area_warning_levels(self) -> pd.DataFrame:
        """level, code, top, n: the highest open warning level (1 = 红) and the open warnings per area."""
        area, group = per_area("w")
        return self._df("SELECT " + area + ", min(w.level) AS top, count(*) AS n"
                        " FROM warnings w WHERE w.status = 'open'" + self._in_district("w.district_code") + group,
                        self._district())

    def area_rainfall(self, now: datetime) -> pd.DataFrame:
        """level, code, max_mm, mean_mm, gauges: the last hour's rainfall per area, from each gauge's latest
        ``rain_1h`` (a rolling hour total, so the latest reading is the answer).

        One backward step on telemetry's primary key per gauge, the same on the TimescaleDB and
        plain schemas; ``telemetry_1m`` would be a full scan of telemetry on plain PostgreSQL,
        where it is a view.
        """
        area, group = per_area("d")
        return self._df(
            "SELECT " + area + ", max(r.value) AS max_mm, avg(r.value) AS mean_mm, count(*) AS gauges"
            " FROM devices d CROSS JOIN LATERAL (SELECT t.value FROM telemetry t WHERE t.device_id = d.device_id"
            "   AND t.metric = 'rain_1h' AND t.ts > %(since)s AND t.ts <= %(now)s ORDER BY t.ts DESC LIMIT 1) r"
            " WHERE d.device_type = 'rain_gauge'" + self._in_district("d.district_code") + group,
            {"since": now - RAIN_STALE, "now": now} | self._district())

    def device_grids(self, now: datetime) -> pd.DataFrame:
        """code, lon, lat, devices, online per grid, by code (a device outside every grid counts in its
        township's row, at the township's label point; one outside every area has no point, lon NaN, but counts):
        the big screen's devices at the city and district views, one aggregate, never a row per device."""
        return self._df(
            "SELECT g.code, r.label_lon AS lon, r.label_lat AS lat, g.devices, g.online FROM ("
            " SELECT coalesce(d.grid_code, d.township_code) AS code, count(*) AS devices,"
            "  count(*) FILTER (WHERE " + ONLINE_SQL + ") AS online"
            " FROM devices d LEFT JOIN device_status s ON s.device_id = d.device_id"
            " WHERE true" + self._in_district("d.district_code") + " GROUP BY 1) g"
            " LEFT JOIN (regions r JOIN boundary_versions b ON b.version = r.version AND b.active) ON r.code = g.code"
            " ORDER BY g.code NULLS LAST", {"now": now} | self._district())

    def device_states(self, now: datetime, township: str) -> pd.DataFrame:
        """code (the device id), name, lon, lat, devices (1), online (1 or 0) of each device of one township,
        by id: the big screen's devices drilled into a township, in ``device_grids``' columns."""
        return self._df(
            "SELECT d.device_id AS code, d.name, d.lon, d.lat, 1 AS devices,"
            " (coalesce(" + ONLINE_SQL + ", false))::int AS online"
            " FROM devices d LEFT JOIN device_status s ON s.device_id = d.device_id"
            " WHERE d.township_code = %(township)s" + self._in_district("d.district_code") + " ORDER BY d.device_id",
            {"now": now, "township": township} | self._district())

    def vehicle_positions(self, now: datetime) -> pd.DataFrame:
        """Each hazardous-goods vehicle heard from in the last 30 minutes: its track, one fix a minute
        (device_id, ts, lon, lat, in time order), each row with the vehicle's plate, company and cargo
        (``devices.attributes``) and, on its latest fix, its speed and heading.

        Per vehicle one range of telemetry's primary key (device, metric, ts) for 30 minutes of its lon and a
        probe for each minute's lat: cost grows with the fleet, not with the months of history. Each step is a
        MATERIALIZED CTE, so the planner keeps that order: left to join freely, it ran the per-minute pick once per
        lat row of the window (3–6 s for a city's 162 trucks reporting every 10 s). A district's screen shows those
        whose last position lies in it (each position is tagged at ingest).
        """
        return self._df(
            "WITH head AS MATERIALIZED (SELECT d.device_id, h.ts FROM devices d"
            "  CROSS JOIN LATERAL (SELECT t.ts, t.district_code FROM telemetry t WHERE t.device_id = d.device_id"
            "   AND t.metric = 'lon'" + _WINDOW + " ORDER BY t.ts DESC LIMIT 1) h"
            "  WHERE d.device_type = 'hazmat_vehicle'" + self._in_district("h.district_code") + "),"
            " tr AS MATERIALIZED (SELECT DISTINCT ON (t.device_id, date_bin('1 minute', t.ts, TIMESTAMPTZ"
            "  '2000-01-01 00:00+00')) t.device_id, t.ts, t.value AS lon FROM head"
            "  JOIN telemetry t ON t.device_id = head.device_id AND t.metric = 'lon'" + _WINDOW +
            "  ORDER BY t.device_id, date_bin('1 minute', t.ts, TIMESTAMPTZ '2000-01-01 00:00+00'), t.ts DESC)"
            " SELECT d.device_id, d.name, d.attributes->>'plate' AS plate, d.attributes->>'company' AS company,"
            " (d.attributes->>'cargo_class')::int AS cargo_class, d.attributes->>'cargo' AS cargo,"
            " tr.ts, tr.lon, la.value AS lat,"
            " CASE WHEN tr.ts = head.ts THEN sp.value END AS speed, CASE WHEN tr.ts = head.ts THEN hd.value END"
            " AS heading FROM tr JOIN head USING (device_id) JOIN devices d USING (device_id)"
            " CROSS JOIN LATERAL (SELECT t.value FROM telemetry t WHERE t.device_id = tr.device_id AND t.metric = 'lat'"
            "   AND t.ts = tr.ts" + _WINDOW + ") la"
            " LEFT JOIN LATERAL (SELECT t.value FROM telemetry t WHERE t.device_id = head.device_id"
            "   AND t.metric = 'speed_kmh' AND t.ts = head.ts" + _WINDOW + ") sp ON true"
            " LEFT JOIN LATERAL (SELECT t.value FROM telemetry t WHERE t.device_id = head.device_id"
            "   AND t.metric = 'heading' AND t.ts = head.ts" + _WINDOW + ") hd ON true"
            " ORDER BY d.device_id, tr.ts",
            {"since": now - VEHICLE_STALE, "now": now} | self._district())

    def vehicle_warnings(self, device_id: str) -> pd.DataFrame:
        """id, level, title, opened_at, incident_id: a vehicle's open warnings, the most severe first (on a
        district's screen: those its district holds)."""
        return self._df(
            "SELECT w.id, w.level, w.title, w.opened_at, w.incident_id FROM warnings w"
            " WHERE w.subject = %(device)s AND w.status = 'open'" + self._in_district("w.district_code")
            + " ORDER BY w.level, w.opened_at DESC", {"device": device_id} | self._district())

    def hotline_heat(self, now: datetime, hours: int = 24) -> pd.DataFrame:
        """lon, lat, n: 12345 tickets of the last ``hours`` summed per ~1 km cell."""
        return self._df(
            "SELECT round(lon / %(cell)s) * %(cell)s AS lon, round(lat / %(cell)s) * %(cell)s AS lat, count(*) AS n"
            " FROM events WHERE category = 'hotline' AND ts >= %(since)s AND ts <= %(now)s"
            " AND lon IS NOT NULL AND lat IS NOT NULL" + self._in_district("district_code")
            + " GROUP BY 1, 2 ORDER BY 1, 2",
            {"cell": HEAT_CELL_DEG, "since": now - timedelta(hours=hours), "now": now} | self._district())

    def latest_warnings(self, limit: int = 12) -> pd.DataFrame:
        """The feed: open warnings before cleared ones, the highest level first (1 = 红), then the newest."""
        return self._df(
            "SELECT id, level, status, title, opened_at, updated_at, township_code, incident_id FROM warnings w"
            " WHERE true" + self._in_district("w.district_code")
            + " ORDER BY (status = 'open') DESC, level, updated_at DESC, id DESC LIMIT %(limit)s",
            {"limit": limit} | self._district())

    def hourly_new(self, now: datetime, hours: int = 24) -> pd.DataFrame:
        """hour (UTC, truncated), level, n: incidents opened per hour over the last ``hours``."""
        return self._df(
            "SELECT date_trunc('hour', created_at) AS hour, level, count(*) AS n FROM incidents"
            " WHERE created_at > %(since)s" + self._in_district("desk_district") + " GROUP BY 1, 2 ORDER BY 1, 2",
            {"since": now - timedelta(hours=hours)} | self._district())
