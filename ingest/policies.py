"""Compression and retention of telemetry: ``python -m ingest policies --compress-after 7d --retain 365d``.

Migration 0003 adds both policies with these defaults on TimescaleDB; this command
replaces them (remove and add, in one transaction) and prints what is in force. Plain
PostgreSQL has neither: the command changes nothing and says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

import psycopg

from store.migrate import current_flavour

DEFAULT_COMPRESS_AFTER = timedelta(days=7)
DEFAULT_RETAIN = timedelta(days=365)
# telemetry_1h re-materializes the last 8 days (readings up to 7 days late are accepted):
# raw data dropped inside that window would empty the hourly aggregate there.
HOURLY_REFRESH_WINDOW = timedelta(days=8)

_INTERVAL = re.compile(r"\s*(\d+)\s*([hdw])\s*")
_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}


class PolicyError(ValueError):
    """A policy setting the system refuses; the message names it."""


def parse_interval(text: str, name: str) -> timedelta:
    """``12h``, ``7d``, ``2w`` → timedelta (no months: their length varies)."""
    m = _INTERVAL.fullmatch(text)
    if not m or int(m[1]) == 0:
        raise PolicyError(f"{name} must look like 12h, 7d or 2w (a positive whole number), got {text!r}")
    return int(m[1]) * _UNITS[m[2]]


@dataclass(frozen=True, slots=True)
class Policies:
    compress_after: timedelta
    retain: timedelta


def validate(p: Policies) -> Policies:
    if p.retain <= HOURLY_REFRESH_WINDOW:
        raise PolicyError(f"--retain must be longer than {HOURLY_REFRESH_WINDOW.days} days, the window"
                          " telemetry_1h refreshes (or the hourly aggregate loses those days)")
    if p.compress_after >= p.retain:
        raise PolicyError("--compress-after must be shorter than --retain")
    return p


def describe(p: Policies) -> str:
    return (f"telemetry chunks are compressed after {_fmt(p.compress_after)}"
            f" and dropped after {_fmt(p.retain)}")


def _fmt(d: timedelta) -> str:
    if d.days and not d.seconds:
        return f"{d.days} days" if d.days != 1 else "1 day"
    return f"{d.total_seconds() / 3600:g} hours"


def current(conn: psycopg.Connection) -> Policies | None:
    """The policies in force, or None on plain PostgreSQL or when one is missing."""
    if current_flavour(conn) != "timescale":
        return None
    rows: dict[str, timedelta] = dict(conn.execute(
        "SELECT proc_name, coalesce(config->>'compress_after', config->>'drop_after')::interval"
        " FROM timescaledb_information.jobs WHERE hypertable_schema = 'public' AND hypertable_name = 'telemetry'"
        " AND proc_name IN ('policy_compression', 'policy_retention')").fetchall())
    if set(rows) != {"policy_compression", "policy_retention"}:
        return None
    return Policies(rows["policy_compression"], rows["policy_retention"])


def apply(conn: psycopg.Connection, wanted: Policies) -> str:
    """Replace both policies; returns the message to print. A no-op on plain PostgreSQL."""
    validate(wanted)
    flavour = current_flavour(conn)
    if flavour != "timescale":
        return (f"this database has the {flavour or 'unmigrated'} schema (no TimescaleDB): compression and"
                " retention policies do not exist here; nothing changed")
    with conn.transaction():
        conn.execute("SELECT remove_compression_policy('telemetry', if_exists => true)")
        conn.execute("SELECT add_compression_policy('telemetry', compress_after => %s)", (wanted.compress_after,))
        conn.execute("SELECT remove_retention_policy('telemetry', if_exists => true)")
        conn.execute("SELECT add_retention_policy('telemetry', drop_after => %s)", (wanted.retain,))
    now = current(conn)
    if now != wanted:
        raise PolicyError(f"policies read back as {now}, expected {wanted}")
    return "TimescaleDB: " + describe(now)
