"""Stopping a child process the same way everywhere: SIGTERM (or the signal asked), a grace period, then
SIGKILL."""

from __future__ import annotations

import signal
import subprocess


def stop(proc: subprocess.Popen[bytes], timeout: float = 15.0, sig: int = signal.SIGTERM) -> int:
    """Send ``proc`` ``sig``, wait up to ``timeout`` seconds, kill it if it has not ended; returns its exit code."""
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
    return proc.wait()
