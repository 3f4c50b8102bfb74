"""A single bad message in a batch never costs the good ones.

The database refuses a whole batch for one message (an event title holding NUL): ingest
halves the batch until that message stands alone, dead-letters it as ``db_rejected`` and
commits every other message. Pure tests of the halving and of which errors count as the
message's fault, the real writer on PostgreSQL, then a running ``python -m ingest``.
"""

from __future__ import annotations

import json
import math
import urllib.request
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import numpy as np
import psycopg
import pytest

from cityops.localserver import LocalMosquitto, free_port
from ingest.batch import UNTAGGED, Codes, build_batch, refused_batch
from ingest.decode import DeviceInfo
from ingest.isolate import refused_by_database, write_isolating
from ingest.writer import WriteResult, prepare_connection, write_batch
from tests.fix_db import one
from tests.fix_system import ServiceFactory, new_database, wait_until
from tests.mqtt_publish import publish


class Refused(Exception):
    pass


def _isolate(items: list[int], bad: set[int]) -> tuple[list[int], list[int], int]:
    written: list[int] = []
    refused: list[int] = []
    calls = 0

    def write(chunk: Sequence[int]) -> int:
        nonlocal calls
        calls += 1
        if bad & set(chunk):
            raise Refused(chunk)
        written.extend(chunk)
        return len(chunk)

    def refuse(item: int, _exc: BaseException) -> int:
        refused.append(item)
        return 0

    total = write_isolating(items, write, refuse, int.__add__, lambda e: isinstance(e, Refused))
    assert total == len(written)
    return written, refused, calls


@pytest.mark.parametrize(("n", "bad"), [(1, {0}), (2, {1}), (5000, {4321}), (5000, {0, 4999}), (7, set()),
                                        (64, set(range(64)))])
def test_halving_writes_every_good_item_once_and_refuses_only_the_bad(n: int, bad: set[int]) -> None:
    written, refused, calls = _isolate(list(range(n)), bad)
    assert written == [i for i in range(n) if i not in bad]  # each good one once, in order
    assert refused == sorted(bad)
    if len(bad) == 1:
        assert calls <= 2 * math.ceil(math.log2(n)) + 1  # 5,000 messages: 26 writes, not 5,000


def test_errors_that_are_not_the_message_fault_propagate() -> None:
    def write(_chunk: Sequence[int]) -> int:
        raise psycopg.OperationalError("connection lost")

    with pytest.raises(psycopg.OperationalError):
        write_isolating([1, 2, 3], write, lambda _i, _e: 0, int.__add__)

    def refuse_all(_chunk: Sequence[int]) -> int:
        raise psycopg.DataError("refused")

    with pytest.raises(psycopg.DataError):  # nothing to blame: up, not an endless split
        write_isolating([], refuse_all, lambda _i, _e: 0, int.__add__)


