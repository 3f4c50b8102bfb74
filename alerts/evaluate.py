"""Evaluation steps, each in one transaction: fetch what the rules need, judge, apply.

``step`` runs as data commits: it claims ingest's committed batches from ``alert_inbox``
(deleted in the same transaction as the warnings they cause) and evaluates only the
devices, townships and events they touched. ``tick`` runs on the timer: silent devices
and overdue incidents.
"""

from __future__ import annotations

import functools
import logging
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

import numpy as np
import psycopg
from psycopg.rows import args_row, class_row, kwargs_row
from psycopg.types.json import Jsonb

from alerts import watch
from alerts.apply import Site, Tally, apply_verdict, record_inhibited
from alerts.batch import EPOCH, US, BoolArray, Fleet, judge_cases, judge_vehicles, silences
from alerts.directives import escalate_laggards
from alerts.escalate import escalate_overdue
from alerts.hotspots import attach_tickets, last_tickets
from alerts.incidents import Location, open_incident
from alerts.rules import (
    CompoundRule,
    DrivingTimeRule,
    EventCountRule,
    GeofenceRule,
    NoDataRule,
    RateRule,
    Rule,
    StoppedRule,
    ThresholdRule,
    VehicleRule,
    ZoneForbiddenRule,
    ZoneSpeedRule,
)
from alerts.vehicles import Fix, Vehicle, VehicleCase
from alerts.vehicles import judge as judge_vehicle
from alerts.verdicts import (
    DeviceSilence,
    StationReading,
    TelemetryCase,
    Verdict,
    accumulation,
    compound,
    geofence,
    held_back,
    hotspot_quiet,
    judge,
    no_data,
)
from store.privacy import Reporter

log = logging.getLogger("cityops.alerts")

LOOKBACK_SLACK = timedelta(minutes=15)
MEASURABLE_RAIN_MM = 0.1
BATCH_FROM = 64  # cases in a round from which numpy judges them (below, building its arrays costs more)
HOURLY_TOLERANCE = timedelta(minutes=10)  # an accumulation's reading at a whole hour back: at most this much earlier
Pair = tuple[str, str]  # device_id, metric
RuleT = TypeVar("RuleT", bound=Rule)


@dataclass(frozen=True, slots=True)
class WatchedDevice:
    device_id: str
    device_type: str
    name: str
    location: Location
    lines: Mapping[str, float] = field(default_factory=dict)  # a water-level station's own (devices.attributes)

    def site(self) -> Site:
        return Site(self.device_id, self.name, self.location)


@dataclass(frozen=True, slots=True)
class InboxBatch:
    """A batch ingest committed: what kind of rows, and their keys (device and metric with the readings it named
    new, ``[device_id, metric, [µs since the epoch, value], ...]``, or an event's key)."""

    kind: str  # telemetry | event
    keys: list[list[Any]]


def claim_inbox(conn: psycopg.Connection, limit: int = 200) -> list[InboxBatch]:
    """Delete and return committed batches; the delete commits with the results, so none is lost."""
    with conn.cursor(row_factory=class_row(InboxBatch)) as cur:
        return cur.execute(
            "DELETE FROM alert_inbox WHERE id IN"
            " (SELECT id FROM alert_inbox ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED) RETURNING kind, keys",
            (limit,),
        ).fetchall()


def station_lines(attributes: Mapping[str, Any] | None) -> dict[str, float]:
    """A station's lines from its ``devices.attributes`` (``{"lines": {"warning": 2.5, ...}}``)."""
    lines = (attributes or {}).get("lines") or {}
    return {str(k): float(v) for k, v in lines.items() if isinstance(v, int | float)}


def _watched(device_id: str, device_type: str, name: str, lon: float, lat: float, district_code: str | None,
             township_code: str | None, grid_code: str | None, boundary_version: int | None, near_boundary: bool,
             attributes: Mapping[str, Any] | None) -> WatchedDevice:
    """A row of ``_WATCHED`` (by position, as its columns: a round reads thousands)."""
    return WatchedDevice(device_id, device_type, name, Location(lon, lat, district_code, township_code, grid_code,
                                                                boundary_version, near_boundary),
                         station_lines(attributes) if attributes else {})


# Thousands of keys a round go in as one JSON document: psycopg writes a list parameter as an array element by
# element in Python, json.dumps runs in C.
_IDS = "(SELECT jsonb_array_elements_text(%s::jsonb))"
_PAIRS = "(SELECT e->>0 AS device_id, e->>1 AS metric FROM jsonb_array_elements(%s::jsonb) e) k"
_WATCHED = ("SELECT device_id, device_type, name, lon, lat, district_code, township_code, grid_code, boundary_version,"
            " near_boundary, NULLIF(attributes, '{}'::jsonb) FROM devices WHERE device_id IN " + _IDS)


def _devices(conn: psycopg.Connection, device_ids: list[str]) -> dict[str, WatchedDevice]:
    with conn.cursor(row_factory=args_row(_watched)) as cur:
        return {d.device_id: d for d in cur.execute(_WATCHED, (Jsonb(device_ids),)).fetchall()}


