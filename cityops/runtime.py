"""What every long-running cityops process shares: logging and a clean stop on SIGTERM/SIGINT.

Every record names the component (ingest, alerts, dashboard …) and the worker (which instance of it),
so the logs of several workers on several machines can be read together. ``CITYOPS_LOG_FORMAT=json``
writes one JSON object per line for a log collector; a call's ``extra={"incident_id": …}`` or
``extra={"device_id": …}`` becomes a field of its own there.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
from collections.abc import Callable

from pythonjsonlogger.json import JsonFormatter

LOG_FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(component)s[%(worker)s] %(name)s: %(message)s"
JSON_FIELDS = "%(asctime)s %(levelname)s %(component)s %(worker)s %(name)s %(message)s"


def default_worker() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class _Identity(logging.Filter):
    """Stamps each record with the process's component and worker (a handler filter: records of every
    logger pass the root handler)."""

    def __init__(self, component: str, worker: str) -> None:
        super().__init__()
        self.component = component
        self.worker = worker

    def filter(self, record: logging.LogRecord) -> bool:
        record.component = self.component
        record.worker = self.worker
        return True


def log_handler(component: str, worker: str, log_format: str) -> logging.Handler:
    if log_format not in LOG_FORMATS:
        raise ValueError(f"CITYOPS_LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}, got {log_format!r}")
    handler = logging.StreamHandler()
    handler.addFilter(_Identity(component, worker))
    if log_format == "json":
        handler.setFormatter(JsonFormatter(JSON_FIELDS, rename_fields={"asctime": "time", "levelname": "level",
                                                                       "name": "logger"},
                                           json_ensure_ascii=False))
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    return handler


def setup_logging(component: str = "cityops", worker: str | None = None) -> None:
    level = os.environ.get("CITYOPS_LOG_LEVEL", "INFO").upper()
    handler = log_handler(component, worker or default_worker(), os.environ.get("CITYOPS_LOG_FORMAT", "text"))
    logging.basicConfig(level=level, handlers=[handler], force=True)


def on_stop(stop: Callable[[], None]) -> None:
    """Call ``stop`` on SIGTERM or SIGINT so the process can finish its batch and exit."""

    def handler(_signum: int, _frame: object) -> None:
        stop()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
