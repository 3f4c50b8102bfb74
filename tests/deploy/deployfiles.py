"""Reading deploy/: compose.yaml with compose's own interpolation, .env files, systemd units, and the
CITYOPS_* names the code reads. Shared by the tests of this folder."""

from __future__ import annotations

import argparse
import importlib
import os
import re
import shlex
import sys
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml

from cityops.settings import DB_ROLES, PROJECT_ROOT

DEPLOY = PROJECT_ROOT / "deploy"
COMPOSE = DEPLOY / "compose.yaml"
ENV_EXAMPLE = DEPLOY / ".env.example"
SYSTEMD = DEPLOY / "systemd"
SYSTEMD_ENV = SYSTEMD / "env"  # the example files of /etc/cityops/
ETC = PurePosixPath("/etc/cityops")

# What every service of each kind is, in compose.yaml and as systemd units.
INGEST = ("ingest-1", "ingest-2")
ALERTS = ("alerts-1", "alerts-2")
CITYOPS_SERVICES = ("migrate", "broker-accounts", *INGEST, *ALERTS, "dashboard")
LONG_RUNNING_WITH_PROBE = (*INGEST, *ALERTS, "dashboard")


# --- .env files and compose's interpolation -------------------------------------------------------------

def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines (docker compose's .env and systemd's EnvironmentFile= both read these)."""
    found: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        assert sep and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key), f"{path}:{number}: not KEY=VALUE: {line!r}"
        found[key] = value
    return found


_VARIABLE = re.compile(r"\$\$|\$\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}"
                       r"|\$(?P<bare>[A-Za-z_][A-Za-z0-9_]*)")


class MissingVariable(KeyError):
    pass


def interpolate(text: str, env: dict[str, str]) -> str:
    """compose's ``$VAR``, ``${VAR}``, ``${VAR:-default}``, ``${VAR-default}``, ``${VAR:?error}``, ``$$``."""
    def one(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group("braced") or match.group("bare")
        op, arg = match.group("op"), match.group("arg") or ""
        value = env.get(name)
        empty = value is None or (value == "" and op is not None and op.startswith(":"))
        if op in (":-", "-") and empty:
            return arg
        if op in (":?", "?") and empty:
            raise MissingVariable(f"{name}: {arg}")
        if value is None:
            raise MissingVariable(name)  # compose would put "" and warn: a test wants it defined
        return value
    return _VARIABLE.sub(one, text)


def referenced(text: str) -> set[str]:
    """The variables a text interpolates (not ``$$``, which is a literal dollar)."""
    return {m.group("braced") or m.group("bare") for m in _VARIABLE.finditer(text) if m.group(0) != "$$"}


def _walk(value: Any, env: dict[str, str]) -> Any:
    if isinstance(value, str):
        return interpolate(value, env)
    if isinstance(value, list):
        return [_walk(v, env) for v in value]
    if isinstance(value, dict):
        return {k: _walk(v, env) for k, v in value.items()}
    return value


def compose_raw() -> dict[str, Any]:
    loaded = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))  # anchors and <<: merges resolved
    assert isinstance(loaded, dict)
    return loaded


def compose(env: dict[str, str] | None = None) -> dict[str, Any]:
    """compose.yaml as docker compose sees it with ``env`` (default: .env.example) as its .env."""
    return dict(_walk(compose_raw(), read_env_file(ENV_EXAMPLE) if env is None else env))


