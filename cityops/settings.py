"""Settings read once from the environment; every process uses the same names.

Unset variables mean "embedded defaults": a project-local PostgreSQL and mosquitto
under ``.run/`` on loopback ports. Production points them elsewhere.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Database accounts. The owner runs migrations and owns every table (imports and registration run as it
# too: they are an administrator's work). Each long-running process connects as a runtime role of its
# own, with only the grants it needs (store/migrations/0008_roles.sql) and owning nothing.
OWNER = "cityops"
DB_ROLES = ("ingest", "alerts", "dashboard")
MQTT_CREDENTIALS = "mqtt/credentials.json"  # the embedded broker's accounts' passwords, in the run folder
DEMO_SECRET_KEY = "cityops-demo-secret-change-me"  # a production start refuses it (dashboard/production.py)


def runtime_role(name: str) -> str:
    if name not in DB_ROLES:
        raise SettingsError(f"no database role for {name!r}: one of {', '.join(DB_ROLES)}")
    return f"cityops_{name}"


class SettingsError(ValueError):
    """A setting has a value the system cannot run with."""


@dataclass(frozen=True, slots=True)
class MqttAddress:
    host: str
    port: int
    username: str | None = None
    password: str | None = None
    tls: bool = False  # mqtts://: the broker is verified against ca_file, or the system's CAs
    ca_file: str | None = None

    @classmethod
    def parse(cls, url: str, ca_file: str | None = None) -> MqttAddress:
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "tcp", "mqtts", "ssl") or not parts.hostname:
            raise SettingsError(f"CITYOPS_MQTT_URL must look like mqtt://host:1883 or mqtts://host:8883, got {url!r}")
        tls = parts.scheme in ("mqtts", "ssl")
        return cls(parts.hostname, parts.port or (8883 if tls else 1883), parts.username, parts.password, tls,
                   ca_file)


@dataclass(frozen=True, slots=True)
class Settings:
    run_dir: Path
    database_url: str | None  # None: start the embedded PostgreSQL
    mqtt_url: str | None  # None: start the embedded mosquitto
    pg_port: int
    mqtt_port: int
    mqtt_tls_port: int  # the embedded broker's TLS listener
    mqtt_ca: str | None  # CITYOPS_MQTT_CA: the CA an mqtts:// broker is verified against
    mqtt_credentials: Path  # account → password (JSON), for clients whose CITYOPS_MQTT_URL names no user
    dash_host: str
    dash_port: int
    dash_workers: int  # gunicorn worker processes of the dashboard
    dash_threads: int  # threads per worker (the pages' polls are short and mostly wait on the database)
    probe_host: str  # where ingest workers and alert engines serve /healthz, /readyz, /metrics
    probe_port_base: int  # `up` gives its ingest workers base+1, base+2 … and its alert engines base+11 …
    city: str
    timescale: str  # auto | require | off
    secret_key: str
    language: str
    near_boundary_m: int  # a point this close to a township border is flagged for the dispatcher to confirm
    history_days: int  # days of simulated past a new demo database starts with (0: none)
    role_urls: dict[str, str]  # CITYOPS_<ROLE>_DATABASE_URL per runtime role, where set
    dashboard_read_url: str | None  # CITYOPS_DASHBOARD_READ_URL: a read replica for the pages that only read
    demo: bool  # CITYOPS_DEMO=1 (set by `up`): demo secrets allowed; otherwise a production start refuses them
    session_idle_min: int  # a dashboard session with no request for this long ends
    session_max_hours: int  # and any session this old (one duty shift)

    @property
    def embedded_db(self) -> bool:
        return self.database_url is None

    @property
    def embedded_broker(self) -> bool:
        return self.mqtt_url is None

    def dsn(self, role: str | None = None) -> str:
        """The owner's URL (``role`` None), or the URL a runtime process connects with.

        Production sets ``CITYOPS_<ROLE>_DATABASE_URL`` per process (a runtime role without one falls
        back to ``CITYOPS_DATABASE_URL``); the embedded server's passwords are in the run folder.
        """
        if role is not None:
            runtime_role(role)  # a typo fails here, not as a login error
            if role in self.role_urls:
                return self.role_urls[role]
        if self.database_url:
            return self.database_url
        from cityops.credentials import PG_CREDENTIALS, DbCredentials  # the embedded server's file

        name = OWNER if role is None else runtime_role(role)
        password = DbCredentials(self.run_dir / PG_CREDENTIALS).password(name)
        return f"postgresql://{name}:{password}@127.0.0.1:{self.pg_port}/cityops"

    def mqtt(self, account: str | None = None) -> MqttAddress:
        """The broker; with ``account``, logged in as it: as the URL's user when the URL names one, else
        with the account's password from ``mqtt_credentials`` (the embedded broker's are in the run folder)."""
        address = (MqttAddress.parse(self.mqtt_url, self.mqtt_ca) if self.mqtt_url
                   else MqttAddress("127.0.0.1", self.mqtt_port))
        if account is None or address.username:
            return address
        from cityops.mqtt import read_credentials  # paho is imported only by the processes that use MQTT

        password = read_credentials(self.mqtt_credentials).get(account)
        if password is None:
            raise SettingsError(f"no MQTT password for account {account!r} in {self.mqtt_credentials}")
        return replace(address, username=account, password=password)


def _int(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name, "")
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from None


def _positive(env: dict[str, str], name: str, default: int) -> int:
    value = _int(env, name, default)
    if value <= 0:
        raise SettingsError(f"{name} must be a positive integer, got {value}")
    return value


def load(env: dict[str, str] | None = None) -> Settings:
    env = dict(os.environ if env is None else env)
    timescale = env.get("CITYOPS_TIMESCALE", "auto")
    if timescale not in ("auto", "require", "off"):
        raise SettingsError(f"CITYOPS_TIMESCALE must be auto, require or off, got {timescale!r}")
    language = env.get("CITYOPS_LANG", "zh")
    if language not in ("zh", "en"):
        raise SettingsError(f"CITYOPS_LANG must be zh or en, got {language!r}")
    if env.get("CITYOPS_MQTT_URL"):
        MqttAddress.parse(env["CITYOPS_MQTT_URL"])  # refuse a bad URL at start, not at first use
    run_dir = Path(env.get("CITYOPS_RUN_DIR") or PROJECT_ROOT / ".run")
    if _int(env, "CITYOPS_DEMO_HISTORY_DAYS", 30) < 0:
        raise SettingsError("CITYOPS_DEMO_HISTORY_DAYS must be 0 (no history) or more")
    return Settings(
        run_dir=run_dir,
        database_url=env.get("CITYOPS_DATABASE_URL") or None,
        mqtt_url=env.get("CITYOPS_MQTT_URL") or None,
        pg_port=_int(env, "CITYOPS_PG_PORT", 55432),
        mqtt_port=_int(env, "CITYOPS_MQTT_PORT", 51883),
        mqtt_tls_port=_int(env, "CITYOPS_MQTT_TLS_PORT", 58883),
        mqtt_ca=env.get("CITYOPS_MQTT_CA") or None,
        mqtt_credentials=Path(env.get("CITYOPS_MQTT_CREDENTIALS") or run_dir / MQTT_CREDENTIALS),
        dash_host=env.get("CITYOPS_DASH_HOST", "127.0.0.1"),
        dash_port=_int(env, "CITYOPS_DASH_PORT", 8050),
        dash_workers=_positive(env, "CITYOPS_DASH_WORKERS", 2),
        dash_threads=_positive(env, "CITYOPS_DASH_THREADS", 8),
        probe_host=env.get("CITYOPS_PROBE_HOST", "127.0.0.1"),
        probe_port_base=_positive(env, "CITYOPS_PROBE_PORT_BASE", 9100),
        city=env.get("CITYOPS_CITY", "chenzhou"),
        timescale=timescale,
        secret_key=env.get("CITYOPS_SECRET_KEY", DEMO_SECRET_KEY),
        demo=env.get("CITYOPS_DEMO") == "1",
        session_idle_min=_positive(env, "CITYOPS_SESSION_IDLE_MIN", 30),
        session_max_hours=_positive(env, "CITYOPS_SESSION_MAX_HOURS", 12),
        language=language,
        near_boundary_m=_int(env, "CITYOPS_NEAR_BOUNDARY_M", 50),
        history_days=_int(env, "CITYOPS_DEMO_HISTORY_DAYS", 30),
        role_urls={role: env[f"CITYOPS_{role.upper()}_DATABASE_URL"] for role in DB_ROLES
                   if env.get(f"CITYOPS_{role.upper()}_DATABASE_URL")},
        dashboard_read_url=env.get("CITYOPS_DASHBOARD_READ_URL") or None,
    )
