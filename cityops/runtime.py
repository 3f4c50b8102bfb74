"""What every long-running cityops process shares: logging and a clean stop on SIGTERM/SIGINT."""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Callable


def setup_logging() -> None:
    level = os.environ.get("CITYOPS_LOG_LEVEL", "INFO").upper()
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def on_stop(stop: Callable[[], None]) -> None:
    """Call ``stop`` on SIGTERM or SIGINT so the process can finish its batch and exit."""

    def handler(_signum: int, _frame: object) -> None:
        stop()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
