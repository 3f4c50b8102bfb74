"""Property: whatever arrives over MQTT, a running ingest keeps going and accounts for every message.

Hypothesis draws lists of messages — valid readings and batches, readings with exactly one
field broken, huge batches with one bad reading, random bytes, random JSON, random topic
segments, oversize payloads, events (some with NUL in their text), status messages — and
publishes them, QoS 1, to a real ``python -m ingest`` on a real mosquitto and PostgreSQL.

Accounting is exact because every message can be recognised: a valid reading has its own
device and time range, an event its own id, a status message its own device id, and a
dead letter keeps the topic and the raw bytes. After each list, every message must be
either stored (all of its rows) or in ``dead_letters`` exactly once, with the predicted
reason where the test can predict it. At the end the per-source counters must add up to
the same totals, and the worker must still be running.
"""

from __future__ import annotations

import json
import math
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import paho.mqtt.client as mqtt
import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cityops.localserver import LocalMosquitto
from cityops.mqtt import new_client
from ingest.decode import CITY_TZ, MAX_PAYLOAD_BYTES
from ingest.metrics import METRICS
from tests.fix_db import one
from tests.fix_mqtt import login
from tests.fix_system import Service, ServiceFactory

CITY = "chenzhou"
MAX_EXAMPLES = 100
MIN_LIST, MAX_LIST = 20, 80  # messages per example: thousands in all
MS = timedelta(milliseconds=1)

# --- what hypothesis draws: small, printable descriptions; the test turns them into messages --------


@dataclass(frozen=True)
class Draft:
    kind: str
    data: tuple[Any, ...] = ()


# Topic segments MQTT can carry (no / + # and no control characters, which mosquitto refuses
# in a topic and answers by dropping the publisher) but ingest's contract may not accept.
_segment_chars = st.characters(blacklist_categories=("Cc", "Cs", "Cn"), blacklist_characters="/+#:")
segments = st.one_of(st.text(_segment_chars, max_size=70), st.from_regex(r"[a-z0-9_.-]{1,8}", fullmatch=True))
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner, max_size=5),
    max_leaves=8,
)
metric_names = st.sampled_from(sorted(METRICS))
TS_STYLES = ("utc", "offset", "naive", "epoch_ms")


@st.composite
def valid_values(draw: st.DrawFn) -> dict[str, float]:
    names = draw(st.lists(metric_names, min_size=1, max_size=4, unique=True))
    return {n: draw(st.floats(METRICS[n].low, METRICS[n].high, allow_nan=False)) for n in names}


@st.composite
def valid(draw: st.DrawFn) -> Draft:
    batch = draw(st.integers(1, 5))
    readings = tuple(draw(valid_values()) for _ in range(batch))
    moving = draw(st.booleans()) and (draw(st.floats(-180, 180)), draw(st.floats(-90, 90)))
    return Draft("valid", (draw(st.integers(0, 10_000)), readings, moving, draw(st.sampled_from(TS_STYLES)),
                           draw(st.booleans())))


BROKEN = {  # one field broken → the reason decode must give
    "no_ts": "bad_schema", "ts_garbage": "bad_schema", "ts_future": "bad_timestamp", "ts_past": "bad_timestamp",
    "ts_extreme": "bad_timestamp",
    "out_of_range": "out_of_range", "nan": "out_of_range", "value_text": "bad_schema",
    "unknown_metric": "unknown_metric", "extra_field": "bad_schema", "no_values": "bad_schema",
    "unknown_device": "unknown_device", "lon_out_of_range": "bad_schema", "truncated": "not_json",
    "too_many_values": "bad_schema", "bad_segment": "bad_topic",
}
TS_GARBAGE = ["yesterday", "", "2026-13-45T00:00:00", True, None, [], {}, 1e300,
              float("inf"), -1e20]
# Well-formed, but at the ends of what datetime holds: year 0 once in UTC, year 10000 once in UTC.
TS_EXTREME = ["0001-01-01T00:00:00", "9999-12-31T23:59:59-08:00"]


