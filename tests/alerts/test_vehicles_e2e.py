"""危货运输 end to end on real parts: a registered truck publishes over MQTT (position, speed, heading), ingest
tags and stores its track, the engine warns 精准限速 in the town's 60 with the plate, zone, limit and speed in
the warning, and the incident goes to the township where it happened with 交通运输局 as 协办; a terminal's
upload of five hours on the road without a stop becomes a 疲劳驾驶 warning."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg

from cityops.localserver import LocalMosquitto
from tests.alerts.test_loop_e2e import Pipeline, _query, pipeline  # noqa: F401  (the fixture, shared)
from tests.fix_system import wait_until
from tests.mqtt_publish import publish

TOWN = (112.9644, 25.7372)  # 增福街道 (431002006): a 北湖区 street, in the town's 60 zone, outside the core


def _truck(dsn: str, nth: int) -> tuple[str, str, str]:
    """A demo truck of 桂阳县 (each test its own: their tracks must not mix)."""
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT device_id, dept, attributes->>'plate' FROM devices"
                           " WHERE device_type = 'hazmat_vehicle' AND device_id LIKE 'hazmat-431021%%'"
                           " ORDER BY device_id OFFSET %s LIMIT 1", (nth,)).fetchone()
    assert row is not None and row[2], "the demo's trucks are registered with their plates"
    return row


def _fix(ts: datetime, speed: float, where: tuple[float, float] = TOWN) -> dict[str, object]:
    return {"ts": ts.isoformat(), "values": {"speed_kmh": speed, "heading": 90.0}, "lon": where[0], "lat": where[1]}


def test_a_truck_speeding_in_town_warns_with_its_plate_and_goes_to_the_township_and_transport(
        pipeline: Pipeline, broker: LocalMosquitto) -> None:  # noqa: F811
    dsn = pipeline.dsn
    truck, dept, plate = _truck(dsn, 0)
    topic = f"city/chenzhou/telemetry/{dept}/hazmat_vehicle/{truck}"
    now = datetime.now(UTC)
    publish(broker.port, [(topic, [_fix(now - timedelta(seconds=30), 72.0), _fix(now, 75.0)])])
    rows = wait_until("the speeding warning and its incident", lambda: _query(
        dsn, "SELECT w.title, w.level, w.details->>'zone', (w.details->>'limit_kmh')::float, i.category,"
             " i.township_code, i.assist_units, i.status FROM warnings w JOIN incidents i ON i.id = w.incident_id"
             " WHERE w.rule_id = 'hazmat_speeding' AND w.subject = %s", truck), logs=pipeline.logs)
    (title, level, zone, limit, category, township, assists, status), = rows
    assert (level, zone, limit) == (3, "城区道路", 60.0)
    assert plate in title and "城区道路 限速 60 km/h，车速 75.0 km/h" in title
    assert (category, township, assists, status) == ("hazmat", "431002006", ["dept-jtysj"], "dispatched")
    assert _query(dsn, "SELECT count(*) FROM telemetry WHERE device_id = %s AND metric = 'heading'", truck) == [(2,)]

    # Back under the limit: the warning clears (the incident stays for the township to finish).
    publish(broker.port, [(topic, _fix(datetime.now(UTC), 50.0))])
    wait_until("the warning to clear", lambda: _query(
        dsn, "SELECT 1 FROM warnings WHERE rule_id = 'hazmat_speeding' AND subject = %s AND status = 'cleared'",
        truck), logs=pipeline.logs)


def test_five_hours_on_the_road_uploaded_at_once_is_fatigue(pipeline: Pipeline,  # noqa: F811
                                                              broker: LocalMosquitto) -> None:
    dsn = pipeline.dsn
    truck, dept, plate = _truck(dsn, 1)
    topic = f"city/chenzhou/telemetry/{dept}/hazmat_vehicle/{truck}"
    # the upload's newest fix the first of its minute: the engine judges driving time once a minute, then
    now = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(seconds=5)
    if now > datetime.now(UTC):
        now -= timedelta(minutes=1)
    country = (112.70, 25.50)  # outside every zone: 55 km/h is under the 80
    track = [_fix(now - timedelta(seconds=30 * k), 55.0, (country[0] + 0.0005 * (600 - k), country[1]))
             for k in range(600, -1, -1)]
    publish(broker.port, [(topic, track)])
    rows = wait_until("the fatigue warning", lambda: _query(
        dsn, "SELECT w.title, w.level, (w.details->>'driving_minutes')::float, i.assist_units FROM warnings w"
             " JOIN incidents i ON i.id = w.incident_id WHERE w.rule_id = 'hazmat_fatigue' AND w.subject = %s",
        truck), logs=pipeline.logs)
    (title, level, minutes, assists), = rows
    # the engine reads back 4 h 20 min (+ slack) for a rest: it says at least what it saw, past the 4 h
    assert level == 3 and 240 < minutes <= 300 and assists == ["dept-jtysj"]
    assert plate in title and "连续驾驶 4小时" in title and "超过 4 小时未休息 20 分钟" in title
    assert not _query(dsn, "SELECT 1 FROM warnings WHERE rule_id = 'hazmat_speeding' AND subject = %s"
                       " AND status = 'open'", truck)  # 55 km/h in open country