# Every device as silence judges it, as plain rows (a city's 100,000 each tick): last seen, or its registration
# when never, in µs since the epoch (EXTRACT gives exact numeric seconds).
_SILENCE_ROWS = ("SELECT d.device_id, d.device_type, d.township_code,"
                 " (EXTRACT(EPOCH FROM COALESCE(s.last_seen, d.registered_at)) * 1000000)::bigint,"
                 " s.last_seen IS NOT NULL, d.expected_interval_s::bigint * 1000000"
                 " FROM devices d LEFT JOIN device_status s USING (device_id) ORDER BY d.device_id")


@dataclass(frozen=True, slots=True)
class TelemetryRow:
    """A row of telemetry: one device's metric at one time."""

    device_id: str
    metric: str
    ts: datetime
    value: float


def _series(conn: psycopg.Connection, since: Mapping[Pair, datetime]) -> dict[Pair, list[tuple[datetime, float]]]:
    """Each pair's readings after its ``since``, in time order (the earliest of them bounds the scan too, so a
    hypertable reads only the chunks it needs)."""
    pairs = sorted(since)
    with conn.cursor(row_factory=class_row(TelemetryRow)) as cur:
        rows = cur.execute(
            "SELECT t.device_id, t.metric, t.ts, t.value FROM telemetry t"
            " JOIN unnest(%s::text[], %s::text[], %s::timestamptz[]) AS k(device_id, metric, since)"
            " USING (device_id, metric) WHERE t.ts > %s AND t.ts > k.since ORDER BY t.device_id, t.metric, t.ts",
            ([p[0] for p in pairs], [p[1] for p in pairs], [since[p] for p in pairs],
             min(since.values()))).fetchall()
    series: dict[Pair, list[tuple[datetime, float]]] = defaultdict(list)
    for r in rows:
        series[(r.device_id, r.metric)].append((r.ts, r.value))
    return series


@dataclass(frozen=True, slots=True)
class _Region:
    name: str
    label_lon: float
    label_lat: float
    parent_code: str | None
    version: int


def region_site(conn: psycopg.Connection, code: str, subject: str) -> Site:
    """A township (or any region) as the subject of an area warning: its label point and codes."""
    with conn.cursor(row_factory=class_row(_Region)) as cur:
        row = cur.execute(
            "SELECT r.name, r.label_lon, r.label_lat, r.parent_code, r.version FROM regions r"
            " JOIN boundary_versions b USING (version) WHERE b.active AND r.code = %s", (code,)).fetchone()
    if row is None:
        return Site(subject, code, Location(None, None, None, code, None, None))
    return Site(subject, row.name, Location(row.label_lon, row.label_lat, code[:6],
                                            code[:9] if len(code) >= 9 else None, code if len(code) == 12 else None,
                                            row.version))


@dataclass(frozen=True, slots=True)
class _WarningKey:
    rule_id: str
    subject: str


def open_warnings(conn: psycopg.Connection, subjects: list[str]) -> set[tuple[str, str]]:
    """(rule, subject) pairs with an open warning: only these need a non-firing verdict applied."""
    with conn.cursor(row_factory=class_row(_WarningKey)) as cur:
        rows = cur.execute("SELECT rule_id, subject FROM warnings WHERE status = 'open' AND subject IN " + _IDS,
                           (Jsonb(subjects),)).fetchall()
    return {(r.rule_id, r.subject) for r in rows}


def open_subjects(conn: psycopg.Connection, rule_id: str) -> set[str]:
    """The subjects of one rule's open warnings."""
    rows = conn.execute("SELECT subject FROM warnings WHERE status = 'open' AND rule_id = %s", (rule_id,)).fetchall()
    return {subject for (subject,) in rows}


def _worth_applying(rule: Rule, subject: str, firing: bool, open_now: set[tuple[str, str]]) -> bool:
    return firing or (rule.id, subject) in open_now


def _latest(conn: psycopg.Connection, pairs: list[Pair], since: datetime | None = None
            ) -> dict[Pair, tuple[datetime, float]]:
    """The newest reading per (device, metric): one backward index probe each."""
    with conn.cursor() as cur:  # plain rows, unpacked by name below: a round reads thousands
        rows = cur.execute(
            "SELECT k.device_id, k.metric, l.ts, l.value FROM " + _PAIRS +
            " CROSS JOIN LATERAL (SELECT ts, value FROM telemetry t WHERE t.device_id = k.device_id"
            "   AND t.metric = k.metric AND (%s::timestamptz IS NULL OR t.ts > %s) ORDER BY ts DESC LIMIT 1) l",
            (Jsonb(pairs), since, since)).fetchall()
    return {(device_id, metric): (ts, value) for device_id, metric, ts, value in rows}


