"""A real mosquitto per test session, started with the project's own LocalMosquitto."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from cityops.localserver import LocalMosquitto, free_port


@pytest.fixture(scope="session")
def broker() -> Iterator[LocalMosquitto]:
    folder = Path(tempfile.mkdtemp(prefix="cityops-mqtt-"))
    server = LocalMosquitto(folder, free_port())
    server.start()  # a broker that does not start fails the fixture, never skips
    yield server
    server.stop()
