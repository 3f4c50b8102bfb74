"""Dashboard speed on a month of a 1,000-device district: refresh time and payload, township queue, first render.

    .venv/bin/python bench/bench_dashboard.py                      # full size: 30 days, ~47 M rows
    .venv/bin/python bench/bench_dashboard.py --days 3             # smaller, same measurements
    .venv/bin/python bench/bench_dashboard.py --keep /tmp/benchdb  # keep the database (and reuse it next time)
    .venv/bin/python bench/bench_dashboard.py load --dsn URL --telemetry-days 0   # history into a live demo
    .venv/bin/python bench/bench_dashboard.py render --dsn URL --runs 5        # first render only (or --url)

Starts its own project-local PostgreSQL (``cityops.localserver``), loads the demo
layers, registers ``--devices`` devices in one district, and generates their
telemetry server-side (``INSERT … SELECT generate_series``, one statement per day,
with progress), 12345 tickets, and ``--incidents`` incidents with their full logs.
Then it measures, in the same run:

* the big screen's refresh callback (server time p50/p95, payload bytes), when the
  incidents changed and when nothing did, against the baseline of rebuilding the
  whole figure every refresh;
* the township queue callback;
* first render of the big screen in headless Chromium (software WebGL on this machine):
  from navigation to the KPIs shown and the map drawn with its data, cold and warm cache.

Figures vary ±50 % between runs on shared 2-core machines.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
from psycopg.types.json import Jsonb

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from alerts.deadlines import windows
from alerts.status import WITH_TOWNSHIP
from cityops.localserver import LocalPostgres, free_port
from cityops.processes import stop as stop_process
from ingest.devices import DeviceSpec, register_devices
from ingest.tagging import active_layer_tagger
from tests.fix_db import one

DISTRICT = "431002"  # 北湖区: the bench's district
# (device_type, dept, share of the fleet, metrics per reading, expected interval s)
FLEET = (("rain_gauge", "qx", 0.20, ("rain_1h",)), ("river_gauge", "sl", 0.15, ("water_level",)),
         ("gas_detector", "yj", 0.20, ("gas_lel",)), ("smoke_detector", "xf", 0.40, ("smoke",)),
         ("hazmat_vehicle", "jt", 0.05, ("lon", "lat", "speed_kmh")))
CATEGORIES = (("flood", 0.2), ("production_safety", 0.15), ("public_safety", 0.25), ("hotline", 0.4))
LEVELS = ((1, 0.05), (2, 0.15), (3, 0.4), (4, 0.4))
TITLES = {"flood": ("低洼路段积水", "河道水位超警戒", "短时强降雨"),
          "production_safety": ("可燃气体浓度超限", "危化品车辆超速"),
          "public_safety": ("烟感火警", "井盖缺失", "110警情：道路塌陷"),
          "hotline": ("噪音扰民", "占道经营", "路灯不亮")}


def say(msg: str) -> None:
    print(msg, flush=True)


# -- loading --

def register_fleet(dsn: str, district: str, n: int, rng: np.random.Generator) -> int:
    """``n`` devices at random points of ``district``'s townships (tagged like ingest tags them)."""
    from layers.loader import load_active_layers

    townships = load_active_layers(dsn).townships
    towns = townships[townships["code"].str.startswith(district)].reset_index(drop=True)
    specs: list[DeviceSpec] = []
    for kind, dept, share, _ in FLEET:
        count = max(1, round(n * share))
        pts = towns.geometry.sample_points(size=int(np.ceil(count / len(towns))), rng=rng).explode().to_numpy()
        for i, pt in enumerate(pts[:count]):
            specs.append(DeviceSpec(f"b-{kind}-{i:04d}", kind, dept, f"基准{kind}{i}", round(pt.x, 6), round(pt.y, 6),
                                    60))
    tagger, version = active_layer_tagger(dsn)
    with psycopg.connect(dsn) as conn:
        return register_devices(conn, specs, tagger, version)