@st.composite
def broken(draw: st.DrawFn) -> Draft:
    how = draw(st.sampled_from(sorted(BROKEN)))
    metric = draw(metric_names)
    m = METRICS[metric]
    extra: Any = None
    if how == "ts_garbage":
        extra = draw(st.sampled_from(TS_GARBAGE))
    elif how == "ts_extreme":
        extra = draw(st.sampled_from(TS_EXTREME))
    elif how == "ts_future":
        extra = draw(st.floats(1, 24 * 365 * 1000))  # hours ahead, up to year ~3000
    elif how == "ts_past":
        extra = draw(st.floats(7.01, 365 * 1500))  # days back
    elif how == "out_of_range":
        delta = draw(st.floats(1, 1e300))
        extra = m.high + delta if draw(st.booleans()) else m.low - delta
    elif how == "nan":
        extra = draw(st.sampled_from(["NaN", "Infinity", "-Infinity", "1e400"]))
    elif how == "value_text":
        extra = draw(st.sampled_from(["heavy", "", "12,5", "null", "[]"]))
    elif how == "unknown_metric":
        extra = draw(st.text(max_size=20).filter(lambda s: s not in METRICS))
    elif how == "truncated":
        extra = draw(st.floats(0, 0.999))  # where to cut the valid JSON
    elif how == "bad_segment":
        extra = draw(st.text(_segment_chars, min_size=1, max_size=70).filter(lambda s: not s.isascii()))
    return Draft("broken", (how, draw(st.integers(0, 10_000)), metric, draw(valid_values()), extra))


@st.composite
def huge_batch(draw: st.DrawFn) -> Draft:
    size = draw(st.integers(200, 2000))
    bad_at = draw(st.integers(0, size - 1))
    bad = draw(st.sampled_from(["none", "out_of_range", "unknown_metric", "value_text", "ts_future"]))
    return Draft("huge", (draw(st.integers(0, 10_000)), size, bad_at, bad))


@st.composite
def random_payload(draw: st.DrawFn) -> Draft:
    payload = draw(st.one_of(
        st.binary(max_size=300),
        json_values.map(lambda v: json.dumps(v).encode()),
        st.fixed_dictionaries({"ts": json_values, "values": st.dictionaries(metric_names | st.text(max_size=8),
                                                                              json_values, max_size=3)},
                              optional={"lon": json_values, "lat": json_values}).map(lambda v: json.dumps(v).encode()),
    ))
    where = draw(st.sampled_from(["telemetry", "event", "random_telemetry", "random_event"]))
    segs = (draw(segments), draw(segments), draw(segments))
    return Draft("random", (where, draw(st.integers(0, 10_000)), segs, payload))


@st.composite
def event(draw: st.DrawFn) -> Draft:
    body: dict[str, Any] = {
        "category": draw(st.text(min_size=1, max_size=64)),
        # Sometimes with NUL: valid JSON and valid to pydantic, but PostgreSQL refuses it.
        "title": draw(st.text(min_size=1, max_size=200) | st.builds("{}\x00{}".format, st.text(max_size=99),
                                                                       st.text(max_size=99))),
    }
    if draw(st.booleans()):
        body["description"] = draw(st.text(max_size=300))
    if draw(st.booleans()):
        body["lon"], body["lat"] = draw(st.floats(112.0, 114.5)), draw(st.floats(24.5, 26.8))
    if draw(st.booleans()):
        body["level"] = draw(st.integers(1, 4))
    broken_how = draw(st.sampled_from([None, None, None, "no_title", "level_5", "long_title", "old", "extra"]))
    return Draft("event", (draw(st.sampled_from(["ga/police110", "zw/hotline12345", "yj/safety"])), body,
                           broken_how))


@st.composite
def status(draw: st.DrawFn) -> Draft:
    payload = draw(st.one_of(
        st.sampled_from([b"online", b"offline", b" ONLINE\n", b"1", b"0", b"true", b"false", b'{"online": true}',
                         b'{"online":false}', b"maybe", b""]),
        st.binary(max_size=20),
    ))
    return Draft("status", (draw(st.sampled_from(["", "x"]) | segments), payload))


