"""gunicorn's settings for the dashboard, from cityops.settings like every other process:

    gunicorn -c python:dashboard.gunicorn_conf dashboard.wsgi:server

Workers and threads from CITYOPS_DASH_WORKERS / CITYOPS_DASH_THREADS, the address from CITYOPS_DASH_HOST /
CITYOPS_DASH_PORT. Each worker is a process with its own pool and boundary cache; sessions are signed
cookies and the pages keep their state in the browser, so any worker answers any request. The workers'
metrics are summed through PROMETHEUS_MULTIPROC_DIR (default: a folder of the run folder, emptied at start).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from cityops import settings

_conf = settings.load()
_metrics_dir = Path(os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR",
                                          str(_conf.run_dir / "prometheus" / f"dashboard-{_conf.dash_port}")))

bind = f"{_conf.dash_host}:{_conf.dash_port}"
workers = _conf.dash_workers
worker_class = "gthread"
threads = _conf.dash_threads
timeout = 60  # a worker silent this long is killed and replaced
graceful_timeout = 20
keepalive = 5  # the pages poll every few seconds: keep their connections
proc_name = "cityops-dashboard"
control_socket_disable = True  # one per user by default: two dashboards on one machine would share it


def on_starting(server: Any) -> None:
    """A fresh metrics folder: files of an earlier run's workers would be summed in."""
    shutil.rmtree(_metrics_dir, ignore_errors=True)
    _metrics_dir.mkdir(parents=True, exist_ok=True)


def child_exit(server: Any, worker: Any) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def worker_exit(server: Any, worker: Any) -> None:
    """In the worker that ends: its heartbeat row goes with it (gunicorn replaces workers under new pids)."""
    import sys

    wsgi = sys.modules.get("dashboard.wsgi")
    if wsgi is not None:
        wsgi.heartbeat.stop()