def _needs_history(rule: ThresholdRule | RateRule, latest: float | None) -> bool:
    """A threshold rule needs the breach's start only when the latest value breaches; a rate rule always.
    An accumulation reads whole hours back, not a window (``_hourly``)."""
    if isinstance(rule, RateRule):
        return True
    if rule.accumulate_hours > 1:
        return False
    return latest is not None and latest >= min(lt.at_least for lt in rule.levels)


@dataclass(frozen=True, slots=True)
class _HourlyRow:
    device_id: str
    metric: str
    k: int
    value: float


def _hourly(conn: psycopg.Connection, latest: Mapping[Pair, tuple[datetime, float]], hours: int
            ) -> dict[Pair, dict[int, float]]:
    """Per pair, its reading at each whole hour back from its latest (k = 0 … hours−1), within
    ``HOURLY_TOLERANCE`` before it: one backward index probe each (``verdicts.accumulation`` sums them)."""
    pairs = sorted(latest)
    with conn.cursor(row_factory=class_row(_HourlyRow)) as cur:
        rows = cur.execute(
            "SELECT k.device_id, k.metric, h.k, l.value FROM unnest(%s::text[], %s::text[], %s::timestamptz[])"
            "  AS k(device_id, metric, last_ts) CROSS JOIN generate_series(0, %s - 1) AS h(k)"
            " CROSS JOIN LATERAL (SELECT value FROM telemetry t WHERE t.device_id = k.device_id"
            "   AND t.metric = k.metric AND t.ts <= k.last_ts - h.k * interval '1 hour'"
            "   AND t.ts > k.last_ts - h.k * interval '1 hour' - %s::interval ORDER BY t.ts DESC LIMIT 1) l",
            ([p[0] for p in pairs], [p[1] for p in pairs], [latest[p][0] for p in pairs], hours,
             HOURLY_TOLERANCE)).fetchall()
    found: dict[Pair, dict[int, float]] = defaultdict(dict)
    for r in rows:
        found[(r.device_id, r.metric)][r.k] = r.value
    return found


@functools.lru_cache(maxsize=1 << 16)
def _at_station(rule: ThresholdRule, lines: tuple[tuple[str, float], ...]) -> ThresholdRule | None:
    """``rule.at_station``, once per station and rule, not once per reading."""
    return rule.at_station(dict(lines))


def judged(cases: Sequence[TelemetryCase], open_now: set[tuple[str, str]]) -> list[tuple[TelemetryCase, Verdict]]:
    """The verdicts worth applying, in case order: a small round one case at a time (``verdicts.judge``), a larger
    one in numpy (``batch.judge_cases``); the two agree verdict for verdict.

    A rule's cases of one subject are its readings in time order (several when the engine fell behind), applied
    as rounds one reading apart would apply them: a firing verdict always, any other only while the warning is
    open, as ``open_now`` and the cases before it leave it (a firing one opens it, a cleared one shuts it)."""
    if len(cases) < BATCH_FROM:
        verdicts = [(c, judge(c)) for c in cases]
    else:
        def keep(group: Sequence[TelemetryCase], firing: BoolArray) -> BoolArray:
            """Firing, open before the round, or after a firing case of its own (``_in_turn`` decides)."""
            fired: set[tuple[str, str]] = set()
            worth: list[bool] = []
            for c, fires in zip(group, firing.tolist(), strict=True):
                key = (c.rule.id, c.subject)
                worth.append(fires or key in open_now or key in fired)
                if fires:
                    fired.add(key)
            return np.array(worth, dtype=bool)

        verdicts = [(cases[i], v) for i, v in judge_cases(cases, keep)]
    return _in_turn(verdicts, open_now)


def _in_turn(verdicts: list[tuple[TelemetryCase, Verdict]], open_now: set[tuple[str, str]]
             ) -> list[tuple[TelemetryCase, Verdict]]:
    """The verdicts worth applying, taken in order: a rule's first case of a subject when it fires or its warning
    is open (as ``_worth_applying``), a later one when it fires or the cases before it left the warning open."""
    is_open: dict[tuple[str, str], bool] = {}
    kept: list[tuple[TelemetryCase, Verdict]] = []
    for case, verdict in verdicts:
        key = (case.rule.id, case.subject)
        if verdict.firing or is_open.get(key, key in open_now):
            kept.append((case, verdict))
        if verdict.firing or verdict.cleared:
            is_open[key] = verdict.firing
    return kept


def _cuts(series: Sequence[tuple[datetime, float]], times: Sequence[datetime], now: datetime, lookback: timedelta
          ) -> Iterator[list[tuple[datetime, float]]]:
    """A pair's series as a round at each of ``times`` (its new readings, in order) would have read it: up to that
    reading, back ``lookback`` from it (or from ``now`` if sooner). A reading no longer stored is skipped."""
    stamps = [ts for ts, _ in series]
    for ts in times:
        end = bisect_right(stamps, ts)
        if end and stamps[end - 1] == ts:
            yield list(series[bisect_right(stamps, min(now, ts) - lookback):end])