_VALUE_SQL = {  # cheap server-side values of the right magnitude per metric
    "rain_1h": "round((random() * random() * 20)::numeric, 1)",
    "water_level": "round((1.2 + random() * 0.3)::numeric, 2)",
    "gas_lel": "round((random() * 3)::numeric, 1)",
    "smoke": "0",
    "speed_kmh": "round((40 + random() * 40)::numeric, 1)",
    "lon": "d.lon + 0.01 * sin(extract(epoch FROM ts) / 900 + d.phase)",
    "lat": "d.lat + 0.01 * cos(extract(epoch FROM ts) / 900 + d.phase)",
}


def load_telemetry(dsn: str, start: datetime, end: datetime, device_prefix: str = "b-",
                   step: timedelta = timedelta(minutes=1)) -> int:
    """One reading every ``step`` per device from ``start`` to ``end``, one INSERT … SELECT per day, indexes after."""
    total = 0
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SET synchronous_commit = off")
        has_pk = conn.execute("SELECT 1 FROM pg_constraint WHERE conname = 'telemetry_pkey'").fetchone()
        if has_pk:  # building the indexes once at the end is several times faster than maintaining them
            conn.execute("ALTER TABLE telemetry DROP CONSTRAINT telemetry_pkey")
            conn.execute("DROP INDEX IF EXISTS telemetry_ts")
        selects = []
        for kind, _, _, metrics in FLEET:
            for metric in metrics:
                selects.append(
                    f"SELECT ts, d.device_id, '{metric}', ({_VALUE_SQL[metric]})::float8, d.district_code,"
                    f" d.township_code, d.grid_code, ts FROM generate_series(%(a)s::timestamptz,"
                    f" %(b)s::timestamptz - %(step)s::interval, %(step)s::interval) AS ts"
                    f" CROSS JOIN (SELECT *, hashtext(device_id) %% 100 AS phase FROM devices"
                    f" WHERE device_type = '{kind}' AND device_id LIKE '{device_prefix}%%') d")
        day = start
        started = time.perf_counter()
        while day < end:
            nxt = min(day + timedelta(days=1), end)
            t0 = time.perf_counter()
            with conn.cursor() as cur:
                cur.execute("INSERT INTO telemetry (ts, device_id, metric, value, district_code, township_code,"
                            " grid_code, ingested_at) " + " UNION ALL ".join(selects),
                            {"a": day, "b": nxt, "step": step})
                rows = cur.rowcount
            total += rows
            say(f"  telemetry {day:%Y-%m-%d}: {rows:,} rows in {time.perf_counter() - t0:.1f} s"
                f" (total {total:,}, {total / (time.perf_counter() - started):,.0f} rows/s)")
            day = nxt
        t0 = time.perf_counter()
        conn.execute("ALTER TABLE telemetry ADD PRIMARY KEY (device_id, metric, ts)")
        conn.execute("CREATE INDEX IF NOT EXISTS telemetry_ts ON telemetry (ts DESC)")
        conn.execute("ANALYZE telemetry")
        say(f"  telemetry indexes built in {time.perf_counter() - t0:.1f} s")
    return total


def load_hotline(dsn: str, start: datetime, end: datetime, per_day: int, district: str | None) -> int:
    """12345 tickets near random devices (they cluster where people are), generated server-side."""
    where = "WHERE district_code = %(district)s" if district else ""
    with psycopg.connect(dsn) as conn:
        cur = conn.execute(
            "WITH sites AS (SELECT lon, lat, district_code, township_code, grid_code, row_number() OVER () AS k,"
            f" count(*) OVER () AS n FROM devices {where}),"
            " tickets AS (SELECT g, %(a)s::timestamptz + (%(b)s::timestamptz - %(a)s::timestamptz) * random() AS ts,"
            " 1 + floor(random() * (SELECT max(n) FROM sites))::int AS k FROM generate_series(1, %(count)s) g)"
            " INSERT INTO events (ts, source_system, event_id, dept, category, title, lon, lat, district_code,"
            " township_code, grid_code, payload)"
            " SELECT t.ts, 'hotline12345', 'bench-' || t.g, 'zw', 'hotline', '占道经营',"
            " s.lon + (random() - 0.5) * 0.01, s.lat + (random() - 0.5) * 0.01, s.district_code, s.township_code,"
            " s.grid_code, '{}'::jsonb FROM tickets t JOIN sites s USING (k) ON CONFLICT DO NOTHING",
            {"a": start, "b": end, "count": int(per_day * (end - start).total_seconds() / 86400),
             "district": district})
        conn.commit()
        return cur.rowcount


