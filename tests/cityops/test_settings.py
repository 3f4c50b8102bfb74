"""Settings come from CITYOPS_* variables; unset means the embedded defaults; bad values are refused at start."""

from __future__ import annotations

from pathlib import Path

import pytest

from cityops.credentials import PG_CREDENTIALS, DbCredentials
from cityops.settings import MqttAddress, SettingsError, load


def test_unset_means_embedded_defaults(tmp_path: Path) -> None:
    cfg = load({"CITYOPS_RUN_DIR": str(tmp_path)})
    assert cfg.embedded_db and cfg.embedded_broker
    # Every database client has a password: the embedded server's are generated into the run folder.
    passwords = DbCredentials(tmp_path / PG_CREDENTIALS)
    assert cfg.dsn() == f"postgresql://cityops:{passwords.password('cityops')}@127.0.0.1:55432/cityops"
    assert cfg.dsn("dashboard") == (f"postgresql://cityops_dashboard:{passwords.password('cityops_dashboard')}"
                                    "@127.0.0.1:55432/cityops")
    assert (tmp_path / PG_CREDENTIALS).stat().st_mode & 0o077 == 0  # readable by its owner only
    assert cfg.mqtt() == MqttAddress("127.0.0.1", 51883)
    assert (cfg.city, cfg.language, cfg.timescale, cfg.near_boundary_m) == ("chenzhou", "zh", "auto", 50)


def test_production_settings_are_read() -> None:
    cfg = load({"CITYOPS_DATABASE_URL": "postgresql://ops@db.example:5432/city",
                "CITYOPS_MQTT_URL": "mqtt://ingest:secret@broker.example:1883", "CITYOPS_NEAR_BOUNDARY_M": "30",
                "CITYOPS_TIMESCALE": "require", "CITYOPS_LANG": "en"})
    assert not cfg.embedded_db and not cfg.embedded_broker
    assert cfg.dsn() == "postgresql://ops@db.example:5432/city"
    assert cfg.dsn("ingest") == "postgresql://ops@db.example:5432/city"  # no role URL given: the one URL
    with_roles = load({"CITYOPS_DATABASE_URL": "postgresql://ops@db.example/city",
                       "CITYOPS_DASHBOARD_DATABASE_URL": "postgresql://web:pw@replica.example/city"})
    assert with_roles.dsn("dashboard") == "postgresql://web:pw@replica.example/city"
    with pytest.raises(SettingsError, match="no database role"):
        with_roles.dsn("dashbaord")
    assert cfg.mqtt() == MqttAddress("broker.example", 1883, "ingest", "secret")
    assert (cfg.near_boundary_m, cfg.timescale, cfg.language) == (30, "require", "en")


@pytest.mark.parametrize(("name", "value"), [
    ("CITYOPS_NEAR_BOUNDARY_M", "fifty"), ("CITYOPS_PG_PORT", "5432x"), ("CITYOPS_TIMESCALE", "maybe"),
    ("CITYOPS_LANG", "fr"), ("CITYOPS_MQTT_URL", "http://broker:1883"), ("CITYOPS_SESSION_IDLE_MIN", "0"),
    ("CITYOPS_SESSION_MAX_HOURS", "-1"),
])
def test_a_bad_value_is_refused_naming_the_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        load({name: value})
