"""Stopping child processes the same way everywhere: SIGTERM (or the signal asked), a grace period, then
SIGKILL."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Iterable


def stop(proc: subprocess.Popen[bytes], timeout: float = 15.0, sig: int = signal.SIGTERM) -> int:
    """Send ``proc`` ``sig``, wait up to ``timeout`` seconds, kill it if it has not ended; returns its exit code."""
    return stop_all([proc], timeout, sig)[0]


def stop_all(procs: Iterable[subprocess.Popen[bytes]], timeout: float = 15.0,
             sig: int = signal.SIGTERM) -> list[int]:
    """``stop`` for several at once: all are signalled first, so they wind down in parallel within one grace
    period; the exit codes in the order given."""
    procs = list(procs)
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(sig)
    deadline = time.monotonic() + timeout
    for proc in procs:
        try:
            proc.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
    return [proc.wait() for proc in procs]