def _choice(rng: np.random.Generator, table: tuple[tuple[Any, float], ...], n: int) -> np.ndarray:
    values, weights = zip(*table, strict=True)
    return rng.choice(np.array(values, dtype=object), size=n, p=np.array(weights) / sum(weights))


def load_incidents(dsn: str, n: int, start: datetime, now: datetime, rng: np.random.Generator,
                   district: str | None) -> int:
    """``n`` incidents created over [start, now) with logs that follow the lifecycle: most closed,
    recent ones at every stage, some late, some reworked, some sent back and re-dispatched."""
    with psycopg.connect(dsn) as conn:
        sql_where = "AND r.parent_code = %s" if district else ""
        towns = conn.execute(
            "SELECT r.code, r.parent_code, r.label_lon, r.label_lat FROM regions r JOIN boundary_versions b"
            f" USING (version) WHERE b.active AND r.level = 'township' {sql_where} ORDER BY r.code",
            (district,) if district else ()).fetchall()
        base_id = int(one(conn, "SELECT coalesce(max(id), 0) FROM incidents")[0])
        span = (now - start).total_seconds()
        created = sorted(start + timedelta(seconds=float(s)) for s in rng.uniform(0, span, n))
        cats, levels = _choice(rng, CATEGORIES, n), _choice(rng, LEVELS, n)
        inc_rows, log_rows = [], []
        for k in range(n):
            iid = base_id + k + 1
            cat, level, at = str(cats[k]), int(levels[k]), created[k]
            code, district_code, lon, lat = towns[int(rng.integers(len(towns)))]
            sign_w, finish_w, verify_w = windows(level, cat)
            title = str(rng.choice(TITLES[cat]))
            placed = {"level": level, "category": cat, "district_code": district_code}  # as open_incident's row
            log: list[tuple[Any, ...]] = [(iid, at, "system", "system", None, "system", "create", None, "new", title,
                                           placed)]
            status, rework, deadlines = "new", 0, (None, None, None)
            t = at

            def step(after: timedelta, actor: str, role: str, unit: str | None, action: str, to: str,
                     note: str = "", details: dict[str, Any] | None = None, log: list[tuple[Any, ...]] = log,
                     iid: int = iid) -> bool:
                nonlocal t, status
                if t + after > now:
                    return False
                log.append((iid, t + after, actor, role, unit, "web" if role != "system" else "system", action,
                            status, to, note, details or {}))
                t, status = t + after, to
                return True

            def late(window: timedelta, p_late: float) -> timedelta:
                share = rng.uniform(1.05, 2.5) if rng.random() < p_late else rng.uniform(0.05, 0.9)
                return window * float(share)

            if step(timedelta(seconds=5), "system", "system", code, "dispatch", "dispatched", "按属地自动派遣",
                    {"township_code": code}):
                deadlines = (t + sign_w, t + finish_w, None)
                user = f"zj{code}"
                if rng.random() < 0.04 and step(late(sign_w, 0.1), user, "township", code, "return", "new",
                                                "不属于本辖区"):
                    step(timedelta(minutes=float(rng.uniform(2, 20))), "zhihui", "command", code, "dispatch",
                         "dispatched", "", {"township_code": code})
                    deadlines = (t + sign_w, t + finish_w, None)
                if status == "dispatched" and step(late(sign_w, 0.12), user, "township", code, "sign", "signed"):
                    deadlines = (deadlines[0], deadlines[1], None)
                    fb = {"people_evacuated": int(rng.integers(0, 30))} if cat == "flood" else {}
                    if step(late(finish_w, 0.08), user, "township", code, "feedback", "resolved", "已处置完毕", fb):
                        deadlines = (deadlines[0], deadlines[1], t + verify_w)
                        if rng.random() < 0.07 and step(late(verify_w, 0.05), "zhihui", "command", None, "rework",
                                                        "in_progress", "照片不清晰，请补充"):
                            rework, deadlines = 1, (deadlines[0], deadlines[1], None)  # as the lifecycle does
                            if step(late(finish_w, 0.1), user, "township", code, "feedback", "resolved", "已补充"):
                                deadlines = (deadlines[0], deadlines[1], t + verify_w)
                        if status == "resolved":
                            step(late(verify_w, 0.05), "zhihui", "command", None, "verify", "closed")
            lon, lat = lon + float(rng.normal(0, 0.004)), lat + float(rng.normal(0, 0.004))
            inc_rows.append((iid, title, cat, level, status, "manual", lon, lat, district_code,
                             code if status != "new" or len(log) > 2 else None, at, t, *deadlines, rework))
            log_rows.extend(log)
        with conn.cursor() as cur:
            with cur.copy("COPY incidents (id, title, category, level, status, source_kind, lon, lat, district_code,"
                          " township_code, created_at, updated_at, sign_deadline, finish_deadline, verify_deadline,"
                          " rework_count) FROM STDIN") as copy:
                for row in inc_rows:
                    copy.write_row(row)
            with cur.copy("COPY incident_log (incident_id, at, actor, role, unit, source, action, from_status,"
                          " to_status, note, details) FROM STDIN") as copy:
                for row in log_rows:
                    copy.write_row((*row[:-1], Jsonb(row[-1])))
            cur.execute("SELECT setval('incidents_id_seq', (SELECT max(id) FROM incidents))")
            cur.execute("ANALYZE incidents")
            cur.execute("ANALYZE incident_log")
        conn.commit()
    return n


