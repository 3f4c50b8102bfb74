"""What an alert engine says about itself: its Prometheus figures and its readiness.

Counted here, per engine: evaluation rounds and batches, warnings opened / cleared / re-levelled /
suppressed, incidents opened, whether it is the active leader. Read from the database at each scrape
(the same whichever engine answers): incidents by status, overdue incidents, reminders and escalations
logged, and the evaluation lag (how long the oldest committed ingest batch has waited for evaluation).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager

import psycopg
from prometheus_client import CollectorRegistry, Counter, Gauge
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from alerts.apply import Tally
from alerts.deadlines import overdue_sql
from cityops.probe import Readiness

Connect = Callable[[], AbstractContextManager[psycopg.Connection]]

_LAG_SQL = "SELECT COALESCE(EXTRACT(EPOCH FROM now() - min(created_at)), 0) FROM alert_inbox"


def evaluation_lag_s(conn: psycopg.Connection) -> float:
    row = conn.execute(_LAG_SQL).fetchone()
    return float(row[0]) if row else 0.0


class _FromDatabase(Collector):
    def __init__(self, connect: Connect) -> None:
        self._connect = connect

    def collect(self) -> Iterator[Metric]:
        with self._connect() as conn:
            by_status = GaugeMetricFamily("cityops_alerts_incidents", "incidents by status", labels=["status"])
            for status, n in conn.execute("SELECT status, count(*) FROM incidents GROUP BY status ORDER BY 1"):
                by_status.add_metric([status], n)
            yield by_status
            row = conn.execute(f"SELECT count(*) FROM incidents i WHERE {overdue_sql(now='now()')}").fetchone()
            yield GaugeMetricFamily("cityops_alerts_overdue_incidents", "incidents past the deadline they wait on",
                                    value=row[0] if row else 0)
            pushed = CounterMetricFamily("cityops_alerts_escalations", "reminders and escalations logged",
                                         labels=["action"])
            for action, n in conn.execute("SELECT action, count(*) FROM incident_log"
                                          " WHERE action IN ('remind', 'escalate') GROUP BY action ORDER BY 1"):
                pushed.add_metric([action], n)
            yield pushed
            yield GaugeMetricFamily("cityops_alerts_evaluation_lag_seconds",
                                    "age of the oldest committed ingest batch not yet evaluated",
                                    value=evaluation_lag_s(conn))


class AlertMetrics:
    def __init__(self, connect: Connect) -> None:
        self.registry = r = CollectorRegistry()
        self.rounds = Counter("cityops_alerts_evaluation_rounds", "evaluation transactions that found batches",
                              registry=r)
        self.batches = Counter("cityops_alerts_evaluated_batches", "committed ingest batches evaluated", registry=r)
        self.warnings = Counter("cityops_alerts_warnings", "warning changes by kind", ["change"], registry=r)
        self.incidents_opened = Counter("cityops_alerts_incidents_opened", "incidents opened by this engine",
                                        registry=r)
        self.leader = Gauge("cityops_alerts_leader", "1 while this engine is the active one", registry=r)
        r.register(_FromDatabase(connect))

    def evaluated(self, batches: int, tally: Tally) -> None:
        self.rounds.inc()
        self.batches.inc(batches)
        self.record(tally)

    def record(self, tally: Tally) -> None:
        for change, n in (("opened", tally.opened), ("cleared", tally.cleared), ("relevelled", tally.relevelled),
                          ("suppressed", tally.suppressed)):
            if n:
                self.warnings.labels(change).inc(n)
        self.incidents_opened.inc(tally.incidents)


def readiness(connect: Connect, active: threading.Event, broker_connected: Callable[[], bool]) -> Readiness:
    """Database and broker reachable; ``leader`` says whether this engine is the active one (a standby is
    ready: it takes over when the active one dies)."""
    lag: float | None = None
    try:
        with connect() as conn:
            lag = round(evaluation_lag_s(conn), 3)
        database = True
    except (psycopg.Error, TimeoutError):
        database = False
    return Readiness({"database": database, "broker": broker_connected()},
                     {"leader": active.is_set(), "evaluation_lag_s": lag})
