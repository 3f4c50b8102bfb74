"""Project-local PostgreSQL and mosquitto: the embedded defaults for the demo and tests.

Both live under one folder of the project (``.run/`` by default), listen on loopback
only, and are started and stopped by these classes, never by the system's service
manager. PostgreSQL refuses to run as root, so as root the cluster belongs to the
``postgres`` OS user that Debian's package creates.
"""

from __future__ import annotations

import logging
import os
import pwd
import random
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Collection
from pathlib import Path

from cityops.credentials import PG_CREDENTIALS, DbCredentials
from cityops.files import write_private
from cityops.localtls import TlsFiles, ensure_server_tls, tls_files
from cityops.processes import stop as stop_process
from cityops.settings import DB_ROLES, OWNER, runtime_role

log = logging.getLogger("cityops.localserver")


class LocalServerError(RuntimeError):
    """A project-local server could not be set up or started; the message says why."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def free_port_range(count: int, low: int = 20000, high: int = 32000) -> int:
    """The first of ``count`` consecutive free loopback ports, below the kernel's ephemeral range (where
    ``free_port`` draws from, so a later ``free_port`` does not land inside the range)."""
    rng = random.Random()
    for _ in range(200):
        base = rng.randrange(low, high - count)
        sockets = []
        try:
            for port in range(base, base + count):
                sock = socket.socket()
                sockets.append(sock)
                sock.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for sock in sockets:
                sock.close()
    raise LocalServerError(f"no {count} consecutive free ports between {low} and {high}")


def isolated_up_env(run_dir: Path) -> dict[str, str]:
    """The environment of an ``up`` of its own beside any other (a test's, a soak's): this process's environment
    without its ``CITYOPS_*`` settings, a run folder and free ports for every embedded server and probe."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CITYOPS_")}
    return env | {"CITYOPS_RUN_DIR": str(run_dir), "CITYOPS_PG_PORT": str(free_port()),
                  "CITYOPS_MQTT_PORT": str(free_port()), "CITYOPS_MQTT_TLS_PORT": str(free_port()),
                  "CITYOPS_DASH_PORT": str(free_port()),
                  "CITYOPS_PROBE_PORT_BASE": str(free_port_range(20))}  # ingest at base+1…, engines at base+11…


def wait_for_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise LocalServerError(f"nothing listens on 127.0.0.1:{port} after {timeout:.0f} s")


def _pg_bindir() -> Path:
    override = os.environ.get("CITYOPS_PG_BIN")
    if override:
        return Path(override)
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parts[-3]))
    if not candidates:
        raise LocalServerError("PostgreSQL server binaries not found: apt-get install postgresql")
    return candidates[-1].parent