def load_warnings(dsn: str, now: datetime, rng: np.random.Generator, count: int = 40) -> int:
    """Warnings behind the most recent sensor incidents, so the big screen's feed has something to roll."""
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT id, title, level, created_at, lon, lat, district_code, township_code, status FROM incidents"
            " WHERE category <> 'hotline' ORDER BY created_at DESC LIMIT %s", (count,)).fetchall()
        for iid, title, level, at, lon, lat, dist, town, status in rows:
            conn.execute(
                "INSERT INTO warnings (rule_id, subject, level, status, title, opened_at, updated_at, cleared_at,"
                " lon, lat, district_code, township_code, incident_id) VALUES"
                " ('bench', %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (f"bench-{iid}", level, "cleared" if status == "closed" else "open", title, at, at,
                 now if status == "closed" else None, lon, lat, dist, town, iid))
        conn.commit()
    return len(rows)


def mark_devices_seen(dsn: str, now: datetime, offline_share: float = 0.04) -> None:
    """device_status as ingest leaves it: most devices seen within the minute, a few silent for hours."""
    with psycopg.connect(dsn) as conn:
        conn.execute(
            "INSERT INTO device_status (device_id, last_seen, online, status_at)"
            " SELECT device_id, CASE WHEN random() < %(off)s THEN %(now)s - interval '3 hours'"
            " ELSE %(now)s - random() * interval '50 seconds' END, true, %(now)s FROM devices"
            " ON CONFLICT (device_id) DO UPDATE SET last_seen = EXCLUDED.last_seen",
            {"off": offline_share, "now": now})
        conn.commit()


def load_history(dsn: str, *, days: int, telemetry_days: float, incidents: int, hotline_per_day: int,
                 district: str | None, devices: int, now: datetime, seed: int = 7) -> dict[str, int]:
    """Everything the bench needs in ``dsn`` (migrated, with layers); returns row counts."""
    rng = np.random.default_rng(seed)
    counts: dict[str, int] = {}
    start = now - timedelta(days=days)
    if devices:
        t0 = time.perf_counter()
        counts["devices"] = register_fleet(dsn, district or DISTRICT, devices, rng)
        say(f"devices: {counts['devices']:,} registered in {time.perf_counter() - t0:.1f} s")
    if telemetry_days:
        t0 = time.perf_counter()
        minute = now.replace(second=0, microsecond=0)
        counts["telemetry"] = load_telemetry(dsn, minute - timedelta(days=telemetry_days), minute)
        say(f"telemetry: {counts['telemetry']:,} rows in {time.perf_counter() - t0:.0f} s")
    t0 = time.perf_counter()
    counts["hotline"] = load_hotline(dsn, now - timedelta(days=min(days, 7)), now, hotline_per_day, district)
    counts["incidents"] = load_incidents(dsn, incidents, start, now, rng, district)
    counts["warnings"] = load_warnings(dsn, now, rng)
    mark_devices_seen(dsn, now)
    say(f"hotline {counts['hotline']:,}, incidents {counts['incidents']:,}, warnings {counts['warnings']}"
        f" in {time.perf_counter() - t0:.1f} s")
    return counts


