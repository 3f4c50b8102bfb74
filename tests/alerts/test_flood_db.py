"""防汛 rules against a real PostgreSQL with the clock in the test's hands: the lines registered with each
station, rainfall summed over hours from the stored readings, and the compound red warning's details."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg

from alerts.evaluate import step
from alerts.rules import load_rules
from tests.alerts.test_db import device, q, write

NOW = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
FLOOD = tuple(r for r in load_rules() if r.category == "flood")


def lines_of(conn: psycopg.Connection, device_id: str) -> dict[str, float]:
    return q(conn, "SELECT attributes->'lines' FROM devices WHERE device_id = %s", device_id)[0][0]


def test_every_level_station_is_registered_with_its_own_lines(conn: psycopg.Connection) -> None:
    rows = q(conn, "SELECT device_type, count(*), count(*) FILTER (WHERE (attributes->'lines'->>'warning')::float"
                   " < (attributes->'lines'->>'guarantee')::float), count(attributes->'lines'->'flood_limit'),"
                   " count(DISTINCT attributes->'lines'->>'warning') FROM devices"
                   " WHERE device_type IN ('river_gauge', 'reservoir_gauge') GROUP BY 1 ORDER BY 1")
    (_r, reservoirs, r_ok, r_limit, _), (_v, rivers, v_ok, v_limit, v_distinct) = rows
    assert reservoirs == r_ok == r_limit == 11  # one per county, each with its 汛限水位
    assert rivers == v_ok and v_limit == 0 and v_distinct > 30  # lines of their own, not one number
    assert q(conn, "SELECT count(*) FROM devices WHERE device_type = 'rain_gauge' AND attributes <> '{}'") == [(0,)]


def test_a_river_over_its_own_warning_line_opens_a_warning_that_names_the_line(conn: psycopg.Connection) -> None:
    river, township, _, _ = device(conn, "river_gauge", 3)
    lines = lines_of(conn, river)
    stage = round(lines["warning"] + 0.25, 2)
    assert stage < lines["guarantee"]
    for m in range(7):
        write(conn, river, "water_level", [(NOW + timedelta(minutes=m), stage)])
        step(conn, FLOOD, NOW + timedelta(minutes=m))
    (level, title, details, incident_title), = q(
        conn, "SELECT w.level, w.title, w.details, i.title FROM warnings w JOIN incidents i ON i.id = w.incident_id"
              " WHERE w.rule_id = 'river_high' AND w.subject = %s", river)
    assert level == 3  # 超警戒 (yellow), not yet 保证
    assert details["line"] == "warning" and details["line_value"] == lines["warning"] and details["value"] == stage
    assert title == incident_title and title.endswith(f"（水位 {stage:.2f} m，超警戒水位 0.25 m）")
    over = round(lines["guarantee"] + 0.1, 2)
    write(conn, river, "water_level", [(NOW + timedelta(minutes=8), over)])
    step(conn, FLOOD, NOW + timedelta(minutes=8))
    write(conn, river, "water_level", [(NOW + timedelta(minutes=14), over)])
    step(conn, FLOOD, NOW + timedelta(minutes=14))
    (level, details), = q(conn, "SELECT level, details FROM warnings WHERE rule_id = 'river_high' AND subject = %s",
                          river)
    assert level == 2 and details["line"] == "guarantee"  # 超保证: orange
    assert q(conn, "SELECT i.township_code FROM incidents i JOIN warnings w ON w.incident_id = i.id"
                   " WHERE w.subject = %s", river) == [(township,)]


def test_three_hours_of_rain_are_summed_from_the_stored_readings(conn: psycopg.Connection) -> None:
    gauge, *_ = device(conn, "rain_gauge", 7)
    start = NOW - timedelta(hours=3)
    rates = [18.0, 19.0, 17.5]  # never 20 mm in one hour, 54.5 mm in three
    for h, rate in enumerate(rates):
        write(conn, gauge, "rain_1h", [(start + timedelta(hours=h, minutes=m), rate) for m in range(5, 65, 5)])
    at = start + timedelta(hours=3)
    step(conn, FLOOD, at)
    rows = q(conn, "SELECT rule_id, level, last_value, details FROM warnings WHERE subject = %s ORDER BY rule_id",
             gauge)
    assert [(r[0], r[1], r[2]) for r in rows] == [("rain_24h", 4, 54.5), ("rain_3h", 2, 54.5)]
    by_rule = {r[0]: r[3] for r in rows}
    assert by_rule["rain_3h"] | {"hours_covered": 3} == by_rule["rain_3h"] and by_rule["rain_3h"]["hours"] == 3
    assert by_rule["rain_24h"]["grade"] == "暴雨" and by_rule["rain_24h"]["hours_covered"] == 3
    (title,), = q(conn, "SELECT title FROM warnings WHERE rule_id = 'rain_24h' AND subject = %s", gauge)
    assert title.endswith("（24小时雨量 54.5 mm，暴雨）")


def test_the_compound_red_warning_names_its_stations_and_values(conn: psycopg.Connection) -> None:
    rain, township, _, _ = device(conn, "rain_gauge", 11)
    river, *_ = device(conn, "river_gauge", 0, township=township)
    lines = lines_of(conn, river)
    write(conn, rain, "rain_1h", [(NOW, 66.0)])
    write(conn, river, "water_level", [(NOW + timedelta(minutes=20), lines["warning"] - 0.01)])
    step(conn, FLOOD, NOW + timedelta(minutes=20))
    assert q(conn, "SELECT count(*) FROM warnings WHERE rule_id = 'flood_compound'") == [(0,)]  # under its line
    stage = round(lines["warning"] + 0.3, 2)
    write(conn, river, "water_level", [(NOW + timedelta(minutes=30), stage)])  # the river rises after the rain
    step(conn, FLOOD, NOW + timedelta(minutes=30))
    (level, details, title, incident_title, incident_level), = q(
        conn, "SELECT w.level, w.details, w.title, i.title, i.level FROM warnings w"
              " JOIN incidents i ON i.id = w.incident_id WHERE w.rule_id = 'flood_compound' AND w.subject = %s",
        f"township:{township}")
    assert level == incident_level == 1
    rain_part, level_part = details["conditions"]
    assert [(s["device_id"], s["value"]) for s in rain_part["stations"]] == [(rain, 66.0)]
    assert [(s["device_id"], s["value"], s["line_value"]) for s in level_part["stations"]] == [
        (river, stage, lines["warning"])]
    names = dict(q(conn, "SELECT device_id, name FROM devices WHERE device_id IN (%s, %s)", rain, river))
    assert incident_title == title
    assert f"{names[rain]} 1小时雨量 66.0 mm" in title
    assert f"{names[river]} 水位 {stage:.2f} m（超警戒水位 0.30 m）" in title
    # An hour on, the rain is out of the window: the next quiet reading clears the open warning.
    write(conn, river, "water_level", [(NOW + timedelta(minutes=95), lines["warning"] - 0.5)])
    step(conn, FLOOD, NOW + timedelta(minutes=95))
    assert q(conn, "SELECT status FROM warnings WHERE rule_id = 'flood_compound' AND subject = %s",
             f"township:{township}") == [("cleared",)]
