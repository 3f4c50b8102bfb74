"""Broker accounts as data, and mosquitto's password and ACL files rendered from them; pure, no I/O.

An account's user name is also its MQTT client id: the embedded broker sets
``use_username_as_clientid``, so no account can take over another's persistent session
(mosquitto otherwise hands a session to whoever connects with its client id, and drops the
queued messages the newcomer may not read). What each kind may do:

- device: publish ``telemetry/+/+/<its id>`` and ``status/<its id>``; nothing else.
- gateway: publish the telemetry and status topics of the devices listed for it, and its own batch topic
  ``gateway/<its name>`` (ingest takes from it only the devices registered behind it: ``devices.gateway``).
- bridge: publish any telemetry, event and status topic (a trusted platform relaying many sources).
- system: publish ``event/<dept>/<system>``.
- township: read ``dispatch/<code>`` and ``directive/<code>``.
- ingest: read what ingest subscribes to; publish its own stop probe.
- alerts: publish ``dispatch/+``, ``directive/+`` and ``escalation/+`` (the outbox).
- simulator: read and write ``sim/control``.

Devices are granted by two ``pattern`` lines with ``%u`` rather than a block each: mosquitto
2.0 looks a user up in a linked list for every ACL line it reads, so loading grows with the
square of the users (50,000 user blocks: 41 s, the broker blocked), while patterns cost nothing
per device. A pattern cannot
split a user name into dept and type, so the broker pins a device to its id (the last segment)
and leaves the dept/type segments to ingest. The patterns apply to every user: each other
account gets the same two topics denied in its block.

mosquitto's acl_file never checks SUBSCRIBE (the SUBACK always grants); it checks every message
as it is delivered, against the message's topic, so ``$share/<group>/...`` needs no rule of its own.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from ingest.topics import subscriptions

# mosquitto's own default for $7$ (mosquitto_passwd): the passwords are random 144-bit tokens,
# so stretching adds nothing against guessing and every connect pays for it.
PBKDF2_ITERATIONS = 101
_SALT_BYTES = 12  # as mosquitto_passwd
_USERNAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")  # a topic segment too: no '/', '+', '#', ':' or space
_FILTER_SEGMENT = re.compile(r"[A-Za-z0-9_.:-]{1,64}|\+|#")


class AclError(ValueError):
    """An account cannot be written into mosquitto's files; the message names it."""


class AccountKind(StrEnum):
    DEVICE = "device"
    GATEWAY = "gateway"
    BRIDGE = "bridge"
    SYSTEM = "system"
    TOWNSHIP = "township"
    INGEST = "ingest"
    ALERTS = "alerts"
    SIMULATOR = "simulator"


@dataclass(frozen=True, slots=True)
class BrokerAccount:
    username: str
    kind: AccountKind
    publish: tuple[str, ...] = ()  # topic filters it may publish on
    subscribe: tuple[str, ...] = ()  # topic filters whose messages it may receive

    def __post_init__(self) -> None:
        check_username(self.username)
        for topic in (*self.publish, *self.subscribe):
            check_filter(topic, self.username)


@dataclass(frozen=True, slots=True)
class BrokerFiles:
    passwords: str
    acl: str


@dataclass(frozen=True, slots=True)
class GatewayDevice:
    dept: str
    device_type: str
    device_id: str


def check_username(username: str) -> str:
    if not _USERNAME.fullmatch(username):  # fullmatch: a trailing newline would start a line of its own
        raise AclError(f"broker user name {username!r} must be 1-64 of A-Z a-z 0-9 _ . - (it is also a topic"
                       " segment and the client id)")
    return username


def check_filter(topic: str, username: str) -> None:
    segments = topic.split("/")
    if not all(_FILTER_SEGMENT.fullmatch(s) for s in segments) or "#" in segments[:-1]:
        raise AclError(f"account {username!r}: {topic!r} is not a topic filter the ACL can hold")


# --- what each kind may do ----------------------------------------------------------------------------

def _device_topics(city: str, device_id: str) -> tuple[str, ...]:
    return f"city/{city}/telemetry/+/+/{device_id}", f"city/{city}/status/{device_id}"


def device(city: str, device_id: str) -> BrokerAccount:
    return BrokerAccount(device_id, AccountKind.DEVICE, publish=_device_topics(city, device_id))


def gateway_topic(city: str, username: str) -> str:
    return f"city/{city}/gateway/{username}"