# -- measuring --

def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def timed(fn: Callable[[], Any], n: int) -> tuple[list[float], Any]:
    """Milliseconds of ``fn()`` plus serialising its outputs as Dash does (part of the server's work)."""
    times, out = [], None
    for _ in range(n):
        t0 = time.perf_counter()
        out = fn()
        payload_bytes(out)
        times.append((time.perf_counter() - t0) * 1000)
    return times, out


def payload_bytes(outputs: Any) -> tuple[int, int]:
    """(raw, gzip) bytes of callback outputs as Dash serialises them; unchanged outputs are not sent."""
    import gzip

    import dash
    from plotly.io.json import to_json_plotly

    parts = outputs.values() if isinstance(outputs, dict) else outputs if isinstance(outputs, tuple) else (outputs,)
    sent = [o for o in parts if o is not dash.no_update]
    raw = to_json_plotly(sent).encode()
    return len(raw), len(gzip.compress(raw, 6))


def report(name: str, times: list[float], size: tuple[int, int] | None = None, target: str = "") -> dict[str, Any]:
    row = {"name": name, "p50_ms": round(pct(times, 0.5), 1), "p95_ms": round(pct(times, 0.95), 1),
           "bytes": size[0] if size else None, "gzip": size[1] if size else None}
    extra = f"  payload {size[0]:,} B ({size[1]:,} B gzip)" if size else ""
    say(f"  {name:<46} p50 {row['p50_ms']:7.1f} ms  p95 {row['p95_ms']:7.1f} ms{extra}  {target}")
    return row


@contextlib.contextmanager
def as_user(app: Any, username: str) -> Iterator[None]:
    """Run callbacks inside a request with ``username`` logged in (what the browser's session gives them)."""
    import flask

    from dashboard import auth
    from i18n.timefmt import utcnow
    from store.users import get_user

    with app.server.test_request_context("/_dash-update-component", method="POST"):
        data = app.server.extensions["cityops_data"]
        with data.pool.connection() as conn:
            record = get_user(conn, username)
        assert record is not None
        flask.session["lang"] = "zh"
        auth.login_session(auth.session_user_of(record), utcnow())
        yield


def new_incident(dsn: str, district: str, now: datetime) -> None:
    with psycopg.connect(dsn) as conn:
        conn.execute(
            "WITH t AS (SELECT code, parent_code, label_lon, label_lat FROM regions WHERE level = 'township'"
            " AND parent_code = %s ORDER BY random() LIMIT 1)"
            " INSERT INTO incidents (title, category, level, status, source_kind, lon, lat, district_code,"
            " township_code, created_at, updated_at, sign_deadline, finish_deadline)"
            " SELECT '基准新事件', 'flood', 1, 'dispatched', 'manual', label_lon, label_lat, parent_code, code,"
            " %s, %s, %s, %s FROM t", (district, now, now, now + timedelta(minutes=7), now + timedelta(hours=2)))
        conn.commit()


