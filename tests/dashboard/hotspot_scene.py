"""Two 12345 hotspots made the way the live system makes them (ingest's write, the engine's step with the demo's
hotspot rule): six noise complaints in one grid (one across the border to the next grid), five street-vending
complaints in a grid of another township. For the dashboard's hotspot tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg

from alerts.evaluate import step
from alerts.rules import load_rules
from ingest.batch import Batch, TaggedEvent
from ingest.decode import Event, EventIn, ReporterIn
from ingest.writer import prepare_connection, write_batch

M_LON = 1 / 100_400  # about a metre of longitude in 郴州


@dataclass(frozen=True, slots=True)
class Scene:
    noise: int  # the noise hotspot's incident
    vending: int
    noise_township: str
    vending_township: str


def make(dsn: str, prefix: str = "hs") -> Scene:
    rules = tuple(r for r in load_rules() if r.id == "hotline_hotspot")
    now = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    with psycopg.connect(dsn) as conn:
        prepare_connection(conn)
        grids = conn.execute(
            "SELECT DISTINCT ON (substr(r.code, 1, 9)) r.code, r.label_lon, r.label_lat FROM regions r"
            " JOIN boundary_versions v USING (version) WHERE v.active AND r.level = 'grid'"
            " ORDER BY substr(r.code, 1, 9), r.code LIMIT 2").fetchall()
        events = []
        for (grid, lon, lat), complaint, text, n in ((grids[0], "噪音扰民", "夜间工地施工噪音大，影响休息", 6),
                                                     (grids[1], "占道经营", "流动摊贩占用人行道摆摊", 5)):
            for k in range(n):
                body = EventIn(event_id=f"{prefix}-{grid}-{k}", ts=now + timedelta(minutes=k), category="hotline",
                               title=complaint, description=f"{text}（第{k + 1}次）", lon=lon + k * 40 * M_LON,
                               lat=lat, reporter=ReporterIn(name="王建国", phone=f"1390000{k:04d}"))
                events.append(TaggedEvent(Event(body.ts, "zw", "hotline12345", body), grid[:6], grid[:9], grid,
                                          False))
        write_batch(conn, Batch(now, events=events))
        step(conn, rules, now + timedelta(minutes=10))
        ids: dict[str, int] = dict(conn.execute(
            "SELECT details->>'complaint', incident_id FROM warnings WHERE rule_id = 'hotline_hotspot'"
            " AND status = 'open' AND grid_code = ANY(%s)", ([g[0] for g in grids],)).fetchall())
        conn.commit()
    return Scene(ids["噪音扰民"], ids["占道经营"], grids[0][0][:9], grids[1][0][:9])