@st.composite
def oversize(draw: st.DrawFn) -> Draft:
    return Draft("oversize", (draw(st.sampled_from(["telemetry", "event", "status"])),
                              draw(st.integers(MAX_PAYLOAD_BYTES + 1, MAX_PAYLOAD_BYTES + 2_000))))


_common = st.one_of(valid(), broken(), random_payload(), event(), status())
_rare = st.one_of(huge_batch(), oversize())  # each up to 256 KB: a few per example keep the test quick
drafts = st.integers(0, 24).flatmap(lambda i: _rare if i == 0 else _common)

# --- turning drafts into messages with unique markers -------------------------------------------------


@dataclass(frozen=True)
class Sent:
    topic: str
    payload: bytes
    expect: str  # "stored", "dead" or "either"
    reason: str | None = None  # for "dead": the reason decode must give (None: any)
    telemetry: tuple[str, datetime, datetime, int] | None = None  # device, ts from, ts to, rows when stored
    event_id: str | None = None
    status_device: str | None = None

    def describe(self) -> str:
        return f"{self.expect}/{self.reason} {self.topic!r} {self.payload[:120]!r}"


@dataclass
class World:
    devices: list[tuple[str, str, str]]  # device id, dept, device type
    base: datetime
    cursor: int = 0  # milliseconds after base already handed out
    serial: int = 0
    sent: list[Sent] = field(default_factory=list)

    def span(self, n: int) -> tuple[datetime, int]:
        start = self.cursor
        self.cursor += n
        return self.base + start * MS, start

    def next_id(self) -> int:
        self.serial += 1
        return self.serial


def _ts(at: datetime, style: str) -> str | int:
    match style:
        case "utc":
            return at.isoformat()
        case "offset":
            return at.astimezone(CITY_TZ).isoformat()
        case "naive":
            return at.astimezone(CITY_TZ).replace(tzinfo=None).isoformat()
        case _:
            return round(at.timestamp() * 1000)


def _telemetry_topic(world: World, pick: int) -> tuple[str, str]:
    device_id, dept, device_type = world.devices[pick % len(world.devices)]
    return f"city/{CITY}/telemetry/{dept}/{device_type}/{device_id}", device_id


def _valid(world: World, d: Draft) -> Sent:
    pick, readings, moving, style, as_list = d.data
    topic, device_id = _telemetry_topic(world, pick)
    start, _ = world.span(len(readings))
    items = []
    for i, values in enumerate(readings):
        item: dict[str, Any] = {"ts": _ts(start + i * MS, style), "values": values}
        if moving:
            item["lon"], item["lat"] = moving
        items.append(item)
    body = items if as_list or len(items) > 1 else items[0]
    rows = sum(len(set(v) | ({"lon", "lat"} if moving else set())) for v in readings)  # a track is stored too
    return Sent(topic, json.dumps(body).encode(), "stored",
                telemetry=(device_id, start, start + len(readings) * MS, rows))


def _broken(world: World, d: Draft) -> Sent:
    how, pick, metric, values, extra = d.data
    topic, device_id = _telemetry_topic(world, pick)
    start, _ = world.span(1)
    item: dict[str, Any] = {"ts": start.isoformat(), "values": dict(values)}
    raw: str | None = None
    match how:
        case "no_ts":
            del item["ts"]
        case "ts_garbage" | "ts_extreme":
            item["ts"] = extra
        case "ts_future":
            item["ts"] = (world.base + timedelta(days=1, hours=extra)).isoformat()
        case "ts_past":
            item["ts"] = (world.base - timedelta(days=extra)).isoformat()
        case "out_of_range":
            item["values"][metric] = extra
        case "nan":
            item["values"] = {}
            raw = json.dumps(item).replace('"values": {}', f'"values": {{"{metric}": {extra}}}')
        case "value_text":
            item["values"][metric] = extra
        case "unknown_metric":
            item["values"][extra] = 1.0
        case "extra_field":
            item["unit"] = "mm"
        case "no_values":
            item["values"] = {}
        case "unknown_device":
            topic = topic.rsplit("/", 1)[0] + f"/ghost-{world.next_id()}"
        case "lon_out_of_range":
            item["lon"], item["lat"] = 181.0, 25.0
        case "truncated":
            full = json.dumps(item, ensure_ascii=False).encode()
            payload = full[: math.floor(extra * (len(full) - 1))]
            return Sent(topic, payload, "dead", "not_json", telemetry=(device_id, start, start + MS, 0))
        case "too_many_values":
            item["values"] = {f"m{i}": 1.0 for i in range(65)}
        case "bad_segment":
            parts = topic.split("/")
            parts[3] = extra
            topic = "/".join(parts)
    payload = (raw if raw is not None else json.dumps(item)).encode()
    return Sent(topic, payload, "dead", BROKEN[how], telemetry=(device_id, start, start + MS, 0))