def _telemetry_rules(conn: psycopg.Connection, rules: list[ThresholdRule | RateRule], pairs: set[Pair],
                     named: Mapping[Pair, Mapping[int, float]], devices: dict[str, WatchedDevice],
                     now: datetime) -> Tally:
    """The threshold and rate rules of the pairs a round touched. A pair is judged by its newest reading with its
    window (``_latest``, ``_series``), except one whose batches named several new readings (``named``: ingest's
    keys, µs since the epoch → value; the engine is behind) of which one breaches a threshold rule: its
    threshold rules judge each new reading in time order, its window cut at it. Accumulations (whole hours
    back) and rate rules judge the newest."""
    tally = Tally()
    metrics = {r.metric for r in rules}
    wanted = sorted(p for p in pairs if p[1] in metrics)
    if not wanted:
        return tally
    of_kind: dict[tuple[str, str], list[ThresholdRule | RateRule]] = defaultdict(list)  # (device type, metric)
    for r in rules:
        of_kind[(r.device_type, r.metric)].append(r)
    applicable: dict[Pair, list[ThresholdRule | RateRule]] = {}
    watched = watch.for_round(conn, rules, now)  # 预警预防: a rule's values lowered in a grid for a season
    for device_id, metric in wanted:
        device = devices.get(device_id)
        if device is None:
            continue
        mine: list[ThresholdRule | RateRule] = []
        for r in of_kind.get((device.device_type, metric), ()):
            if isinstance(r, ThresholdRule):
                r = watched.get((r.id, device.location.grid_code or ""), r)
                if r.area and not (device.location.grid_code or "").startswith(r.area):
                    continue
                # a rule on lines with this station's own put in
                at_station = _at_station(r, tuple(sorted(device.lines.items()))) if r.lines else r
                if at_station is None:
                    continue
                mine.append(at_station)
            else:
                mine.append(r)
        applicable[(device_id, metric)] = mine
    latest = _latest(conn, [p for p, rs in applicable.items() if rs])
    # A pair that stored several readings since the last round (the engine fell behind) and breaches a threshold
    # in one of them is judged reading by reading, as rounds at each would have judged it.
    in_turn = {p: [EPOCH + us * US for us in sorted(new)] for p, rs in applicable.items()
               if len(new := named.get(p, {})) > 1 and any(isinstance(r, ThresholdRule) and _needs_history(r, value)
                                                           for r in rs for value in new.values())}
    # Most readings are quiet: the latest value alone decides them. Only breaching pairs
    # (and rate rules) read their window, so a city at rest costs one index probe per device.
    lookback = max(r.window for r in rules) + LOOKBACK_SLACK
    since = {p: now - lookback for p, rs in applicable.items()
             if any(_needs_history(r, latest[p][1] if p in latest else None) for r in rs)}
    since.update({p: min(now, times[0]) - lookback for p, times in in_turn.items()})
    series = _series(conn, since) if since else {}
    open_now = open_warnings(conn, sorted(devices))
    # An accumulation reads whole hours back where it is raining now (a measurable hour: GB/T 28592 calls
    # less than 0.1 mm 微量, and without new rain a total cannot have risen to a level) or its warning is open.
    summing = {p: latest[p] for p, rs in applicable.items() if p in latest and any(
        isinstance(r, ThresholdRule) and r.accumulate_hours > 1
        and (latest[p][1] >= MEASURABLE_RAIN_MM or (r.id, p[0]) in open_now) for r in rs)}
    hours = max((r.accumulate_hours for rs in applicable.values() for r in rs if isinstance(r, ThresholdRule)),
                default=1)
    hourly = _hourly(conn, summing, hours) if summing and hours > 1 else {}
    cases: list[TelemetryCase] = []
    for pair, pair_rules in applicable.items():
        device_id, _metric = pair
        lines = devices[device_id].lines
        window = series.get(pair, [])
        if pair in in_turn:
            cases.extend(TelemetryCase(rule, device_id, cut, lines)
                         for cut in _cuts(window, in_turn[pair], now, lookback) for rule in pair_rules
                         if isinstance(rule, ThresholdRule) and rule.accumulate_hours <= 1)
            window = [r for r in window if r[0] > now - lookback]  # what a round reads for the newest, as always
        history = window or ([latest[pair]] if pair in latest else [])
        for rule in pair_rules:
            if isinstance(rule, ThresholdRule) and rule.accumulate_hours > 1:
                if pair in summing:
                    total, covered = accumulation(hourly.get(pair, {}), rule.accumulate_hours)
                    cases.append(TelemetryCase(rule, device_id, [(latest[pair][0], total)], lines, covered))
            elif isinstance(rule, ThresholdRule):
                if pair not in in_turn:
                    cases.append(TelemetryCase(rule, device_id, history, lines))
            else:
                cases.append(TelemetryCase(rule, device_id, window))
    for case, verdict in judged(cases, open_now):
        tally.add(apply_verdict(conn, case.rule, devices[case.subject].site(), verdict, now))
    return tally