@pytest.mark.parametrize(
    ("exc", "refused"),
    [
        (psycopg.DataError("PostgreSQL text fields cannot contain NUL (0x00) bytes"), True),  # client side
        (psycopg.errors.UntranslatableCharacter("\\u0000 cannot be converted to text"), True),
        (psycopg.errors.InvalidTextRepresentation("invalid input syntax for type json"), True),
        (psycopg.errors.NumericValueOutOfRange("x"), True),
        (psycopg.errors.CheckViolation("x"), True),
        (psycopg.errors.ProgramLimitExceeded("index row size exceeds maximum"), True),
        (UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed"), True),
        (psycopg.OperationalError("server closed the connection unexpectedly"), False),
        (psycopg.errors.DeadlockDetected("x"), False),
        (psycopg.errors.AdminShutdown("x"), False),
        (psycopg.errors.UndefinedColumn("a migration is missing"), False),  # hold, do not dead-letter all
        (psycopg.errors.InsufficientPrivilege("x"), False),
        (ValueError("a bug"), False),
    ],
)
def test_which_errors_are_the_message_fault(exc: BaseException, refused: bool) -> None:
    assert refused_by_database(exc) is refused


# --- the real writer on PostgreSQL --------------------------------------------------

NOW = datetime.now(UTC).replace(microsecond=0)
GAUGE = DeviceInfo("rain_gauge", 113.0, 25.8, "431002", "431002001", "431002001001")
HOTLINE = "city/chenzhou/event/zw/hotline12345"


def _no_tags(lon: np.ndarray, _lat: np.ndarray) -> list[Codes]:
    return [UNTAGGED] * len(lon)


def _event(i: int, title: str) -> tuple[str, bytes]:
    return HOTLINE, json.dumps({"event_id": f"E{i}", "ts": NOW.isoformat(), "category": "road",
                                "title": title}).encode()


def _reading(i: int) -> tuple[str, bytes]:
    ts = (NOW - timedelta(hours=1) + i * timedelta(seconds=1)).isoformat()
    return "city/chenzhou/telemetry/qx/rain_gauge/rain-1", json.dumps({"ts": ts, "values": {"rain_1h": i % 100}}
                                                                       ).encode()


def test_the_writer_commits_the_good_messages_around_a_refused_one(pg_dsn: str) -> None:
    dsn = new_database(pg_dsn)
    messages = [_reading(i) for i in range(300)] + [_event(i, f"事件{i}") for i in range(50)]
    messages.insert(123, _event(999, "标题\u0000截断"))
    with psycopg.connect(dsn) as conn:
        prepare_connection(conn)

        def write(chunk: Sequence[tuple[str, bytes]]) -> WriteResult:
            return write_batch(conn, build_batch(chunk, city="chenzhou", now=NOW, tagger=_no_tags,
                                                 devices=lambda d: GAUGE if d == "rain-1" else None))

        def refuse(message: tuple[str, bytes], exc: BaseException) -> WriteResult:
            return write_batch(conn, refused_batch(*message, str(exc), city="chenzhou", now=NOW))

        result = write_isolating(messages, write, refuse, WriteResult.__add__)
        assert (result.readings_stored, result.events_stored, result.dead_letters) == (300, 50, 1)
        assert conn.execute("SELECT reason, payload, detail FROM dead_letters").fetchall() == [
            ("db_rejected", messages[123][1], "PostgreSQL text fields cannot contain NUL (0x00) bytes")]
        assert conn.execute("SELECT sum(received), sum(stored), jsonb_agg(rejected) FILTER (WHERE rejected <> '{}')"
                            " FROM ingest_counters").fetchone() == (351, 350, [{"db_rejected": 1}])


# --- a running ingest ---------------------------------------------------------------

def _metric(port: int, name: str) -> float:
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    return sum(float(line.split()[-1]) for line in text.splitlines() if line.startswith(name + " "))


def test_running_ingest_dead_letters_only_the_refused_message(demo_dsn: str, services: ServiceFactory,
                                                             broker: LocalMosquitto) -> None:
    with psycopg.connect(demo_dsn) as conn:
        device_id, dept = one(conn, "SELECT device_id, dept FROM devices WHERE device_type = 'rain_gauge'"
                                       " ORDER BY 1 LIMIT 1")
    topic = f"city/chenzhou/telemetry/{dept}/rain_gauge/{device_id}"
    base = NOW - timedelta(hours=2)
    good = [(topic, {"ts": (base + timedelta(milliseconds=i)).isoformat(), "values": {"rain_1h": 1.5}})
            for i in range(2000)]
    events = [("city/chenzhou/event/zw/iso-hotline", {"event_id": f"iso-{i}", "ts": NOW.isoformat(),
                                                      "category": "road", "title": f"坑洼{i}"}) for i in range(40)]
    bad = ("city/chenzhou/event/zw/iso-hotline",  # json.dumps spells NUL as \u0000
           json.dumps({"event_id": "iso-bad", "ts": NOW.isoformat(), "category": "road", "title": "a\x00b"}))
    messages: list[tuple[str, bytes | str | dict | list]] = [*good[:1000], *events[:20], bad, *events[20:],
                                                            *good[1000:]]

    # Queue everything while ingest is away, so it arrives in one burst and lands in one batch.
    first = services("ingest", demo_dsn, "--client-id", "iso", "--share-group", "iso")
    first.wait_for_log("ingest subscribed")
    first.stop()
    assert publish(broker.port, messages, client_id="pub-iso") == len(messages)
    port = free_port()
    worker = services("ingest", demo_dsn, "--client-id", "iso", "--share-group", "iso", "--max-wait", "2",
                      "--metrics-port", str(port))

    def stored() -> tuple[int, int, int]:
        with psycopg.connect(demo_dsn) as conn:
            return one(
                conn, "SELECT (SELECT count(*) FROM telemetry WHERE device_id = %s AND ts >= %s AND ts < %s),"
                " (SELECT count(*) FROM events WHERE source_system = 'iso-hotline'),"
                " (SELECT count(*) FROM dead_letters WHERE topic = %s)",
                (device_id, base, base + timedelta(seconds=2), bad[0]))

    wait_until("every good message stored and the bad one dead-lettered", lambda: stored() == (2000, 40, 1),
               timeout=60, logs=worker.log)
    with psycopg.connect(demo_dsn) as conn:
        assert conn.execute("SELECT reason, payload FROM dead_letters WHERE topic = %s", (bad[0],)).fetchall() == [
            ("db_rejected", bad[1].encode())]
        assert conn.execute("SELECT received, stored, rejected FROM ingest_counters WHERE source = 'iso-hotline'"
                            ).fetchall() == [(41, 40, {"db_rejected": 1})]
    assert _metric(port, "cityops_ingest_batch_messages_count") == 1, "the bad message shared one batch"
    assert _metric(port, "cityops_ingest_messages_total") == len(messages)
    assert "database refused a message on city/chenzhou/event/zw/iso-hotline" in worker.log()
    assert worker.proc is not None and worker.proc.poll() is None