def measure_callbacks(dsn: str, samples: int, district: str) -> list[dict[str, Any]]:
    from dashboard.app import create_app
    from dashboard.map.model import CITY, T

    app = create_app(dsn, secret_key="bench", pool_size=4)
    overview = sys.modules["dashboard.pages.overview"]
    township = sys.modules["dashboard.pages.township"]
    rows = []
    with as_user(app, "zhihui"):
        t0 = time.perf_counter()
        page = overview.layout()
        say(f"  big screen layout (first request, boundaries cached after): {time.perf_counter() - t0:.2f} s")
        state = next(c.data for c in _walk(page) if getattr(c, "id", None) == overview.ids.Ids.MARKER)
        city = CITY.to_store()
        state = overview.callbacks.refresh(0, state, city, "open", 1)["marker"]  # first tick: the feed rolls

        idle = lambda: overview.callbacks.refresh(1, state, city, "open", 1)  # noqa: E731
        times, out = timed(idle, samples)
        rows.append(report("refresh, nothing changed", times, payload_bytes(out)))
        live = lambda: overview.callbacks.refresh(1, {**state, "live_at": 0}, city, "open", 1)  # noqa: E731
        times, out = timed(live, samples)
        rows.append(report("refresh, live layers due (devices, vehicles, heat)", times, payload_bytes(out)))

        changed_times, sizes, current = [], [], state
        for _ in range(samples):
            new_incident(dsn, district, datetime.now(UTC))
            t0 = time.perf_counter()
            out = overview.callbacks.refresh(1, {**current, "live_at": 0}, city, "open", 1)
            sizes.append(payload_bytes(out))
            changed_times.append((time.perf_counter() - t0) * 1000)
            current = out["marker"]
        worst = max(sizes)
        rows.append(report("refresh, a new incident + live layers (Patch)", changed_times, worst, "target < 150 ms"))

        data = app.server.extensions["cityops_data"]
        layers = data.base_map()
        from dashboard.map.model import GeoUrls
        inline = GeoUrls(json.loads(layers.geojson["district"]), json.loads(layers.geojson["township"]), "{code}")

        def full_rebuild() -> Any:
            """The baseline: what a refresh costs if it rebuilds the figure (boundaries inline) every time."""
            from dashboard import charts
            from dashboard.map import figure, registry
            from dashboard.map.model import Cadence, Scene

            now = datetime.now(UTC)
            scene = Scene(layers, CITY, "zh", inline)
            fig = figure.build(registry.REGISTRY, layers, inline, "/assets/map-dark.json", "zh", CITY,
                               registry.DEFAULT_ON)
            for layer in registry.due(tuple(Cadence), registry.choropleth(None)):
                layer.style(layer.read(data, now, CITY), scene).apply_to(fig)
            kpis = data.kpis(datetime.now(UTC).replace(hour=0, minute=0), now)
            return (fig, overview.views.kpi_cards(kpis, "zh"), charts.hourly_trend(data.hourly_new(now), now, "zh"))

        times, out = timed(full_rebuild, max(5, samples // 4))
        assert len(out[0]["data"]) == len(T)
        rows.append(report("baseline: rebuild the whole figure each refresh", times, payload_bytes(out)))
        with data.pool.connection() as conn:
            code, n_open = one(conn,
                "SELECT township_code, count(*) FROM incidents WHERE status = ANY(%s) AND township_code IS NOT NULL"
                " GROUP BY 1 ORDER BY count(*) DESC LIMIT 1", (sorted(WITH_TOWNSHIP),))
    with as_user(app, f"zj{code}"):
        times, out = timed(lambda: township.callbacks.refresh(1, 0, 0), samples)
        rows.append(report(f"township queue ({n_open} open incidents)", times, payload_bytes(out),
                           "target < 100 ms"))
    app.server.extensions["cityops_data"].close()
    return rows



def _walk(component: Any) -> Iterator[Any]:
    yield component
    children = getattr(component, "children", None)
    for child in children if isinstance(children, list | tuple) else [children]:
        if child is not None and not isinstance(child, str | int | float):
            yield from _walk(child)


# "First render" in the page itself: from navigation start (performance.now() = 0) to the first
# animation frame where the KPIs show their values and MapLibre has drawn the map with its data:
# the district polygons in the fill's source, every incident point plotly holds in its layer's
# source, and nothing left loading (map.loaded()). Recorded by a frame loop started before any
# script of the page runs, so the wait in Python adds nothing to the figure.
FIRST_RENDER_JS = """
(() => {
  const seen = window.__firstRender = {};
  const features = (map, id) => { const s = map.getSource(id); const d = s && s.serialize().data;
                                  return d && d.features ? d.features.length : -1; };
  const check = () => {
    const kpi = document.querySelector('#overview-kpi-open');
    if (seen.kpis === undefined && kpi && kpi.textContent.trim()) { seen.kpis = performance.now(); }
    const gd = document.querySelector('#overview-map .js-plotly-plot');
    const map = gd && gd._fullLayout && gd._fullLayout.map && gd._fullLayout.map._subplot
      && gd._fullLayout.map._subplot.map;
    if (seen.kpis !== undefined && map && map.loaded()
        && features(map, 'source-' + gd._fullData[FILL].uid) > 0
        && INCIDENTS.every(i => features(map, 'source-' + gd._fullData[i].uid + '-circle')
                                === (gd.data[i].customdata || []).length)) {
      seen.map = performance.now();
      return;
    }
    requestAnimationFrame(check);
  };
  requestAnimationFrame(check);
})();
"""


@contextlib.contextmanager
def dashboard_server(dsn: str) -> Iterator[str]:
    """``python -m dashboard`` on ``dsn`` on a free port; yields its URL, stops it after."""
    import urllib.request

    port = free_port()
    log = open(Path(tempfile.gettempdir()) / f"bench-dashboard-{port}.log", "wb")  # noqa: SIM115 - the child owns it
    proc = subprocess.Popen([sys.executable, "-m", "dashboard", "--dsn", dsn, "--port", str(port), "--secret-key",
                             "bench"], stdout=log, stderr=subprocess.STDOUT, cwd=Path(__file__).resolve().parent.parent)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                with urllib.request.urlopen(f"{url}/login", timeout=2):
                    break
            except OSError:
                time.sleep(0.5)
        yield url
    finally:
        stop_process(proc)
        log.close()


def measure_first_render(url: str, runs: int = 3, user: tuple[str, str] = ("zhihui", "zhihui123")
                         ) -> list[dict[str, float]]:
    """First render of the big screen in headless Chromium (software WebGL), logged in as ``user`` (the city's
    screen; a district desk's opens on its district): one cold (a new browser profile: nothing cached), then
    ``runs - 1`` warm (the same profile).

    Each run: seconds from navigation start to the KPIs shown and to the map drawn with its data
    (``FIRST_RENDER_JS``). The login itself is not counted: a wall screen logs in once.
    """
    from playwright.sync_api import sync_playwright

    from dashboard.map.model import LEVELS, T, incident_trace

    script = FIRST_RENDER_JS.replace("FILL", str(int(T.DISTRICT_FILL))).replace(
        "INCIDENTS", json.dumps([incident_trace(level) for level in LEVELS]))
    times = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=[
            "--headless=new", "--no-sandbox", "--disable-gpu", "--enable-unsafe-swiftshader"])
        login = browser.new_context(viewport={"width": 1920, "height": 1080})
        page = login.new_page()
        page.goto(f"{url}/login")
        page.fill("#username", user[0])
        page.fill("#password", user[1])
        page.click("#login-submit")
        page.wait_for_selector("#overview-map .maplibregl-canvas", timeout=120_000)  # the server's caches warm
        cookies = login.cookies()
        login.close()
        context = browser.new_context(viewport={"width": 1920, "height": 1080})  # a screen switched on: cold
        context.add_cookies(cookies)
        context.add_init_script(script)
        page = context.new_page()
        for i in range(runs):
            page.goto(f"{url}/")
            # a function, not an expression: Playwright polls an expression with eval, which the CSP refuses
            page.wait_for_function("() => window.__firstRender && window.__firstRender.map !== undefined",
                                   timeout=120_000)
            seen = page.evaluate("window.__firstRender")
            times.append({"kpis_s": seen["kpis"] / 1000, "map_s": seen["map"] / 1000})
            say(f"  first render of the big screen ({'cold cache' if i == 0 else 'warm cache'}):"
                f" KPIs {times[-1]['kpis_s']:.2f} s, map with data {times[-1]['map_s']:.2f} s (software WebGL)")
        browser.close()
    return times


def run(args: argparse.Namespace, tdays: float, now: datetime) -> int:
    from dashboard.auth import seed_demo_users
    from layers.loader import load_demo_layers
    from store.migrate import migrate

    folder = args.keep or Path(tempfile.mkdtemp(prefix="cityops-bench-dash-"))
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o755)
    server = LocalPostgres(folder / "pg", free_port())
    say(f"PostgreSQL in {folder} on port {server.port}")
    server.start()
    try:
        dsn = server.dsn
        migrate(dsn, "auto")
        with psycopg.connect(dsn) as conn:
            loaded = one(conn, "SELECT count(*) FROM devices WHERE device_id LIKE 'b-%%'")[0]
        if not loaded:
            load_demo_layers(dsn)
            with psycopg.connect(dsn) as conn:
                seed_demo_users(conn)
            say(f"loading {args.devices:,} devices × {tdays:g} days × 1 reading/min (vehicles: lon, lat, speed),"
                f" {args.incidents:,} incidents, {args.hotline_per_day:,} hotline tickets/day")
            load_history(dsn, days=args.days, telemetry_days=tdays, incidents=args.incidents,
                         hotline_per_day=args.hotline_per_day, district=args.district or DISTRICT,
                         devices=args.devices, now=now)
        else:
            say("reusing the loaded database (--keep); device_status refreshed")
            mark_devices_seen(dsn, datetime.now(UTC))
        with psycopg.connect(dsn) as conn:
            counts = {t: one(conn, f"SELECT count(*) FROM {t}")[0]
                      for t in ("telemetry", "devices", "incidents", "incident_log", "events")}
            size = one(conn, "SELECT pg_size_pretty(pg_database_size(current_database()))")[0]
        say("rows: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()) + f"; database {size}")
        say("callbacks (server time, in-process, as a logged-in user):")
        rows = measure_callbacks(dsn, args.samples, args.district or DISTRICT)
        patch, base = rows[2], rows[3]
        say(f"  patch vs full rebuild: {base['p95_ms'] / patch['p95_ms']:.1f}× less server time (p95),"
            f" {base['bytes'] / patch['bytes']:.0f}× less payload")
        with dashboard_server(dsn) as url:
            renders = measure_first_render(url)
        print(json.dumps({"rows": counts, "callbacks": rows, "first_render_s": [round(t["map_s"], 2) for t in renders]},
                         ensure_ascii=False), flush=True)
    finally:
        server.stop()
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("command", nargs="?", choices=("run", "load", "render"), default="run")
    ap.add_argument("--dsn", help="load: the database to add history to (migrated, with layers);"
                                  " render: the database to start a dashboard on")
    ap.add_argument("--url", help="render: a running dashboard instead (its demo users)")
    ap.add_argument("--runs", type=int, default=3, help="render: page loads, the first one cold (default 3)")
    ap.add_argument("--days", type=int, default=30, help="days of telemetry and incidents (default 30)")
    ap.add_argument("--telemetry-days", type=float, help="days of telemetry (default: --days; 0 for none)")
    ap.add_argument("--devices", type=int, default=1000, help="devices in the district (load: 0 keeps the demo's)")
    ap.add_argument("--incidents", type=int, default=10_000)
    ap.add_argument("--hotline-per-day", type=int, default=2000)
    ap.add_argument("--district", default=DISTRICT, help="'' for incidents city-wide (load into a demo)")
    ap.add_argument("--keep", type=Path, help="run: keep the database in this folder (and reuse it)")
    ap.add_argument("--samples", type=int, default=40, help="callback calls per measurement")
    args = ap.parse_args(argv)
    tdays = args.days if args.telemetry_days is None else args.telemetry_days
    now = datetime.now(UTC)
    if args.command == "load":
        if not args.dsn:
            ap.error("load needs --dsn")
        load_history(args.dsn, days=args.days, telemetry_days=tdays, incidents=args.incidents,
                     hotline_per_day=args.hotline_per_day, district=args.district or None, devices=args.devices,
                     now=now)
        return 0
    if args.command == "render":
        if not (args.dsn or args.url):
            ap.error("render needs --dsn or --url")
        with contextlib.nullcontext(args.url) if args.url else dashboard_server(args.dsn) as url:
            renders = measure_first_render(url, args.runs)
        print(json.dumps({"first_render": [{k: round(v, 2) for k, v in r.items()} for r in renders]}), flush=True)
        return 0
    return run(args, tdays, now)


if __name__ == "__main__":
    sys.exit(main())