@dataclass(frozen=True, slots=True)
class _Member:
    """A device of a township that a compound rule watches, with its largest value of a metric in the window."""

    device_id: str
    device_type: str
    name: str
    township_code: str
    attributes: dict[str, Any] | None
    metric: str
    ts: datetime
    value: float


def _compound_rules(conn: psycopg.Connection, rules: list[CompoundRule], pairs: set[Pair],
                    devices: dict[str, WatchedDevice], now: datetime) -> Tally:
    """Per touched township: every watched station's largest value in the window (with its lines), then AND/OR;
    the verdict names the stations and values that met each condition.

    A compound starts firing only when a new reading meets one of its conditions (the last one to be met is
    met by a reading just stored), so only townships where a touched station's latest reading meets its bound,
    and those with the rule's warning open (to clear it), read their window: a city at rest costs one index
    probe per touched station."""
    tally = Tally()
    for rule in rules:
        watched = {(t, c.metric) for c in rule.conditions for t in c.device_types}
        touched = sorted(p for p in pairs if (d := devices.get(p[0])) and d.location.township_code
                         and (d.device_type, p[1]) in watched)
        if not touched:
            continue
        latest = _latest(conn, touched, now - rule.window)
        hot = {devices[device_id].location.township_code for (device_id, metric), (_ts, value) in latest.items()
               if any(devices[device_id].device_type in c.device_types and c.metric == metric
                      and (bound := c.bound_at(devices[device_id].lines)) is not None and value >= bound
                      for c in rule.conditions)}
        candidates = sorted({t for device_id, _ in touched if (t := devices[device_id].location.township_code)})
        open_now = open_warnings(conn, [f"township:{t}" for t in candidates])
        townships = [t for t in candidates if t in hot or (rule.id, f"township:{t}") in open_now]
        if not townships:
            continue
        types = sorted({t for t, _ in watched})
        metrics = sorted({m for _, m in watched})
        with conn.cursor(row_factory=class_row(_Member)) as cur:
            members = cur.execute(
                "SELECT DISTINCT ON (d.device_id, t.metric) d.device_id, d.device_type, d.name, d.township_code,"
                " d.attributes, t.metric, t.ts, t.value FROM devices d JOIN telemetry t USING (device_id)"
                " WHERE d.township_code = ANY(%s) AND d.device_type = ANY(%s) AND t.metric = ANY(%s)"
                " AND t.ts > %s AND t.ts <= %s ORDER BY d.device_id, t.metric, t.value DESC, t.ts DESC",
                (townships, types, metrics, now - rule.window, now)).fetchall()
        readings: dict[str, list[StationReading]] = defaultdict(list)
        for m in members:
            if (m.device_type, m.metric) in watched:
                readings[m.township_code].append(StationReading(
                    m.device_id, m.name, m.device_type, m.metric, m.ts, m.value, station_lines(m.attributes)))
        for township in townships:
            verdict = compound(rule, township, readings[township])
            if _worth_applying(rule, verdict.subject, verdict.firing, open_now):
                tally.add(apply_verdict(conn, rule, region_site(conn, township, verdict.subject), verdict, now))
    return tally


@dataclass(frozen=True, slots=True)
class _Fix:
    """Where a moving device was at one time, as ingest tagged its position."""

    device_id: str
    ts: datetime
    grid_code: str | None
    township_code: str | None
    district_code: str | None


def _geofence_rules(conn: psycopg.Connection, rules: list[GeofenceRule], devices: dict[str, WatchedDevice],
                    now: datetime) -> Tally:
    tally = Tally()
    for rule in rules:
        moving = sorted(d for d, dev in devices.items() if dev.device_type == rule.device_type)
        if not moving:
            continue
        with conn.cursor(row_factory=class_row(_Fix)) as cur:
            rows = cur.execute(
                "SELECT DISTINCT device_id, ts, grid_code, township_code, district_code FROM telemetry"
                " WHERE device_id = ANY(%s) AND ts > %s ORDER BY device_id, ts",
                (moving, now - timedelta(minutes=rule.dwell_minutes) - LOOKBACK_SLACK)).fetchall()
        tracks: dict[str, list[tuple[datetime, str | None]]] = defaultdict(list)
        last_codes: dict[str, tuple[str | None, str | None, str | None]] = {}
        for fix in rows:
            tracks[fix.device_id].append((fix.ts, fix.grid_code))
            last_codes[fix.device_id] = (fix.district_code, fix.township_code, fix.grid_code)
        open_now = open_warnings(conn, moving)
        for device_id in moving:
            verdict = geofence(rule, device_id, tracks.get(device_id, []))
            if not _worth_applying(rule, device_id, verdict.firing, open_now):
                continue
            district, township, grid = last_codes.get(device_id, (None, None, None))
            base = region_site(conn, grid, device_id) if grid else devices[device_id].site()
            site = Site(device_id, devices[device_id].name, Location(base.location.lon, base.location.lat,
                                                                      district, township, grid, None))
            tally.add(apply_verdict(conn, rule, site, verdict, now))
    return tally


