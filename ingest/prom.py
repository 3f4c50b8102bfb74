"""Prometheus metrics for one ingest worker: what arrived, what was kept, what was refused and why."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class IngestMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.messages = Counter("cityops_ingest_messages", "MQTT messages committed (stored or dead-lettered)",
                                registry=r)
        self.rows = Counter("cityops_ingest_rows", "rows newly stored", ["table"], registry=r)
        self.duplicates = Counter("cityops_ingest_duplicate_rows", "redelivered rows already stored", registry=r)
        self.rejects = Counter("cityops_ingest_rejects", "messages dead-lettered", ["reason"], registry=r)
        self.batch_size = Histogram("cityops_ingest_batch_messages", "messages per committed batch",
                                    buckets=(1, 10, 100, 500, 1000, 2000, 5000, 10000), registry=r)
        self.commit_seconds = Histogram("cityops_ingest_commit_seconds", "time to write and commit one batch",
                                        buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5), registry=r)
        self.buffer_depth = Gauge("cityops_ingest_buffer_messages", "received messages not yet committed",
                                  registry=r)
        self.database_up = Gauge("cityops_ingest_database_up", "1 while commits succeed, 0 while holding",
                                 registry=r)
        self.database_up.set(1)
        self.lag = Gauge("cityops_ingest_lag_seconds", "age of the oldest received message not yet committed",
                         registry=r)