def _huge(world: World, d: Draft) -> Sent:
    pick, size, bad_at, bad = d.data
    topic, device_id = _telemetry_topic(world, pick)
    start, _ = world.span(size)
    items: list[dict[str, Any]] = [{"ts": (start + i * MS).isoformat(), "values": {"water_level": i % 3000}}
                                   for i in range(size)]
    reason = {"none": None, "out_of_range": "out_of_range", "unknown_metric": "unknown_metric",
              "value_text": "bad_schema", "ts_future": "bad_timestamp"}[bad]
    match bad:
        case "out_of_range":
            items[bad_at]["values"]["water_level"] = 1e6
        case "unknown_metric":
            items[bad_at]["values"]["water_lvl"] = 1.0
        case "value_text":
            items[bad_at]["values"]["water_level"] = "high"
        case "ts_future":
            items[bad_at]["ts"] = (world.base + timedelta(days=3)).isoformat()
    payload = json.dumps(items, separators=(",", ":")).encode()
    if len(payload) > MAX_PAYLOAD_BYTES:
        reason = "too_large"
    span = (device_id, start, start + size * MS, size)
    return Sent(topic, payload, "dead", reason, telemetry=span) if reason else Sent(topic, payload, "stored",
                                                                                 telemetry=span)


def _random(world: World, d: Draft) -> Sent:
    where, pick, segs, payload = d.data
    match where:
        case "telemetry":
            topic, _ = _telemetry_topic(world, pick)
        case "event":
            topic = f"city/{CITY}/event/zw/hotline12345"
        case "random_telemetry":  # never a registered device: the id gets a ':' suffix
            topic = f"city/{CITY}/telemetry/{segs[0]}/{segs[1]}/{segs[2]}:{world.next_id()}"
        case _:
            topic = f"city/{CITY}/event/{segs[0]}/{segs[1]}"
    return Sent(topic, payload, "dead")


def _event(world: World, d: Draft) -> Sent:
    source, body, broken_how = d.data
    event_id = f"pe-{world.next_id()}"
    at, _ = world.span(1)
    doc = {"event_id": event_id, "ts": at.isoformat(), **body}
    reason = None
    match broken_how:
        case "no_title":
            del doc["title"]
            reason = "bad_schema"
        case "level_5":
            doc["level"] = 5
            reason = "bad_schema"
        case "long_title":
            doc["title"] = "长" * 201
            reason = "bad_schema"
        case "old":
            doc["ts"] = (world.base - timedelta(days=30)).isoformat()
            reason = "bad_timestamp"
        case "extra":
            doc["severity"] = "high"
            reason = "bad_schema"
    if reason is None and any("\x00" in str(v) for v in doc.values()):
        reason = "db_rejected"  # valid JSON that PostgreSQL refuses: isolated, not the whole batch
    payload = json.dumps(doc).encode()
    topic = f"city/{CITY}/event/{source}"
    return Sent(topic, payload, "dead", reason, event_id=event_id) if reason else Sent(
        topic, payload, "stored", event_id=event_id)


def _status(world: World, d: Draft) -> Sent:
    seg, payload = d.data
    device = f"{seg}:{world.next_id()}"  # unique, and a valid id when seg is
    return Sent(f"city/{CITY}/status/{device}", payload, "either", status_device=device)