@dataclass(frozen=True, slots=True)
class _FixRow:
    """A vehicle's reading at one time: its position, speed and the codes ingest tagged it with."""

    device_id: str
    ts: datetime
    lon: float | None
    lat: float | None
    speed: float | None
    district_code: str | None
    township_code: str | None
    grid_code: str | None


_FIXES = ("SELECT device_id, ts, max(value) FILTER (WHERE metric = 'lon') AS lon,"
          " max(value) FILTER (WHERE metric = 'lat') AS lat, max(value) FILTER (WHERE metric = 'speed_kmh') AS speed,"
          " max(district_code) AS district_code, max(township_code) AS township_code, max(grid_code) AS grid_code"
          " FROM telemetry WHERE device_id = ANY(%s) AND metric IN ('lon', 'lat', 'speed_kmh') AND ts > %s"
          " AND ts <= %s GROUP BY device_id, ts ORDER BY device_id, ts")
# 疲劳驾驶 reads hours back: the fastest speed per minute is enough to tell driving from resting.
_MINUTES = ("SELECT device_id, date_bin('1 minute', ts, TIMESTAMPTZ '2000-01-01 00:00+00') AS minute, max(value)"
            " FROM telemetry WHERE device_id = ANY(%s) AND metric = 'speed_kmh' AND ts > %s AND ts <= %s"
            " GROUP BY 1, 2 ORDER BY 1, 2")
RECENT_FIXES = timedelta(minutes=5)  # what the speed and zone rules read (a few fixes in a row, at 30 s or faster)


def _vehicles(conn: psycopg.Connection, device_ids: list[str]) -> dict[str, Vehicle]:
    rows = conn.execute("SELECT device_id, name, lon, lat, attributes FROM devices WHERE device_id = ANY(%s)",
                        (device_ids,)).fetchall()
    return {row[0]: Vehicle.of(*row) for row in rows}


def _tracks(conn: psycopg.Connection, device_ids: list[str], since: datetime, now: datetime
            ) -> tuple[dict[str, list[Fix]], dict[str, _FixRow]]:
    """Each vehicle's fixes since ``since`` in time order, and its latest (where its warnings are placed)."""
    with conn.cursor(row_factory=class_row(_FixRow)) as cur:
        rows = cur.execute(_FIXES, (device_ids, since, now)).fetchall()
    tracks: dict[str, list[Fix]] = defaultdict(list)
    latest: dict[str, _FixRow] = {}
    for r in rows:
        if r.lon is not None and r.lat is not None:
            tracks[r.device_id].append(Fix(r.ts, r.lon, r.lat, r.speed or 0.0, r.grid_code))
            latest[r.device_id] = r
    return tracks, latest


def _new_minute(track: list[Fix]) -> bool:
    """Whether the newest fix is the first of its minute (or the only one read)."""
    return len(track) < 2 or track[-1].ts.replace(second=0, microsecond=0) != track[-2].ts.replace(
        second=0, microsecond=0)


def _vehicle_cases(conn: psycopg.Connection, rules: list[VehicleRule], moving: list[str], now: datetime
                   ) -> tuple[list[VehicleCase], dict[str, _FixRow]]:
    """Each rule's case of each vehicle, and each vehicle's latest fix (where its warnings are placed)."""
    tracks, latest = _tracks(conn, moving, now - RECENT_FIXES, now)
    # Standing still is judged over its whole stop: only a vehicle standing now reads that far back.
    stopping = [r for r in rules if isinstance(r, StoppedRule)]
    standing = sorted(d for d, track in tracks.items()
                      if stopping and track[-1].speed < max(r.moving_kmh for r in stopping))
    if standing:
        longer, _ = _tracks(conn, standing, now - timedelta(minutes=max(r.stop_minutes for r in stopping))
                            - LOOKBACK_SLACK, now)
        tracks.update(longer)
    vehicles = _vehicles(conn, moving)
    cases = [VehicleCase(rule, vehicles[d], tracks[d]) for rule in rules if not isinstance(rule, DrivingTimeRule)
             for d in moving if d in tracks and d in vehicles]
    driving = [r for r in rules if isinstance(r, DrivingTimeRule)]
    if driving:
        # Hours back only for a vehicle driving now whose newest fix begins a minute (the series is per minute:
        # judged again once a minute, not at every fix), or whose warning is open (to clear it after a rest).
        open_now = open_warnings(conn, moving)
        wanted = sorted(d for d, track in tracks.items() if d in vehicles and (
            (track[-1].speed >= min(r.moving_kmh for r in driving) and _new_minute(track))
            or any((r.id, d) in open_now for r in driving)))
        lookback = max(r.lookback for r in driving) + LOOKBACK_SLACK
        minutes: dict[str, list[Fix]] = defaultdict(list)
        if wanted:
            for device_id, minute, speed in conn.execute(_MINUTES, (wanted, now - lookback, now)).fetchall():
                last = tracks[device_id][-1]
                minutes[device_id].append(Fix(minute, last.lon, last.lat, speed, last.grid_code))
        for d in wanted:
            # the latest fix itself ends the series, so a rest is measured to the last report, not its minute
            series = [f for f in minutes[d] if f.ts < tracks[d][-1].ts] + [tracks[d][-1]]
            cases.extend(VehicleCase(rule, vehicles[d], series) for rule in driving)
    return cases, latest