def gateway(city: str, username: str, devices: Iterable[GatewayDevice] = ()) -> BrokerAccount:
    topics = [gateway_topic(city, username)]
    for d in devices:
        topics += [f"city/{city}/telemetry/{d.dept}/{d.device_type}/{d.device_id}", f"city/{city}/status/{d.device_id}"]
    return BrokerAccount(username, AccountKind.GATEWAY, publish=tuple(topics))


def bridge(city: str, username: str) -> BrokerAccount:
    return BrokerAccount(username, AccountKind.BRIDGE, publish=tuple(subscriptions(city, None)))


def system_username(dept: str, system: str) -> str:
    return f"sys-{dept}-{system}"


def system(city: str, dept: str, system: str) -> BrokerAccount:
    return BrokerAccount(system_username(dept, system), AccountKind.SYSTEM,
                         publish=(f"city/{city}/event/{dept}/{system}",))


def township_broker_user(code: str) -> str:
    return f"town-{code}"


def township(city: str, code: str) -> BrokerAccount:
    return BrokerAccount(township_broker_user(code), AccountKind.TOWNSHIP,
                   subscribe=(f"city/{city}/dispatch/{code}", f"city/{city}/directive/{code}"))


def ingest_probe_topic(client_id: str) -> str:
    """Where an ingest worker publishes its QoS-1 round trip before it closes (nobody subscribes)."""
    return f"cityops/ingest/{client_id}/stopping"


def ingest(city: str, username: str) -> BrokerAccount:
    return BrokerAccount(username, AccountKind.INGEST, publish=(ingest_probe_topic("+"),),
                   subscribe=tuple(subscriptions(city, None)))


def alerts(city: str, username: str) -> BrokerAccount:
    return BrokerAccount(username, AccountKind.ALERTS, publish=(f"city/{city}/dispatch/+", f"city/{city}/directive/+",
                                                                 f"city/{city}/escalation/+"))


def simulator_control_topic(city: str) -> str:
    return f"city/{city}/sim/control"


def simulator(city: str, username: str) -> BrokerAccount:
    control = simulator_control_topic(city)
    return BrokerAccount(username, AccountKind.SIMULATOR, publish=(control,), subscribe=(control,))


# --- passwords ----------------------------------------------------------------------------------------

def new_password() -> str:
    return secrets.token_urlsafe(18)  # 144 bits, URL-safe: it may sit in mqtt://user:password@host


def hash_password(password: str, salt: bytes | None = None, iterations: int = PBKDF2_ITERATIONS) -> str:
    """mosquitto's ``$7$`` form: PBKDF2-HMAC-SHA512, ``$7$<iterations>$<base64 salt>$<base64 hash>``."""
    salt = secrets.token_bytes(_SALT_BYTES) if salt is None else salt
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations)
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


# --- mosquitto's files --------------------------------------------------------------------------------

def render(city: str, accounts: Sequence[tuple[BrokerAccount, str]]) -> BrokerFiles:
    """The password file and ACL file for these (account, password hash) pairs."""
    seen: set[str] = set()
    passwords: list[str] = []
    acl = ["# Written by cityops from the broker_accounts table: edits here are lost at the next rebuild.",
           *(f"pattern write {t}" for t in _device_topics(city, "%u")), ""]
    for account, password_hash in accounts:
        if account.username in seen:
            raise AclError(f"broker user name {account.username!r} appears twice")
        seen.add(account.username)
        if not password_hash.startswith("$7$") or any(c in password_hash for c in ": \n"):
            raise AclError(f"account {account.username!r}: password hash is not mosquitto's $7$ form")
        passwords.append(f"{account.username}:{password_hash}")
        acl += _acl_block(city, account)
    return BrokerFiles("\n".join(passwords) + "\n" if passwords else "", "\n".join(acl) + "\n")


def _acl_block(city: str, account: BrokerAccount) -> list[str]:
    if account.kind is AccountKind.DEVICE:
        if account.publish != _device_topics(city, account.username) or account.subscribe:
            raise AclError(f"device account {account.username!r} holds grants the device pattern does not give: "
                           f"{account.publish + account.subscribe}")
        return []  # the two pattern lines grant it
    lines = [f"user {account.username}", *(f"topic deny {t}" for t in _device_topics(city, account.username))]
    for topic in dict.fromkeys((*account.publish, *account.subscribe)):
        access = {(True, True): "readwrite", (True, False): "write", (False, True): "read"}[
            (topic in account.publish, topic in account.subscribe)]
        lines.append(f"topic {access} {topic}")
    return [*lines, ""]
