"""The embedded broker's TLS listener: a client that verifies it against the project's CA connects; against any
other CA the handshake fails before a password is sent."""

from __future__ import annotations

import gc
import ssl
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cityops.localserver import LocalMosquitto
from cityops.localtls import make_ca, pem
from cityops.settings import load
from tests.fix_mqtt import Peer, login


def test_a_client_verifies_the_broker_against_the_project_ca(broker: LocalMosquitto) -> None:
    assert broker.tls_port is not None
    plain = login(broker.port, "tls-test")
    cfg = load({"CITYOPS_MQTT_URL": f"mqtts://{plain.username}:{plain.password}@127.0.0.1:{broker.tls_port}",
                "CITYOPS_MQTT_CA": str(broker.tls.ca_cert)})
    address = cfg.mqtt()
    assert (address.tls, address.port, address.ca_file) == (True, broker.tls_port, str(broker.tls.ca_cert))
    peer = Peer(address)
    try:
        assert peer.publish("city/chenzhou/status/tls-probe", "online") == "Success"
        assert peer.client.socket() is not None and isinstance(peer.client.socket(), ssl.SSLSocket)
    finally:
        peer.close()


def test_a_broker_certificate_from_another_ca_is_refused(broker: LocalMosquitto, tmp_path: Path) -> None:
    assert broker.tls_port is not None
    other, _key = make_ca("not the cityops CA", datetime.now(UTC))
    (tmp_path / "other-ca.crt").write_bytes(pem(other))
    address = replace(login(broker.port, "tls-test"), port=broker.tls_port, tls=True,
                      ca_file=str(tmp_path / "other-ca.crt"))
    # paho 2.2 leaves the socket of a failed handshake open (_ssl_wrap_socket does not close it), and
    # Python warns when it is collected: expected here.
    with pytest.warns(ResourceWarning, match="unclosed"):
        with pytest.raises(ssl.SSLCertVerificationError, match="certificate verify failed"):
            Peer(address)
        gc.collect()