def _vehicle_rules(conn: psycopg.Connection, rules: list[VehicleRule], devices: dict[str, WatchedDevice],
                   now: datetime) -> Tally:
    """The vehicle rules (危货运输) for the vehicles that reported: a round's cases placed in their zones one at a
    time (``vehicles.judge``) when few, together in numpy (``batch.judge_vehicles``) from ``BATCH_FROM``."""
    tally = Tally()
    types = {r.device_type for r in rules}
    moving = sorted(d for d, dev in devices.items() if dev.device_type in types)
    if not moving:
        return tally
    cases, latest = _vehicle_cases(conn, rules, moving, now)
    verdicts = ([judge_vehicle(c) for c in cases] if len(cases) < BATCH_FROM else judge_vehicles(cases))
    open_now = open_warnings(conn, moving)
    for case, verdict in zip(cases, verdicts, strict=True):
        if not _worth_applying(case.rule, verdict.subject, verdict.firing, open_now):
            continue
        fix = latest[verdict.subject]
        site = Site(verdict.subject, case.vehicle.plate, Location(fix.lon, fix.lat, fix.district_code,
                                                                  fix.township_code, fix.grid_code, None))
        tally.add(apply_verdict(conn, case.rule, site, verdict, now))
    return tally


@dataclass(frozen=True, slots=True)
class _GradedEvent:
    source_system: str
    event_id: str
    category: str
    title: str
    level: int
    location: Location
    reporter: Reporter | None


def _graded_event(*, source_system: str, event_id: str, category: str, title: str, level: int, name: str | None,
                  phone: str | None, **location: Any) -> _GradedEvent:
    """A row of ``_graded_events`` (the other columns are Location's fields, by name)."""
    reporter = Reporter(name, phone) if name is not None and phone is not None else None  # LEFT JOIN: both or neither
    return _GradedEvent(source_system, event_id, category, title, level, Location(**location), reporter)


def _graded_events(conn: psycopg.Connection, keys: list[tuple[str, str, str]], now: datetime) -> int:
    """A department event that carries a level is already a graded case: open an incident for it (with the
    event's reporter, if it came with one)."""
    with conn.cursor(row_factory=kwargs_row(_graded_event)) as cur:
        rows = cur.execute(
            "SELECT e.source_system, e.event_id, e.category, e.title, (e.payload->>'level')::int AS level, e.lon,"
            " e.lat, e.district_code, e.township_code, e.grid_code,"
            " (SELECT version FROM boundary_versions WHERE active) AS boundary_version,"
            " e.near_boundary, r.name, r.phone FROM events e"
            " JOIN unnest(%s::text[], %s::text[], %s::timestamptz[]) AS k(source_system, event_id, ts)"
            " USING (source_system, event_id, ts) LEFT JOIN event_reporters r USING (source_system, event_id, ts)"
            " WHERE e.payload->>'level' IS NOT NULL",
            ([k[0] for k in keys], [k[1] for k in keys], [k[2] for k in keys])).fetchall()
    opened = 0
    for e in rows:
        incident_id = open_incident(
            conn, title=e.title, category=e.category, level=e.level, source_kind="event", location=e.location,
            now=now, source_ref=f"event:{e.source_system}:{e.event_id}", reporter=e.reporter)
        opened += incident_id is not None
    return opened


def _event_count_rules(conn: psycopg.Connection, rules: list[EventCountRule], keys: list[tuple[str, str, str]],
                       now: datetime) -> Tally:
    """Hotspots (``alerts.hotspots``): a new complaint joins the open hotspot of its kind it lies in, or enough
    of its kind around it form one, with one warning and one incident listing its tickets."""
    tally = Tally()
    for rule in rules:
        tally.add(attach_tickets(conn, rule, keys, now))
    return tally


def _of(rules: tuple[Rule, ...], *kinds: type[RuleT]) -> list[RuleT]:
    return [r for r in rules if isinstance(r, kinds)]


