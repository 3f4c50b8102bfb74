"""The engine behind its data: a pair's readings since the last round judged in order, on a real PostgreSQL.

Readings go in as ingest writes them (``write_batch`` names each pair's new readings in its inbox key) and the
engine's ``step`` claims them with a ``now`` some minutes later, as when it falls behind: a breach between two
quiet readings still opens its warning (and its incident) and clears it, as rounds one reading apart do. A late
reading (older than its device's newest) is not judged on its own, so it cannot reopen a cleared warning, and a
batch queued before ingest named its readings is judged by its newest reading, as before.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import psycopg

from alerts.evaluate import step
from tests.alerts.test_db import GAS, NOW, device, minutes, q, rules, write

LAG = timedelta(minutes=3)  # how far behind the engine is when it claims the batches
# gas_t: 黄色 (3) from 10 %LEL, 橙色 (2) from 20, 红色 (1) from 50; cleared below 5, a downgrade held 10 min.
QUIET_BREACH_QUIET = (2.0, 30.0, 1.0)
TWICE = (2.0, 30.0, 1.0, 60.0, 25.0)  # a breach, cleared, a second one (red, then orange within the hold)


def _warnings(conn: psycopg.Connection, gas: str) -> list[tuple]:
    """The device's warnings in order, what they hold, their occurrences and their incident's level."""
    return q(conn, "SELECT w.status, w.level, w.first_value, w.peak_value, w.last_value,"
                   " (SELECT count(*) FROM warning_occurrences o WHERE o.warning_id = w.id),"
                   " (SELECT i.level FROM incidents i WHERE i.id = w.incident_id)"
                   " FROM warnings w WHERE w.rule_id = 'gas_t' AND w.subject = %s ORDER BY w.id", gas)


def _one_round_per_reading(conn: psycopg.Connection, gas: str, start: datetime, values: tuple[float, ...]) -> None:
    for at, value in minutes(start, *values):
        write(conn, gas, "gas_lel", [(at, value)])
        step(conn, GAS, at)


def test_a_breach_between_quiet_readings_of_one_batch_opens_and_clears_its_warning(conn: psycopg.Connection) -> None:
    behind, in_time = device(conn, "gas_detector", 2)[0], device(conn, "gas_detector", 3)[0]
    readings = minutes(NOW, *QUIET_BREACH_QUIET)
    write(conn, behind, "gas_lel", readings)
    batches, tally = step(conn, GAS, readings[-1][0] + LAG)
    assert batches == 1 and (tally.opened, tally.cleared, tally.incidents) == (1, 1, 1)
    _one_round_per_reading(conn, in_time, NOW, QUIET_BREACH_QUIET)
    assert _warnings(conn, behind) == _warnings(conn, in_time) == [("cleared", 2, 30.0, 30.0, 1.0, 1, 2)]


def test_two_batches_claimed_in_one_round_are_judged_reading_by_reading(conn: psycopg.Connection) -> None:
    behind, in_time = device(conn, "gas_detector", 4)[0], device(conn, "gas_detector", 5)[0]
    readings = minutes(NOW, *TWICE)
    write(conn, behind, "gas_lel", readings[:2])
    write(conn, behind, "gas_lel", readings[2:])
    batches, tally = step(conn, GAS, readings[-1][0] + LAG)
    assert batches == 2 and (tally.opened, tally.cleared) == (2, 1)
    _one_round_per_reading(conn, in_time, NOW, TWICE)
    assert _warnings(conn, behind) == _warnings(conn, in_time) == [
        ("cleared", 2, 30.0, 30.0, 1.0, 1, 2), ("open", 1, 60.0, 60.0, 25.0, 1, 1)]


def test_an_engine_that_keeps_up_judges_each_newest_reading_as_before(conn: psycopg.Connection) -> None:
    # One reading a round: the newest alone decides, with its window (the breach's start from the history).
    gas = device(conn, "gas_detector", 6)[0]
    _one_round_per_reading(conn, gas, NOW, (2.0, 12.0, 25.0, 4.0))
    assert _warnings(conn, gas) == [("cleared", 2, 12.0, 25.0, 4.0, 1, 2)]
    assert q(conn, "SELECT started_at FROM warning_occurrences o JOIN warnings w ON w.id = o.warning_id"
                   " WHERE w.subject = %s", gas) == [(NOW + timedelta(minutes=1),)]


def test_a_batch_queued_before_ingest_named_its_readings_is_judged_by_its_newest(conn: psycopg.Connection) -> None:
    quiet_last, breach_last = device(conn, "gas_detector", 7)[0], device(conn, "gas_detector", 8)[0]
    write(conn, quiet_last, "gas_lel", minutes(NOW, *QUIET_BREACH_QUIET))
    write(conn, breach_last, "gas_lel", minutes(NOW, 2.0, 30.0))
    # the keys as ingest wrote them before this change: [device_id, metric]
    conn.execute("UPDATE alert_inbox SET keys = (SELECT jsonb_agg(jsonb_build_array(e->0, e->1))"
                 " FROM jsonb_array_elements(keys) e)")
    assert q(conn, "SELECT DISTINCT jsonb_array_length(e) FROM alert_inbox, jsonb_array_elements(keys) e") == [(2,)]
    batches, _ = step(conn, GAS, NOW + LAG)
    assert batches == 2
    assert _warnings(conn, quiet_last) == []  # the breach before the newest reading is not seen: the old limit
    assert _warnings(conn, breach_last) == [("open", 2, 30.0, 30.0, 30.0, 1, 2)]


def test_late_readings_do_not_reopen_a_cleared_warning(conn: psycopg.Connection) -> None:
    gas = device(conn, "gas_detector", 9)[0]
    _one_round_per_reading(conn, gas, NOW, (30.0, 31.0, 1.0))  # opened, cleared at NOW + 2 min
    cleared = _warnings(conn, gas)
    assert cleared == [("cleared", 2, 30.0, 31.0, 1.0, 1, 2)]
    late = NOW + timedelta(minutes=1, seconds=10)
    write(conn, gas, "gas_lel", [(late, 60.0)])  # one late breach
    step(conn, GAS, NOW + LAG)
    write(conn, gas, "gas_lel", [(late + timedelta(seconds=10), 55.0), (late + timedelta(seconds=20), 58.0)])
    step(conn, GAS, NOW + LAG)  # several late breaches in one batch
    write(conn, gas, "gas_lel", [(late + timedelta(seconds=30), 70.0), (NOW + LAG, 2.0), (NOW + LAG * 2, 1.5)])
    write(conn, gas, "gas_lel", [(late + timedelta(seconds=40), 65.0)])
    batches, tally = step(conn, GAS, NOW + LAG * 3)  # late breaches with new quiet readings, over two batches
    assert batches == 2 and tally.opened == 0
    assert _warnings(conn, gas) == cleared


GAS_JUMP = GAS + rules('''
[[rule]]
id = "gas_jump"
kind = "rate"
name = "燃气浓度骤升"
category = "production_safety"
device_type = "gas_detector"
metric = "gas_lel"
window_minutes = 1
levels = [{ level = 3, at_least = 20.0 }]
clear_below = 5.0
''')


def test_a_rate_rule_of_a_pair_judged_in_turn_still_judges_its_newest_reading(conn: psycopg.Connection) -> None:
    behind, in_time = device(conn, "gas_detector", 10)[0], device(conn, "gas_detector", 11)[0]
    readings = minutes(NOW, *QUIET_BREACH_QUIET)
    write(conn, behind, "gas_lel", readings)
    step(conn, GAS_JUMP, readings[-1][0] + LAG)
    for at, value in readings:
        write(conn, in_time, "gas_lel", [(at, value)])
        step(conn, GAS_JUMP, at)
    rate = "SELECT status, level, last_value FROM warnings WHERE rule_id = 'gas_jump' AND subject = %s"
    assert q(conn, rate, in_time) == [("cleared", 3, -29.0)]  # +28 in a minute, then −29
    assert q(conn, rate, behind) == []  # the newest alone: −29, nothing open to clear (a known limit)
    assert _warnings(conn, behind) == _warnings(conn, in_time) == [("cleared", 2, 30.0, 30.0, 1.0, 1, 2)]
