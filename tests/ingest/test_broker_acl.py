"""Broker accounts rendered into mosquitto's files (pure), and the password hash checked against mosquitto_passwd."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path

import pytest

from ingest import broker_acl
from ingest.broker_acl import AccountKind, AclError, GatewayDevice

CITY = "chenzhou"


def test_the_hash_is_what_mosquitto_passwd_writes(tmp_path: Path) -> None:
    path = tmp_path / "passwd"
    subprocess.run(["mosquitto_passwd", "-c", "-b", str(path), "gas-1", "s3cret-pw"], check=True, capture_output=True)
    username, theirs = path.read_text().strip().split(":", 1)
    _, seven, iterations, salt, _digest = theirs.split("$")
    assert (username, seven, int(iterations)) == ("gas-1", "7", broker_acl.PBKDF2_ITERATIONS)
    assert broker_acl.hash_password("s3cret-pw", base64.b64decode(salt), int(iterations)) == theirs
    assert broker_acl.hash_password("s3cret-pw", base64.b64decode(salt)) != broker_acl.hash_password("other",
                                                                                                   base64.b64decode(salt))
    ours = broker_acl.hash_password("s3cret-pw")
    assert len(base64.b64decode(ours.split("$")[3])) == len(base64.b64decode(salt))  # the same salt length


def test_every_device_is_one_password_line_and_the_acl_does_not_grow_with_them() -> None:
    """How fast 100,000 are hashed and rendered is bench/bench_broker.py's figure, not a timed test's."""
    for n in (10, 2_000):
        accounts = [(broker_acl.device(CITY, f"gas-{i}"), broker_acl.hash_password(broker_acl.new_password()))
                    for i in range(n)]
        files = broker_acl.render(CITY, accounts)
        assert files.passwords.count("\n") == n
        assert files.acl.count("\n") < 10  # two pattern lines serve every device, however many


def test_the_acl_grants_each_kind_its_topics_and_denies_the_device_patterns_to_the_rest() -> None:
    gw = broker_acl.gateway(CITY, "gw-431002", [GatewayDevice("yj", "gas_detector", "gas-1")])
    accounts = [broker_acl.device(CITY, "gas-1"), gw, broker_acl.township(CITY, "431002001"),
                broker_acl.system(CITY, "ga", "police110"), broker_acl.ingest(CITY, "ingest-1"),
                broker_acl.alerts(CITY, "alerts-1"), broker_acl.simulator(CITY, "sim")]
    acl = broker_acl.render(CITY, [(a, broker_acl.hash_password("x")) for a in accounts]).acl
    assert acl.splitlines()[1:3] == ["pattern write city/chenzhou/telemetry/+/+/%u",
                                     "pattern write city/chenzhou/status/%u"]
    assert "user gas-1" not in acl  # the patterns grant it
    blocks = {b.splitlines()[0]: b.splitlines()[1:] for b in acl.split("\n\n")[1:] if b.strip()}
    assert blocks["user town-431002001"] == [
        "topic deny city/chenzhou/telemetry/+/+/town-431002001", "topic deny city/chenzhou/status/town-431002001",
        "topic read city/chenzhou/dispatch/431002001", "topic read city/chenzhou/directive/431002001"]
    assert blocks["user gw-431002"][2:] == ["topic write city/chenzhou/gateway/gw-431002",  # its batches
                                            "topic write city/chenzhou/telemetry/yj/gas_detector/gas-1",
                                            "topic write city/chenzhou/status/gas-1"]
    assert blocks["user sys-ga-police110"][2:] == ["topic write city/chenzhou/event/ga/police110"]
    assert blocks["user ingest-1"][2:] == [
        "topic write cityops/ingest/+/stopping", "topic read city/chenzhou/telemetry/+/+/+",
        "topic read city/chenzhou/event/+/+", "topic read city/chenzhou/status/+",
        "topic read city/chenzhou/gateway/+"]
    assert blocks["user alerts-1"][2:] == ["topic write city/chenzhou/dispatch/+",
                                           "topic write city/chenzhou/directive/+",
                                           "topic write city/chenzhou/escalation/+"]
    assert blocks["user sim"][2:] == ["topic readwrite city/chenzhou/sim/control"]


@pytest.mark.parametrize("username", ["", "a b", "a:b", "a/b", "a+b", "a#", "x\ntopic write #", "é", "a" * 65,
                                      "gas-1\n"])
def test_a_name_the_files_cannot_hold_is_refused(username: str) -> None:
    with pytest.raises(AclError, match="user name"):
        broker_acl.BrokerAccount(username, AccountKind.TOWNSHIP)


@pytest.mark.parametrize("topic", ["city/a b", "city/#/x", "city/a+/b", "city\n/x", "city/x\n", "city//x"])
def test_a_topic_the_acl_cannot_hold_is_refused(topic: str) -> None:
    with pytest.raises(AclError, match="topic filter"):
        broker_acl.BrokerAccount("ok", AccountKind.BRIDGE, publish=(topic,))


def test_a_device_row_with_other_grants_or_a_name_twice_is_refused() -> None:
    h = broker_acl.hash_password("x")
    widened = broker_acl.BrokerAccount("gas-1", AccountKind.DEVICE, publish=("city/chenzhou/#",))
    with pytest.raises(AclError, match="device pattern"):
        broker_acl.render(CITY, [(widened, h)])
    with pytest.raises(AclError, match="twice"):
        broker_acl.render(CITY, [(broker_acl.device(CITY, "gas-1"), h)] * 2)
    with pytest.raises(AclError, match=r"\$7\$"):
        broker_acl.render(CITY, [(broker_acl.device(CITY, "gas-1"), "plain")])