def step(conn: psycopg.Connection, rules: tuple[Rule, ...], now: datetime) -> tuple[int, Tally]:
    """Evaluate committed ingest batches in one transaction; returns (batches, what happened)."""
    tally = Tally()
    with conn.transaction():
        claimed = claim_inbox(conn)
        pairs: set[Pair] = set()
        named: dict[Pair, dict[int, float]] = defaultdict(dict)  # the new readings ingest named: µs → value
        event_keys: set[tuple[str, str, str]] = set()
        for batch in claimed:
            if batch.kind == "telemetry":
                for device_id, metric, *readings in batch.keys:  # [device_id, metric] before ingest named them
                    pairs.add((device_id, metric))
                    if readings:
                        named[(device_id, metric)].update(readings)
            else:
                event_keys.update((k[0], k[1], k[2]) for k in batch.keys)
        if pairs:
            devices = _devices(conn, sorted({d for d, _ in pairs}))  # once per step, for every kind below
            tally.add(_telemetry_rules(conn, _of(rules, ThresholdRule, RateRule), pairs, named, devices, now))
            tally.add(_compound_rules(conn, _of(rules, CompoundRule), pairs, devices, now))
            tally.add(_geofence_rules(conn, _of(rules, GeofenceRule), devices, now))
            tally.add(_vehicle_rules(conn, _of(rules, ZoneSpeedRule, ZoneForbiddenRule, DrivingTimeRule,
                                               StoppedRule), devices, now))
        if event_keys:
            events = sorted(event_keys)
            tally.incidents += _graded_events(conn, events, now)
            tally.add(_event_count_rules(conn, _of(rules, EventCountRule), events, now))
    return len(claimed), tally


def silence(conn: psycopg.Connection, rules: list[NoDataRule], now: datetime) -> Tally:
    """The timer's first stage: silent devices warned, a township gone silent warned once for them all, and the
    devices that area warning holds back recorded against it."""
    tally = Tally()
    if not rules:
        return tally
    rows = conn.execute(_SILENCE_ROWS).fetchall()
    freshest = max((seen_us for _, _, _, seen_us, seen, _ in rows if seen), default=None)
    if freshest is None:
        return tally  # no data at all yet: nothing to compare silence against
    reference = min(now, EPOCH + timedelta(microseconds=freshest))
    for rule in rules:
        mine = [(device_id, township, seen_us, seen, interval_us)
                for device_id, device_type, township, seen_us, seen, interval_us in rows
                if rule.device_type in ("*", device_type)]
        open_now = open_subjects(conn, rule.id)
        if len(mine) < BATCH_FROM:
            devices = [DeviceSilence(device_id, township, EPOCH + timedelta(microseconds=seen_us) if seen else None,
                                     EPOCH + timedelta(microseconds=seen_us), timedelta(microseconds=interval_us))
                       for device_id, township, seen_us, seen, interval_us in mine]
            verdicts, inhibited = no_data(rule, devices, reference)
            worth = [v for v in verdicts if v.firing or v.subject in open_now]
        else:  # the same verdicts, over arrays
            ids, townships, seen_at, _seen, intervals = zip(*mine, strict=True)
            fleet = Fleet(ids, townships, np.array(seen_at, dtype=np.int64), np.array(intervals, dtype=np.int64))
            worth, inhibited = silences(rule, fleet, reference, open_now)
        by_id = _devices(conn, [v.subject for v in worth if not v.subject.startswith("township:")])
        for v in worth:
            if v.subject.startswith("township:"):
                site = region_site(conn, v.subject.removeprefix("township:"), v.subject)
                site = Site(v.subject, f"{site.name}大面积设备离线", site.location)
            else:
                site = by_id[v.subject].site()
            tally.add(apply_verdict(conn, rule, site, v, now))
        # after the area warnings are applied: a township's first tick down already has its warning to name
        tally.add(record_inhibited(conn, rule, held_back(inhibited, {row[0]: row[1] for row in mine}), now))
    return tally


def _quiet_hotspots(conn: psycopg.Connection, rules: list[EventCountRule], now: datetime) -> Tally:
    """Hotspot warnings no ticket has joined for the rule's quiet window: cleared (new complaints only count a
    cluster again, so without this a hotspot never cleared). Their incidents stay for the lifecycle to close."""
    tally = Tally()
    for rule in rules:
        for subject, grid, newest in last_tickets(conn, rule):
            verdict = hotspot_quiet(subject, newest, now, rule.quiet)
            if verdict.cleared:
                tally.add(apply_verdict(conn, rule, region_site(conn, grid or "", subject), verdict, now))
    return tally


def _boundaries(conn: psycopg.Connection, now: datetime) -> None:
    """A boundary version activated since the last re-tag: its devices and open incidents re-tagged."""
    if conn.execute("SELECT 1 FROM boundary_versions WHERE active AND retagged_at IS NULL").fetchone():
        from alerts.retag import retag  # only now: tagging needs geopandas, which the engine otherwise never loads

        retag(conn, now)


def tick(conn: psycopg.Connection, rules: tuple[Rule, ...], now: datetime) -> Tally:
    """Timer work with one ``now``: a new boundary version's re-tag, silent devices, quiet hotspots, then
    overdue incidents."""
    tally = Tally()
    _boundaries(conn, now)
    with conn.transaction():
        tally.add(silence(conn, _of(rules, NoDataRule), now))
        tally.add(_quiet_hotspots(conn, _of(rules, EventCountRule), now))
    escalate_overdue(conn, now)
    escalate_laggards(conn, now)
    return tally