def _oversize(world: World, d: Draft) -> Sent:
    where, size = d.data
    topic = {"telemetry": _telemetry_topic(world, 0)[0], "event": f"city/{CITY}/event/zw/hotline12345",
             "status": f"city/{CITY}/status/big:{world.next_id()}"}[where]
    return Sent(topic, b"{" + b" " * (size - 2) + b"}", "dead", "too_large")


MAKERS = {"valid": _valid, "broken": _broken, "huge": _huge, "random": _random, "event": _event,
          "status": _status, "oversize": _oversize}

# --- the running system ---------------------------------------------------------------------------------


class Publisher:
    def __init__(self, port: int) -> None:
        address = login(port, "prop-pub")  # a bridge account: any telemetry, event and status topic
        self.client = new_client(address, "prop-pub")
        self.client.max_inflight_messages_set(1000)
        self.client.connect(address.host, address.port)
        self.client.loop_start()

    def send(self, messages: list[Sent]) -> None:
        infos = []
        for m in messages:
            info = self.client.publish(m.topic, m.payload, qos=1)
            assert info.rc == mqtt.MQTT_ERR_SUCCESS, f"publish failed: {mqtt.error_string(info.rc)} {m.describe()}"
            infos.append(info)
        for info in infos:
            info.wait_for_publish(timeout=30)
            assert info.is_published()

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


@dataclass
class Observed:
    dead: list[tuple[str, bytes, str]]  # topic, payload, reason of new dead letters
    stored: list[bool]  # per message: all its rows (or its event, its status row) are there
    partial: list[int]  # per message: telemetry rows found (to catch a half-stored message)


