"""The demo's broker accounts: every device, township app and department system, the simulator's
gateways, and the services `up` starts.

Each registered device has an account of its own, as a real device would (``mosquitto_pub -u
<device id>`` works by hand). The simulator does not open a connection per device: it publishes
through one gateway account per district, which may publish the telemetry and status topics of
that district's devices and nothing else, and through each department system's own account.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from alerts.outbox import outbox_client_id
from ingest import broker_acl
from ingest.broker_acl import BrokerAccount, GatewayDevice
from ingest.topics import EventTopic, StatusTopic, TelemetryTopic, parse_topic
from simulator.catalogue import CatalogueDevice
from simulator.world import HOTLINE, POLICE
from store.departments import DEMO_DEPARTMENTS

# The demo runs the production topology: two ingest workers in one share group, an active and a standby
# alert engine (``python -m alerts --name <name>``), each logged in with an account of its own.
INGEST_WORKERS = ("cityops-ingest-1", "cityops-ingest-2")
ALERT_ENGINES = ("alerts-1", "alerts-2")
SIMULATOR = "cityops-simulator"  # reads the scenario orders
INJECT = "cityops-simulator-inject"  # sends them (an account is one connection: not the reader's)
SYSTEMS = (HOTLINE, POLICE)  # the department systems the simulator plays


def gateway_username(device: CatalogueDevice) -> str:
    return f"gw-{device.township_code[:6]}"  # the district's


def demo_accounts(city: str, devices: Sequence[CatalogueDevice], township_codes: Iterable[str]) -> list[BrokerAccount]:
    by_gateway: dict[str, list[GatewayDevice]] = {}
    for d in devices:
        by_gateway.setdefault(gateway_username(d), []).append(GatewayDevice(d.dept, d.device_type, d.device_id))
    return [
        *(broker_acl.device(city, d.device_id) for d in devices),
        *(broker_acl.gateway(city, name, members) for name, members in sorted(by_gateway.items())),
        *(broker_acl.township(city, code) for code in township_codes),
        # a department's app is a unit's app like a township's: dispatch/ and directive/ of its unit code
        *(broker_acl.township(city, d.unit) for d in DEMO_DEPARTMENTS),
        *(broker_acl.system(city, dept, name) for dept, name in SYSTEMS),
        *(broker_acl.ingest(city, worker) for worker in INGEST_WORKERS),
        *(broker_acl.alerts(city, outbox_client_id(engine)) for engine in ALERT_ENGINES),
        broker_acl.simulator(city, SIMULATOR), broker_acl.simulator(city, INJECT),
    ]


def publishing_accounts(devices: Iterable[CatalogueDevice]) -> list[str]:
    """The accounts the simulator publishes with: its gateways and the department systems."""
    return sorted({gateway_username(d) for d in devices} | {broker_acl.system_username(*s) for s in SYSTEMS})


def publisher_of(city: str, devices: Sequence[CatalogueDevice]) -> Callable[[str], str]:
    """topic → the account the simulator publishes it with."""
    gateway = {d.device_id: gateway_username(d) for d in devices}

    def account(topic: str) -> str:
        match parse_topic(topic, city):
            case TelemetryTopic(device_id=device_id) | StatusTopic(device_id=device_id):
                return gateway[device_id]
            case EventTopic(dept=dept, source_system=system):
                return broker_acl.system_username(dept, system)
        raise ValueError(f"the simulator has no account to publish {topic!r}")

    return account