def service_env(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {str(k): str(v) for k, v in env.items()}


def mounts(service: dict[str, Any]) -> dict[str, str]:
    """Short-syntax volumes: target → source (a named volume or a path relative to deploy/)."""
    found = {}
    for entry in service.get("volumes") or []:
        source, target, *_ = entry.split(":")
        found[target] = source
    return found


# --- the names the code reads ---------------------------------------------------------------------------

_CITYOPS_NAME = re.compile(r"CITYOPS_[A-Z_]*[A-Z]")
ROLE_URL_PATTERN = 'f"CITYOPS_{role.upper()}_DATABASE_URL"'


def source_files() -> list[Path]:
    """Where the processes the deployment starts read their settings."""
    return sorted([*(PROJECT_ROOT / "cityops").glob("*.py"), PROJECT_ROOT / "ingest" / "__main__.py",
                   PROJECT_ROOT / "alerts" / "__main__.py", *(PROJECT_ROOT / "dashboard").glob("*.py")])


def names_the_code_reads() -> set[str]:
    names: set[str] = set()
    for path in source_files():
        names |= set(_CITYOPS_NAME.findall(path.read_text(encoding="utf-8")))
    # The runtime roles' URLs are made from the role names, not written out.
    settings_source = (PROJECT_ROOT / "cityops" / "settings.py").read_text(encoding="utf-8")
    assert ROLE_URL_PATTERN in settings_source, "the role URLs are no longer read as " + ROLE_URL_PATTERN
    names |= {f"CITYOPS_{role.upper()}_DATABASE_URL" for role in DB_ROLES}
    return names


# --- systemd units --------------------------------------------------------------------------------------

Unit = dict[str, list[tuple[str, str]]]


def parse_unit(text: str) -> Unit:
    """A unit file's sections and their (key, value) lines in order (keys repeat: EnvironmentFile=)."""
    sections: Unit = {}
    current: list[tuple[str, str]] | None = None
    pending = ""
    for raw in text.splitlines():
        line = pending + raw.strip()
        pending = ""
        if line.endswith("\\"):
            pending = line[:-1] + " "
            continue
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            assert line.endswith("]"), f"bad section line {line!r}"
            current = sections.setdefault(line[1:-1], [])
            continue
        key, sep, value = line.partition("=")
        assert sep and current is not None, f"not a key=value line in a section: {line!r}"
        current.append((key.strip(), value.strip()))
    return sections


def instance(text: str, number: int | None) -> str:
    """A template's text for instance ``number`` (the specifiers the units use: %i, %I, %%)."""
    if number is None:
        assert "%i" not in text and "%I" not in text
        return text
    return text.replace("%%", "\0").replace("%i", str(number)).replace("%I", str(number)).replace("\0", "%")


def values(unit: Unit, section: str, key: str) -> list[str]:
    return [v for k, v in unit.get(section, []) if k == key]


def one(unit: Unit, section: str, key: str) -> str:
    found = values(unit, section, key)
    assert len(found) == 1, f"{section}/{key}: {found}"
    return found[0]


def unit_env(unit: Unit) -> dict[str, str]:
    """The environment a unit's process gets: Environment= lines, then each EnvironmentFile= in order (a file
    overrides Environment=, as systemd does), the files of /etc/cityops/ read from deploy/systemd/env/."""
    env: dict[str, str] = {}
    for assignment in values(unit, "Service", "Environment"):
        for word in shlex.split(assignment):
            key, _, value = word.partition("=")
            env[key] = value
    for path in values(unit, "Service", "EnvironmentFile"):
        file = PurePosixPath(path.removeprefix("-"))
        assert file.parent == ETC, f"environment file outside {ETC}: {path}"
        env |= read_env_file(SYSTEMD_ENV / file.name)
    return env


# --- the code's own parsers and configs, in a deployment's environment -----------------------------------

def in_env(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    """This process's environment as the deployment gives it: its CITYOPS_* only (undone after the test)."""
    for key in [k for k in os.environ if k.startswith("CITYOPS_")]:
        monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)


def parser_in(module: str, env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> argparse.ArgumentParser:
    """``<module>.__main__._parser()`` made in ``env`` (its defaults read CITYOPS_* when it is made)."""
    in_env(monkeypatch, env)
    parser = importlib.import_module(f"{module}.__main__")._parser()
    assert isinstance(parser, argparse.ArgumentParser)
    return parser


def parse(parser: argparse.ArgumentParser, args: list[str]) -> argparse.Namespace:
    try:
        return parser.parse_args(args)
    except SystemExit as exc:  # argparse's way of refusing
        raise AssertionError(f"{parser.prog} refuses {args}") from exc


def gunicorn_conf(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Any:
    """dashboard/gunicorn_conf.py as gunicorn loads it in ``env`` (imported afresh, then forgotten)."""
    in_env(monkeypatch, env)
    multiproc = os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)  # the module sets it when unset
    sys.modules.pop("dashboard.gunicorn_conf", None)
    try:
        return importlib.import_module("dashboard.gunicorn_conf")
    finally:
        sys.modules.pop("dashboard.gunicorn_conf", None)
        os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
        if multiproc is not None:
            os.environ["PROMETHEUS_MULTIPROC_DIR"] = multiproc