class Ledger:
    """Reads what ingest did with a list of messages."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self.conn = conn
        self.last_dead_id = self._max_dead_id()

    def _max_dead_id(self) -> int:
        return int(one(self.conn, "SELECT coalesce(max(id), 0) FROM dead_letters")[0])

    def observe(self, sent: list[Sent]) -> Observed:
        c = self.conn
        dead = c.execute("SELECT topic, payload, reason FROM dead_letters WHERE id > %s ORDER BY id",
                         (self.last_dead_id,)).fetchall()
        spans = [(i, *m.telemetry[:3]) for i, m in enumerate(sent) if m.telemetry]
        rows = dict(c.execute(
            "SELECT s.i, (SELECT count(*) FROM telemetry t WHERE t.device_id = s.d AND t.ts >= s.lo AND t.ts < s.hi)"
            " FROM unnest(%s::int[], %s::text[], %s::timestamptz[], %s::timestamptz[]) AS s(i, d, lo, hi)",
            [list(col) for col in zip(*spans, strict=True)] if spans else [[], [], [], []]).fetchall())
        events = {r[0] for r in c.execute("SELECT event_id FROM events WHERE event_id = ANY(%s)",
                                          ([m.event_id for m in sent if m.event_id],))}
        statuses = {r[0] for r in c.execute("SELECT device_id FROM device_status WHERE device_id = ANY(%s)",
                                            ([m.status_device for m in sent if m.status_device],))}
        stored = []
        for i, m in enumerate(sent):
            if m.telemetry:
                stored.append(m.telemetry[3] > 0 and rows.get(i, 0) == m.telemetry[3])
            elif m.event_id:
                stored.append(m.event_id in events)
            elif m.status_device:
                stored.append(m.status_device in statuses)
            else:
                stored.append(False)
        return Observed([(t, bytes(p), r) for t, p, r in dead], stored, [rows.get(i, 0) for i in range(len(sent))])

    def settle(self, sent: list[Sent], worker: Service, timeout: float = 30.0) -> Observed:
        deadline = time.monotonic() + timeout
        while True:
            seen = self.observe(sent)
            if len(seen.dead) + sum(seen.stored) >= len(sent):
                self.last_dead_id = self._max_dead_id()
                return seen
            assert worker.proc is not None and worker.proc.poll() is None, f"ingest died:\n{worker.log()[-5000:]}"
            if time.monotonic() > deadline:
                missing = [m.describe() for m, s in zip(sent, seen.stored, strict=True)
                           if not s and (m.topic, m.payload) not in {(t, p) for t, p, _ in seen.dead}]
                raise AssertionError(f"{len(missing)} of {len(sent)} messages unaccounted after {timeout:.0f} s: "
                                     f"{missing[:5]}\n{worker.log()[-3000:]}")
            time.sleep(0.03)


def _check(sent: list[Sent], seen: Observed) -> None:
    assert len(seen.dead) + sum(seen.stored) == len(sent), "a message counted twice (stored and dead-lettered?)"
    unstored = Counter((m.topic, m.payload) for m, s in zip(sent, seen.stored, strict=True) if not s)
    assert Counter((t, p) for t, p, _ in seen.dead) == unstored, "dead letters differ from the messages not stored"
    reasons = {(t, p): r for t, p, r in seen.dead}
    for m, stored, rows in zip(sent, seen.stored, seen.partial, strict=True):
        if m.expect == "stored":
            assert stored, f"not stored: {m.describe()} → {reasons.get((m.topic, m.payload))}"
        elif m.expect == "dead":
            assert not stored and rows == 0, f"stored but should be dead: {m.describe()}"
            got = reasons[(m.topic, m.payload)]
            assert m.reason is None or got == m.reason, f"reason {got}, expected {m.reason}: {m.describe()}"


# --- the test -------------------------------------------------------------------------------------------


@pytest.fixture
def world(demo_dsn: str) -> World:
    with psycopg.connect(demo_dsn) as conn:
        devices = conn.execute("SELECT device_id, dept, device_type FROM devices ORDER BY device_id").fetchall()
    return World(devices, datetime.now(UTC).replace(microsecond=0) - timedelta(days=1))


@pytest.fixture
def publisher(broker: LocalMosquitto) -> Iterator[Publisher]:
    pub = Publisher(broker.port)
    yield pub
    pub.close()


def test_running_ingest_accounts_for_every_random_message(demo_dsn: str, services: ServiceFactory, world: World,
                                                         publisher: Publisher) -> None:
    worker = services("ingest", demo_dsn, "--client-id", "prop", "--share-group", "prop", "--max-wait", "0.05")
    worker.wait_for_log("ingest subscribed")
    started = time.monotonic()
    with psycopg.connect(demo_dsn, autocommit=True) as conn:
        ledger = Ledger(conn)

        @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
        @given(st.lists(drafts, min_size=MIN_LIST, max_size=MAX_LIST))
        def publish_and_account(batch: list[Draft]) -> None:
            sent = [MAKERS[d.kind](world, d) for d in batch]
            world.sent.extend(sent)
            publisher.send(sent)
            _check(sent, ledger.settle(sent, worker))

        publish_and_account()

        # The counters, committed with each batch, add up to the same totals.
        received, rejected_json, dead, rows, events = one(conn,
            "SELECT (SELECT sum(received) FROM ingest_counters), (SELECT jsonb_agg(rejected) FROM ingest_counters),"
            " (SELECT count(*) FROM dead_letters), (SELECT count(*) FROM telemetry), (SELECT count(*) FROM events)"
        )
        stored_by_kind = dict(conn.execute("SELECT kind, sum(stored) FROM ingest_counters GROUP BY kind").fetchall())
    rejected = sum((Counter(r) for r in rejected_json), Counter())
    elapsed = time.monotonic() - started
    assert received == len(world.sent)
    assert sum(rejected.values()) == dead
    assert stored_by_kind.get("telemetry", 0) == rows and stored_by_kind.get("event", 0) == events
    assert worker.proc is not None and worker.proc.poll() is None, "ingest is still running"
    assert "Traceback" not in worker.log() and "decode_error" not in rejected
    readings = sum(m.telemetry[3] for m in world.sent if m.telemetry and m.expect == "stored")
    kinds = Counter(m.expect for m in world.sent)
    print(f"\n{len(world.sent)} messages {dict(kinds)} ({readings} readings stored, {dead} dead-lettered)"
          f" in {elapsed:.1f} s; reasons: {dict(sorted(rejected.items()))}")
