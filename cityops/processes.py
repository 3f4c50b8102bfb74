"""Stopping child processes the same way everywhere: SIGTERM (or the signal asked), a grace period, then
SIGKILL; and what a process tree costs (Linux /proc), for the benchmarks that print it."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterable
from pathlib import Path

PAGE = os.sysconf("SC_PAGE_SIZE")
TICKS = os.sysconf("SC_CLK_TCK")


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


def tree(pid: int) -> list[int]:
    """``pid`` and all its descendants."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        for task in Path(f"/proc/{p}/task").glob("*"):
            kids = task / "children"
            if kids.exists():
                todo += [int(k) for k in kids.read_text().split()]
    return out


def rss_and_cpu(pid: int) -> tuple[float, float]:
    """Resident memory (MiB) and CPU seconds used so far of ``pid``'s whole tree."""
    rss = cpu = 0.0
    for p in tree(pid):
        try:
            stat = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        cpu += (int(stat[11]) + int(stat[12])) / TICKS
        rss += int(stat[21]) * PAGE / 2**20
    return rss, cpu