class LocalPostgres:
    """A PostgreSQL cluster in ``data_dir`` listening on 127.0.0.1:``port``."""

    def __init__(self, data_dir: Path, port: int) -> None:
        self.data_dir = data_dir
        self.port = port
        self.bindir = _pg_bindir()
        self._owner = "postgres" if os.geteuid() == 0 else None
        self.credentials = DbCredentials(data_dir.parent / PG_CREDENTIALS)

    @property
    def dsn(self) -> str:
        """The owner's URL: migrations, imports, registration (what an administrator runs)."""
        return self.role_dsn(OWNER)

    def role_dsn(self, role: str, database: str = "cityops") -> str:
        """The URL of ``role`` (the owner or one of ``DB_ROLES``) on this server, with its password."""
        return f"postgresql://{role}:{self.credentials.password(role)}@127.0.0.1:{self.port}/{database}"

    def _command(self, *args: str) -> list[str]:
        """A PostgreSQL binary's command line, run as the cluster's owner when that is not us."""
        cmd = [str(self.bindir / args[0]), *args[1:]]
        return ["runuser", "-u", self._owner, "--", *cmd] if self._owner else cmd

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(self._command(*args), capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise LocalServerError(f"{args[0]} failed ({proc.returncode}): {proc.stderr.strip() or proc.stdout}")
        return proc

    def _prepare_dir(self) -> None:
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        if self._owner:
            try:
                pw = pwd.getpwnam(self._owner)
            except KeyError:
                raise LocalServerError("as root the database runs as OS user 'postgres', which is missing") from None
            # The server user must be able to reach its folder through every parent.
            for parent in [self.data_dir.parent, *self.data_dir.parent.parents]:
                mode = parent.stat().st_mode
                if not mode & 0o001:
                    parent.chmod(mode | 0o001)
            self.data_dir.mkdir(exist_ok=True)
            os.chown(self.data_dir, pw.pw_uid, pw.pw_gid)
        else:
            self.data_dir.mkdir(exist_ok=True)
        self.data_dir.chmod(0o700)

    def initialized(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()

    def init(self) -> None:
        self._prepare_dir()
        self._run("initdb", "-D", str(self.data_dir), "-U", OWNER, "--auth=trust", "-E", "UTF8",
                  "--locale=C.UTF-8", "--no-instructions")
        conf = self.data_dir / "postgresql.conf"
        with conf.open("a") as f:
            f.write(
                "\n# cityops embedded defaults\n"
                "listen_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.data_dir}'\n"
                "shared_buffers = '256MB'\n"
                "max_connections = 200\n"
                "timezone = 'UTC'\n"
                "log_timezone = 'UTC'\n"
            )

    def _write_hba(self) -> None:
        # Passwords on TCP for everyone, the owner included. The unix socket lives in the data folder (0700),
        # which only the cluster's OS user and root can enter: it is how this class sets the passwords.
        (self.data_dir / "pg_hba.conf").write_text(
            "# written by cityops (cityops/localserver.py) at every start\n"
            "local all all trust\n"
            "host all all 127.0.0.1/32 scram-sha-256\n"
            "host all all ::1/128 scram-sha-256\n")

    def start(self) -> None:
        if not self.initialized():
            self.init()
        self._write_hba()
        if self.alive():
            self._run("pg_ctl", "-D", str(self.data_dir), "reload")
            log.info("PostgreSQL already running in %s", self.data_dir)
        else:
            self._run("pg_ctl", "-D", str(self.data_dir), "-l", str(self.data_dir / "server.log"),
                      "-o", f"-p {self.port}", "-w", "-t", "60", "start")
        self._ensure_roles_and_database()

    def alive(self) -> bool:
        """Whether the server answers: a postmaster killed with -9 leaves its pid file, and a zombie's pid
        still looks alive to ``pg_ctl status``, so ask the server itself."""
        probe = self._command("pg_isready", "-h", "127.0.0.1", "-p", str(self.port), "-t", "3")
        return subprocess.run(probe, capture_output=True, check=False).returncode == 0

    def running(self) -> bool:
        pid_file = self.data_dir / "postmaster.pid"
        if not pid_file.exists():
            return False
        status = self._command("pg_ctl", "-D", str(self.data_dir), "status")
        return subprocess.run(status, capture_output=True, check=False).returncode == 0

    def _ensure_roles_and_database(self) -> None:
        """The owner's password, the runtime login roles with theirs, and the database; idempotent."""
        import psycopg
        from psycopg import sql

        socket_dsn = f"host={self.data_dir} port={self.port} user={OWNER} dbname=postgres"
        with psycopg.connect(socket_dsn, autocommit=True) as conn:
            for role in (OWNER, *(runtime_role(r) for r in DB_ROLES)):
                if role != OWNER and not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone():
                    conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
                conn.execute(sql.SQL("ALTER ROLE {} LOGIN PASSWORD {}").format(
                    sql.Identifier(role), sql.Literal(self.credentials.password(role))))
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = 'cityops'").fetchone():
                conn.execute("CREATE DATABASE cityops")

    def stop(self, mode: str = "fast") -> None:
        if self.running():
            self._run("pg_ctl", "-D", str(self.data_dir), "-m", mode, "-w", "stop")


class LocalMosquitto:
    """A mosquitto broker with persistence in ``data_dir`` on 127.0.0.1:``port``, and TLS on ``tls_port``.

    The defaults of stock mosquitto lose QoS-1 messages (1,000 queued per client) and
    stall an ack-after-commit consumer (20 in flight); this config lifts both. Nobody connects
    without an account: the password and ACL files are written by ``install`` (rendered from the
    broker_accounts registry by ``ingest.broker_acl``) and re-read on ``reload`` (SIGHUP: no
    restart, connected clients stay, one whose account is gone is disconnected). Each listener
    uses the user name as the client id, so one account cannot take over another's session.
    """

    def __init__(self, data_dir: Path, port: int, tls_port: int | None = None) -> None:
        self.data_dir = data_dir
        self.port = port
        self.tls_port = tls_port
        self.proc: subprocess.Popen[bytes] | None = None
        binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        if not Path(binary).exists():
            raise LocalServerError("mosquitto not found: apt-get install mosquitto")
        self.binary = binary

    @property
    def conf_path(self) -> Path:
        return self.data_dir / "mosquitto.conf"

    @property
    def password_path(self) -> Path:
        return self.data_dir / "passwords"

    @property
    def acl_path(self) -> Path:
        return self.data_dir / "acl"

    @property
    def pid_path(self) -> Path:
        return self.data_dir / "mosquitto.pid"

    @property
    def tls(self) -> TlsFiles:
        return tls_files(self.data_dir / "tls")

    @property
    def gate_path(self) -> Path:
        return self.data_dir / "passwords.gate"

    def write_config(self, passwords: Path | None = None) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        lines = [
            "per_listener_settings false",
            "allow_anonymous false",
            f"password_file {passwords or self.password_path}",
            f"acl_file {self.acl_path}",
            f"pid_file {self.pid_path}",
            "persistence true",
            f"persistence_location {self.data_dir}/",
            "autosave_interval 1",
            "max_queued_messages 10000000",
            "max_inflight_messages 0",
            f"log_dest file {self.data_dir}/mosquitto.log",
            "log_type error",
            "log_type warning",
            "log_type notice",
            f"listener {self.port} 127.0.0.1",
            "use_username_as_clientid true",
        ]
        if self.tls_port is not None:
            tls = ensure_server_tls(self.data_dir / "tls")  # made at the first start, kept after
            lines += [f"listener {self.tls_port} 127.0.0.1", "use_username_as_clientid true",
                      f"cafile {tls.ca_cert}", f"certfile {tls.server_cert}", f"keyfile {tls.server_key}",
                      "tls_version tlsv1.2"]
        if os.environ.get("CITYOPS_MQTT_DEBUG_LOG"):
            lines += ["log_type debug", "log_type information", "log_type subscribe"]
        if os.geteuid() == 0:
            lines.append("user root")  # keep the project-local folder writable; loopback only
        self.conf_path.write_text("\n".join(lines) + "\n")

    def install(self, passwords: str, acl: str) -> None:
        """Replace the password and ACL files, each whole (a reload never reads half a file)."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        write_private(self.password_path, passwords.encode())
        write_private(self.acl_path, acl.encode())

    def reload(self) -> None:
        """SIGHUP: mosquitto re-reads the password and ACL files and keeps every connection and message."""
        if self.proc is not None and self.proc.poll() is None:
            pid = self.proc.pid
        else:  # started by another process (the supervisor): its pid file says which
            running = self.running_pid()
            if running is None:
                raise LocalServerError(f"mosquitto in {self.data_dir} is not running (no live pid in {self.pid_path})")
            pid = running
        try:
            os.kill(pid, signal.SIGHUP)
        except ProcessLookupError:
            raise LocalServerError(f"mosquitto (pid {pid}, {self.data_dir}) is not running") from None

    def running_pid(self) -> int | None:
        """The pid of this folder's broker when one runs (started by another process: ``prepare``)."""
        try:
            pid = int(self.pid_path.read_text().strip())
            os.kill(pid, 0)
        except (OSError, ValueError):
            return None
        return pid

    def alive(self) -> bool:
        """Whether this folder's broker runs (a child killed with -9 is a zombie until waited for)."""
        if self.proc is not None:
            return self.proc.poll() is None
        return self.running_pid() is not None

    def start_gated(self, allowed: Collection[str]) -> None:
        """Start with only the ``allowed`` accounts able to log in; ``open_gate`` lets everyone in.

        mosquitto 2.0.11 does not restore shared subscriptions from its persistence (plain ones it does):
        after a restart, what devices publish before the ingest workers have subscribed again has no
        subscriber and is dropped once acknowledged. Devices kept out until then keep their messages.
        """
        lines = self.password_path.read_text().splitlines() if self.password_path.exists() else []
        write_private(self.gate_path, "".join(f"{line}\n" for line in lines
                                              if line.split(":", 1)[0] in set(allowed)).encode())
        self._start(self.gate_path)

    def open_gate(self) -> None:
        self.write_config()
        self.reload()
        self.gate_path.unlink(missing_ok=True)

    def start(self) -> None:
        self._start(None)

    def _start(self, passwords: Path | None) -> None:
        self.write_config(passwords)
        if not (self.password_path.exists() and self.acl_path.exists()):
            self.install("", "")  # no account yet: nobody may connect until accounts are installed
        if self.running_pid() is not None:  # a second one could not listen, and would delete the pid file
            log.info("mosquitto already running in %s: reloading its configuration", self.data_dir)
            self.reload()
            return
        self.proc = subprocess.Popen([self.binary, "-c", str(self.conf_path)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)
        try:
            wait_for_port(self.port)
            if self.tls_port is not None:
                wait_for_port(self.tls_port)
        except LocalServerError:
            self.stop()
            raise LocalServerError(f"mosquitto did not start; see {self.data_dir}/mosquitto.log") from None

    def stop(self) -> None:
        """Clean shutdown: mosquitto writes its persistence file on SIGTERM. A broker of this folder that
        another process started (``prepare``) is stopped by its pid file's pid."""
        if self.proc is not None:
            stop_process(self.proc, timeout=10)
        elif (pid := self.running_pid()) is not None:
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + 10
            while self.running_pid() is not None and time.monotonic() < deadline:
                time.sleep(0.1)
        self.proc = None

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None
